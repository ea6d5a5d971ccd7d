"""Crypto adapters for mail: a Protocol per scheme (base.py), a real implementation, a fake."""
