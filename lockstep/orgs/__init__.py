"""Organisations, their members and OpenPGP keys."""
