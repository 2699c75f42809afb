"""The command line: one parser tree, one error path, and the commands that install things into Claude Code."""
