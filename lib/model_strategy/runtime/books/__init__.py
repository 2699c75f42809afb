"""The ledger (the user's financial record) and what writes to it: the record type, transcript usage, the
recorder and retention."""
