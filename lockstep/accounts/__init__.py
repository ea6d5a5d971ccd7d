"""People: users who log in by e-mail address."""
