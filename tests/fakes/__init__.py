"""Stand-ins for external services that tests run for real (on 127.0.0.1)."""
