"""Embargo rules: pure decisions over dates and routes (no ORM, no I/O, no wall clock)."""
