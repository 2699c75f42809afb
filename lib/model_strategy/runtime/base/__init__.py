"""The ground the hook runtime stands on: the one clock, the one writer, JSON, the data home, the shared
vocabularies and Claude Code's payloads."""
