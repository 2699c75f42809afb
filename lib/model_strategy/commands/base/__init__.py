"""What every command shares: counts in words, safe output cells and the one error path."""
