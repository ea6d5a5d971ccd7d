"""Production settings: DEBUG off, strict transport security when served over HTTPS.

`LOCKSTEP_HTTPS` (default on) says the instance is reached over TLS, usually through a
reverse proxy that sets `X-Forwarded-Proto`. `lockstep serve` on a loopback address turns
it off, because a browser on the same machine talks plain HTTP to 127.0.0.1.
"""

from __future__ import annotations

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_int

# A second factor for everyone who can see embargoed cases (off only when told).
LOCKSTEP_REQUIRE_SECOND_FACTOR = env_bool("LOCKSTEP_REQUIRE_SECOND_FACTOR", default=True)

HTTPS = env_bool("LOCKSTEP_HTTPS", default=True)

if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("LOCKSTEP_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # local probes speak plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("LOCKSTEP_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("LOCKSTEP_HSTS_PRELOAD", default=True)
