"""Spending limits that act inside the hooks: budgets per period and subscription windows."""
