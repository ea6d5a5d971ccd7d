"""The instance as a whole: backup and restore, and the list key's guard at process start."""
