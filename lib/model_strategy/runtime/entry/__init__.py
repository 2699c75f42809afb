"""What Claude Code runs: the hook handlers, the status line, slash-command arguments and the venv bootstrap."""
