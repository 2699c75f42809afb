"""The commands: strategy, reports and rendering (pydantic, rich, genai-prices allowed)."""
