"""model-strategy: model routing, usage accounting and budgets for Claude Code subagents.

The hook hot path imports only the standard library (see ``hooks.py``); pydantic, rich and
genai-prices are imported by commands, validation and tests.
"""

__version__ = "0.1.0"
SCHEMA_VERSION = 2  # of ledger records (runtime/books/records.py); 1 is read and upgraded
