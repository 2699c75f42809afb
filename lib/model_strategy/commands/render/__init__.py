"""Rich rendering of report data (every name escaped; fits the terminal's width)."""
