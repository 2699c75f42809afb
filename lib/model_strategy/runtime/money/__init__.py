"""What a request costs: list prices per model (rate cards) and the pricing of token counts."""
