"""The hook runtime: what runs on every spawn.  Standard library only (see ``hooks.py``)."""
