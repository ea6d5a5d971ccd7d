"""The only write path for cases, split by subject."""
