"""The audit log: append-only, hash-chained, written by every `do_*` action."""
