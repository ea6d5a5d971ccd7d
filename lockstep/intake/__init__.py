"""Intake: reports arrive, are stored first, and are triaged."""
