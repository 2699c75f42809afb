"""The user's configuration: shipped defaults < global file < project file, validated against one table of rules."""
