"""Choosing the model for a spawn: the static rule, the learned policy, and Workflow scripts' agent() calls."""
