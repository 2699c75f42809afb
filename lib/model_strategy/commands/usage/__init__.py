"""Usage data from the ledger: daily roll-ups, history import, analytics and the usage reports' data (no rendering)."""
