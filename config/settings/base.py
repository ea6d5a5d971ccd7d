"""Settings shared by every mode. Values come from the environment (see README, "Configuration")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from config.settings.accounts import *  # noqa: F403
from config.settings.env import (
    data_dir,
    env_bool,
    env_int,
    env_list,
    env_str,
    secret_key,
    secret_key_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = data_dir()

SECRET_KEY = secret_key(DATA_DIR)
# Where a generated SECRET_KEY is kept (`lockstep backup` takes it along).
LOCKSTEP_SECRET_KEY_FILE = str(secret_key_file(DATA_DIR))
DEBUG = env_bool("LOCKSTEP_DEBUG", default=False)
ALLOWED_HOSTS = env_list("LOCKSTEP_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("LOCKSTEP_CSRF_TRUSTED_ORIGINS", [])
LOCKSTEP_BASE_URL = env_str("LOCKSTEP_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
LOCKSTEP_INSTANCE_NAME = env_str("LOCKSTEP_INSTANCE_NAME", "Lockstep")
LOCKSTEP_OPENPGP_BACKEND = env_str(
    "LOCKSTEP_OPENPGP_BACKEND", "lockstep.mailgw.crypto.openpgp.SequoiaOpenPGP"
)
# A worker is reported as alive while its heartbeat is younger than this many seconds.
LOCKSTEP_WORKER_STALE_SECONDS = env_int("LOCKSTEP_WORKER_STALE_SECONDS", default=30)
LOCKSTEP_WORKER_HEARTBEAT_SECONDS = env_int("LOCKSTEP_WORKER_HEARTBEAT_SECONDS", default=5)
# How many reverse proxies stand in front of Lockstep; each appends to X-Forwarded-For.
# 0 (the default) ignores that header: the client is the connection's peer.
LOCKSTEP_TRUSTED_PROXIES = env_int("LOCKSTEP_TRUSTED_PROXIES", default=0)
# Telling the operator (/healthz, /metrics; lockstep.ops.resources, lockstep.monitoring).
# The data folder's disk is "low" under this share of the disk or this many bytes free.
LOCKSTEP_DISK_LOW_PERCENT = float(env_str("LOCKSTEP_DISK_LOW_PERCENT", "5"))
LOCKSTEP_DISK_LOW_BYTES = env_int("LOCKSTEP_DISK_LOW_BYTES", default=1024**3)
# Mail is "failing" once delivery attempts have failed, with nothing sent since, this long.
LOCKSTEP_MAIL_FAILING_SECONDS = env_int("LOCKSTEP_MAIL_FAILING_SECONDS", default=300)
# /metrics answers loopback clients without a token; others need `Bearer <this>` (unset: 404).
LOCKSTEP_METRICS_TOKEN = env_str("LOCKSTEP_METRICS_TOKEN", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "lockstep.accounts",
    "lockstep.audit",
    "lockstep.orgs",
    "lockstep.projects",
    "lockstep.channels",
    "lockstep.cases",
    "lockstep.intake",
    "lockstep.cve",
    "lockstep.advisories",
    "lockstep.mailgw",
    "lockstep.ops",
    "lockstep.demo",
    "lockstep.web",
    "lockstep.signin",
    # After Lockstep's apps, so that Lockstep's templates for them win.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    # Single sign-on (OpenID Connect). Always installed, so that its tables always exist; it
    # signs nobody in until LOCKSTEP_OIDC_PROVIDERS names a provider.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "lockstep.monitoring.metrics.RequestLatencyMiddleware",  # first: it times all the rest
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy below, on every answer
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "lockstep.monitoring.reach.BaseUrlCheckMiddleware",  # warns if links say another address
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "lockstep.signin.middleware.SessionLifetimeMiddleware",
    "lockstep.signin.middleware.SecondFactorRequiredMiddleware",
    "lockstep.signin.middleware.PrivateAnswersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lockstep.web.context.instance",
                "lockstep.web.context.capabilities",
            ],
        },
    },
]


def database_config() -> dict[str, Any]:
    """PostgreSQL (or any URL) from `LOCKSTEP_DATABASE_URL`, else SQLite in the data folder."""
    url = env_str("LOCKSTEP_DATABASE_URL")
    if url:
        # Persistent connections are checked before their first use in each request (and
        # after every database error, Django drops them), so a request after a database
        # restart reconnects. A connection attempt gives up after 5 s unless the URL says
        # otherwise (`?connect_timeout=`): a worker waiting out an outage retries instead.
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        )
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "lockstep.sqlite3"),
        # Keep a connection per thread for a minute: opening one (and its PRAGMAs) costs about
        # a millisecond, a large share of a fast page such as a search.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # Web and worker processes share the file: WAL lets readers run beside the
            # writer, IMMEDIATE takes the write lock at BEGIN so writers queue instead of
            # failing half-way, and the timeout is how long one waits for that lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        },
    }


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Two queues: "publication" (a date falling due, CVE records, the catch-up sweep) has a lane of
# its own in every worker process, so it never waits behind "default" (mail above all);
# lockstep.ops.lanes.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "publication"],
    }
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_str("LOCKSTEP_STATIC_ROOT", str(DATA_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Attachments are kept in the database; should anything use Django's file storage, it writes
# into the data folder, owner-only whatever the umask (lockstep.ops.datadir). Collected static
# files get the same modes: WhiteNoise reads them as their owner.
MEDIA_ROOT = str(DATA_DIR / "files")
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles and images from Lockstep itself only;
# no inline script without the page's nonce (`{{ request.csp_nonce }}`), no inline style or
# event handler (buttons that ask first carry `data-confirm`, read by web/lockstep.js), no
# plugins, no framing, forms post to Lockstep only. tests/web/test_security_headers.py and
# tests/browser/ (no violation in a real browser) hold it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Django names the path of a failed request ("Not Found: /track/…/"): no tracking token
    # is written to the log (lockstep.core.redaction; gunicorn's access log: config/gunicorn.py).
    "filters": {"tracking_tokens": {"()": "lockstep.core.redaction.RedactTrackingTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["tracking_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOCKSTEP_LOG_LEVEL", "INFO")},
}

# Intake and case limits.
LOCKSTEP_MAX_ATTACHMENT_BYTES = env_int("LOCKSTEP_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
LOCKSTEP_MAX_ATTACHMENTS = env_int("LOCKSTEP_MAX_ATTACHMENTS", default=10)
LOCKSTEP_REPORT_RATE = env_int("LOCKSTEP_REPORT_RATE", default=10)  # reports per address per hour
# An invitation to join an organisation works for this many days (lockstep.orgs.invitations).
LOCKSTEP_INVITATION_DAYS = env_int("LOCKSTEP_INVITATION_DAYS", default=7)
# Reports by mail, per hour: from one sender domain, from one client address (not counted for
# loopback clients: behind Postfix every message comes from 127.0.0.1), and on the whole
# instance; acknowledgements (which go to an address anyone can put in From), per recipient
# address and per recipient domain.
LOCKSTEP_MAIL_REPORTS_PER_DOMAIN = env_int("LOCKSTEP_MAIL_REPORTS_PER_DOMAIN", default=30)
LOCKSTEP_MAIL_REPORTS_PER_CLIENT = env_int("LOCKSTEP_MAIL_REPORTS_PER_CLIENT", default=30)
LOCKSTEP_MAIL_REPORTS_PER_HOUR = env_int("LOCKSTEP_MAIL_REPORTS_PER_HOUR", default=200)
LOCKSTEP_MAIL_ACKS_PER_ADDRESS = env_int("LOCKSTEP_MAIL_ACKS_PER_ADDRESS", default=5)
LOCKSTEP_MAIL_ACKS_PER_DOMAIN = env_int("LOCKSTEP_MAIL_ACKS_PER_DOMAIN", default=20)
DATA_UPLOAD_MAX_MEMORY_SIZE = LOCKSTEP_MAX_ATTACHMENT_BYTES * 2
FILE_UPLOAD_MAX_MEMORY_SIZE = LOCKSTEP_MAX_ATTACHMENT_BYTES

# security.txt (RFC 9116) for the instance: contacts are mailto:/https: URIs or addresses.
LOCKSTEP_SECURITY_CONTACTS = env_list("LOCKSTEP_SECURITY_CONTACTS", [])
LOCKSTEP_SECURITY_ENCRYPTION = env_str("LOCKSTEP_SECURITY_ENCRYPTION", "")
LOCKSTEP_SECURITY_POLICY = env_str("LOCKSTEP_SECURITY_POLICY", "")
LOCKSTEP_SECURITY_LANGUAGES = env_list("LOCKSTEP_SECURITY_LANGUAGES", ["en"])

# Outbound mail. Without LOCKSTEP_SMTP_URL, copies are written to the outbox folder.
LOCKSTEP_MAIL_DOMAIN = env_str("LOCKSTEP_MAIL_DOMAIN", "lockstep.invalid")
LOCKSTEP_MAIL_FROM = env_str("LOCKSTEP_MAIL_FROM", f"lockstep@{LOCKSTEP_MAIL_DOMAIN}")
LOCKSTEP_SMTP_URL = env_str("LOCKSTEP_SMTP_URL", "")
LOCKSTEP_OUTBOX_DIR = DATA_DIR / "outbox"
LOCKSTEP_MAIL_MAX_ATTEMPTS = env_int("LOCKSTEP_MAIL_MAX_ATTEMPTS", default=5)
LOCKSTEP_MAIL_BATCH = env_int("LOCKSTEP_MAIL_BATCH", default=200)
LOCKSTEP_MAIL_LEASE_SECONDS = env_int("LOCKSTEP_MAIL_LEASE_SECONDS", default=600)
LOCKSTEP_LIST_KEY_FILE = env_str("LOCKSTEP_LIST_KEY_FILE", str(DATA_DIR / "list-key.asc"))
# Refuse to make a list key over an instance that already used one (members would see a new
# signer, mail encrypted to the old key could not be read); `--new-list-key` makes one, audited.
LOCKSTEP_LIST_KEY_GUARD = True

# Inbound mail: `lockstep smtpd` (also started by `lockstep serve`).
LOCKSTEP_SMTPD_HOST = env_str("LOCKSTEP_SMTPD_HOST", "127.0.0.1")
LOCKSTEP_SMTPD_PORT = env_int("LOCKSTEP_SMTPD_PORT", default=2525)
LOCKSTEP_SMTPD_LMTP = env_str("LOCKSTEP_SMTPD_LMTP", "") == "1"
# Connections open at once from one client address (behind Postfix every connection comes
# from it: keep lmtp_destination_concurrency_limit at or below this).
# Relays whose XFORWARD (Postfix: lmtp_send_xforward_command = yes) names the original client.
LOCKSTEP_SMTP_XFORWARD_HOSTS = env_list("LOCKSTEP_SMTP_XFORWARD_HOSTS", ["127.0.0.1", "::1"])
LOCKSTEP_SMTP_MAX_CONNECTIONS_PER_CLIENT = env_int(
    "LOCKSTEP_SMTP_MAX_CONNECTIONS_PER_CLIENT", default=20
)
LOCKSTEP_MAIL_MAX_MESSAGE_BYTES = env_int(
    "LOCKSTEP_MAIL_MAX_MESSAGE_BYTES", default=LOCKSTEP_MAX_ATTACHMENT_BYTES * 3
)
# What a variable a mail template names but its builder does not give renders as (nothing;
# the tests set a marker and fail on it). lockstep/mailgw/outbound/templates.py
LOCKSTEP_MAIL_IF_INVALID = ""
# A reporter who gave an address gets at most one mail about news on their report (replies,
# a decision, posts in its case) per this many minutes; news within the window is batched.
LOCKSTEP_REPORTER_NEWS_MINUTES = env_int("LOCKSTEP_REPORTER_NEWS_MINUTES", default=15)

# Disclosure and advisories.
# Who publishes the advisories (CSAF publisher name, CVE records' provider).
LOCKSTEP_PUBLISHER_NAME = env_str("LOCKSTEP_PUBLISHER_NAME", "Lockstep")
# The public list that advisories are posted to at the date (slug). Empty: the only public
# list there is, if there is exactly one; otherwise none (the advisory page still appears).
LOCKSTEP_PUBLIC_CHANNEL = env_str("LOCKSTEP_PUBLIC_CHANNEL", "")
# When the reporter is to post the details to the public list, Lockstep posts them itself if
# the reporter has not confirmed within this many minutes of the date.
LOCKSTEP_REPORTER_POST_GRACE_MINUTES = env_int("LOCKSTEP_REPORTER_POST_GRACE_MINUTES", default=60)
# How often an idle worker looks for due tasks (seconds): publication lags the date by up to this.
LOCKSTEP_WORKER_INTERVAL = float(env_str("LOCKSTEP_WORKER_INTERVAL", "0.5"))
# How often a sweep publishes, reminds and posts whatever is overdue (a safety net: the tasks
# queued for each moment do the work; a sweep catches one lost with a worker killed mid-task).
LOCKSTEP_SWEEP_SECONDS = env_int("LOCKSTEP_SWEEP_SECONDS", default=30)

# CVE IDs (lockstep.cve). LOCKSTEP_CVE_MODE chooses who hands out IDs and publishes records:
# - "local" (default): this instance is a CNA with its own block of IDs. LOCKSTEP_CVE_BLOCK
#   lists its ranges, comma-separated, e.g. "CVE-2026-50000..CVE-2026-50999,CVE-2027-1000..
#   CVE-2027-1999"; the lowest free ID is taken, this year's ranges first. Empty: no block.
# - "services": CVE Services (the CVE Program's API), with the CNA account below. The URL
#   ends in /api/ (https://cveawg.mitre.org/api/, or https://cveawg-test.mitre.org/api/);
#   LOCKSTEP_CVE_ORG is the CNA's short name, LOCKSTEP_CVE_ORG_ID its UUID (optional: without
#   it every publication first asks the service for it).
# Records are held in Lockstep and published at the disclosure date by the
# publish_cve_records task: CVE Services refuses a datePublic in the future.
LOCKSTEP_CVE_MODE = env_str("LOCKSTEP_CVE_MODE", "local")
LOCKSTEP_CVE_BLOCK = env_str("LOCKSTEP_CVE_BLOCK", "")
LOCKSTEP_CVE_API_URL = env_str("LOCKSTEP_CVE_API_URL", "")
LOCKSTEP_CVE_USER = env_str("LOCKSTEP_CVE_USER", "")
LOCKSTEP_CVE_ORG = env_str("LOCKSTEP_CVE_ORG", "")
LOCKSTEP_CVE_API_KEY = env_str("LOCKSTEP_CVE_API_KEY", "")
LOCKSTEP_CVE_ORG_ID = env_str("LOCKSTEP_CVE_ORG_ID", "")
