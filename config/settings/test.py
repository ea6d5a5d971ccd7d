"""Test settings: the same database choice as production (SQLite, or PostgreSQL by URL)."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403

DEBUG = False
# Tests create many users; argon2's deliberate cost would dominate the suite's run time.
# tests/unit/accounts checks that base settings hash with argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOCKSTEP_OPENPGP_BACKEND = "lockstep.mailgw.crypto.openpgp.SequoiaOpenPGP"
# Tests make list keys wherever they point LOCKSTEP_LIST_KEY_FILE, in any thread, without asking
# the database; tests/unit/instance/test_list_key_guard.py turns the guard on.
LOCKSTEP_LIST_KEY_GUARD = False
# Static files come straight from the apps (no collectstatic before tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
LOCKSTEP_BASE_URL = "https://lockstep.example.org"
