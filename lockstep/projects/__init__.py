"""Upstream projects: their packages and who redistributes them."""
