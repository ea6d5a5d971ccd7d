"""Accounts, sign-in, second factors and sessions (django-allauth), read by `base`.

Lockstep signs people in with django-allauth's `account` app (e-mail and password, password
change and reset by mail, rate limits), its `mfa` app (TOTP, WebAuthn passkeys and security
keys, recovery codes), its `usersessions` app (the list of one's sessions) and its
`socialaccount` app (single sign-on by OpenID Connect, for organisations that want it). Every
change still goes through Lockstep's `do_*` actions and the audit chain: see
lockstep/signin/ (the adapters, the audit signals, the second-factor rule, sso.py).
"""

from __future__ import annotations

from config.settings.env import env_bool, env_int, env_str
from config.settings.oidc import oidc_apps

AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "lockstep.signin.adapters.AccountAdapter"
MFA_ADAPTER = "lockstep.signin.adapters.MFAAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Accounts are made by operators and by invitations (whose link proves the address), never
# by strangers signing up: the adapter keeps signup closed, so no address needs verifying.
ACCOUNT_EMAIL_VERIFICATION = "none"
# A password reset for an unknown address sends nothing (nobody is mailed by a stranger), and
# the page answers the same whether or not the address has an account.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this session stays; every other one ends
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_EMAIL_NOTIFICATIONS = True  # "your password was changed", "a key was added", …
# Failed sign-ins: 10 a minute from one client address, 5 in 5 minutes for one account;
# then the form refuses for the rest of the window (Lockstep answers 429 with Retry-After and
# mails the account's owner once an hour). Counters live in the database cache (below), so
# every web process shares them.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("LOCKSTEP_LOGIN_FAILED_LIMIT", "10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    "signup": "20/m/ip",
}
# Re-authentication (a second factor within this many seconds) guards the weightiest acts.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("LOCKSTEP_REAUTH_SECONDS", default=600)

MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = env_str("LOCKSTEP_INSTANCE_NAME", "Lockstep")
MFA_RECOVERY_CODE_COUNT = 10
# WebAuthn needs a secure origin; a browser on the same machine reaching http://localhost is
# one, and tests turn this on for it.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("LOCKSTEP_WEBAUTHN_INSECURE_ORIGIN", default=False)

# A second factor is required of every account that can see a case under embargo (and of
# operators) when this is on; `config.settings.prod` turns it on unless told otherwise.
LOCKSTEP_REQUIRE_SECOND_FACTOR = env_bool("LOCKSTEP_REQUIRE_SECOND_FACTOR", default=False)

# Single sign-on (docs/signin.md, "Single sign-on"): OpenID Connect providers from
# LOCKSTEP_OIDC_PROVIDERS (config/settings/oidc.py), none by default. A provider signs in only
# an existing, active account whose address is the provider's *verified* address, connecting
# the provider's identity to it at the first sign-in (lockstep.signin.sso); nobody signs up.
SOCIALACCOUNT_ADAPTER = "lockstep.signin.adapters.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"APPS": oidc_apps(env_str("LOCKSTEP_OIDC_PROVIDERS", ""))},
}
SOCIALACCOUNT_AUTO_SIGNUP = False
# allauth's own matching by e-mail stays off: Lockstep matches in its adapter, and allauth's
# would also wipe the password of every account without a verified EmailAddress row.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_STORE_TOKENS = False  # the provider's tokens are used once, never kept
SOCIALACCOUNT_LOGIN_ON_GET = False  # a sign-in starts with a POST (CSRF-checked), not a link

USERSESSIONS_TRACK_ACTIVITY = False  # a session is recorded at sign-in; no write per request
# Sessions: ended after this long without a request, and this long after sign-in whatever
# happens (lockstep.signin.middleware.SessionLifetimeMiddleware).
LOCKSTEP_SESSION_IDLE_SECONDS = env_int("LOCKSTEP_SESSION_IDLE_SECONDS", default=12 * 3600)
LOCKSTEP_SESSION_MAX_SECONDS = env_int("LOCKSTEP_SESSION_MAX_SECONDS", default=7 * 24 * 3600)
SESSION_COOKIE_AGE = LOCKSTEP_SESSION_MAX_SECONDS
# Mail to the owner of an account whose sign-ins are being refused, at most this often.
LOCKSTEP_LOCKOUT_MAIL_SECONDS = 3600

# allauth counts rate limits in Django's cache: a database table, shared by every process
# (created by the ops app's migration 'cache table').
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "lockstep_cache",
    }
}
