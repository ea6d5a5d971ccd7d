"""Single sign-on providers (OpenID Connect) from `LOCKSTEP_OIDC_PROVIDERS`, read by `accounts`.

The variable holds a JSON list with one object per identity provider:

    [{"id": "corp", "name": "Example Corp",
      "server_url": "https://login.example.org/realms/corp",
      "client_id": "lockstep", "secret_file": "/run/credentials/lockstep.service/oidc-corp"}]

- `id`: lower-case letters, digits and dashes. It names the provider in URLs (the redirect URI
  to register is `<LOCKSTEP_BASE_URL>/oidc/<id>/login/callback/`) and in the audit log
  (`oidc:<id>`); identities are connected to accounts under it, so it never changes.
- `name`: the button's text, "Log in with <name>".
- `server_url`: the issuer; discovery is read from `<server_url>/.well-known/openid-configuration`.
  https only (plain http only to a loopback address): the ID token comes back from the token
  endpoint over that connection, and is believed for it.
- `client_id`, and either `secret` or `secret_file` (a file holding the client secret, such as
  a systemd credential; read at start, so the secret need not sit in the environment).
- `authorization_origin` (optional): the origin of the provider's authorization endpoint when
  it is not the issuer's; the sign-in page's Content-Security-Policy lets its buttons go there.

A malformed entry, an unknown key or an unreadable secret file stops Lockstep at start with a
message that names the entry (never the secret).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config.settings.env import ConfigError

VARIABLE = "LOCKSTEP_OIDC_PROVIDERS"
PROVIDER_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
REQUIRED = frozenset({"id", "name", "server_url", "client_id"})
OPTIONAL = frozenset({"secret", "secret_file", "authorization_origin"})
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def oidc_apps(raw: str) -> list[dict[str, Any]]:
    """allauth's `SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]` from the variable's value."""
    if not raw.strip():
        return []
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{VARIABLE} is not valid JSON: {error.msg}") from None
    if not isinstance(entries, list):
        raise ConfigError(f"{VARIABLE} must be a JSON list of objects")
    apps = [_app(entry, index) for index, entry in enumerate(entries)]
    ids = [app["provider_id"] for app in apps]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{VARIABLE}: two providers have the same id")
    return apps


def _app(entry: object, index: int) -> dict[str, Any]:
    where = f"{VARIABLE}[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object")
    keys = set(entry)
    if missing := sorted(REQUIRED - keys):
        raise ConfigError(f"{where} lacks {', '.join(missing)}")
    if unknown := sorted(keys - REQUIRED - OPTIONAL):
        raise ConfigError(f"{where} has unknown keys: {', '.join(unknown)}")
    fields = {key: entry[key] for key in REQUIRED | (keys & OPTIONAL)}
    if not all(isinstance(value, str) and value.strip() for value in fields.values()):
        raise ConfigError(f"{where}: every value must be a non-empty string")
    provider_id = fields["id"]
    if not PROVIDER_ID.match(provider_id):
        raise ConfigError(f"{where}: id must be lower-case letters, digits and dashes")
    where = f"{VARIABLE} entry {provider_id!r}"
    settings: dict[str, Any] = {
        "server_url": _url(fields["server_url"], where=f"{where}: server_url"),
        "oauth_pkce_enabled": True,
    }
    if "authorization_origin" in fields:
        origin = _url(fields["authorization_origin"], where=f"{where}: authorization_origin")
        if origin != url_origin(origin):
            raise ConfigError(f"{where}: authorization_origin is a scheme and host, no path")
        settings["authorization_origin"] = origin
    return {
        "provider_id": provider_id,
        "name": fields["name"].strip(),
        "client_id": fields["client_id"],
        "secret": _secret(fields, where=where),
        "settings": settings,
    }


def _url(value: str, *, where: str) -> str:
    parts = urlsplit(value.strip())
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)
    if not secure or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{where} must be an https:// URL (http:// only to a loopback address)")
    if "/.well-known/" in parts.path:
        raise ConfigError(f"{where} is the issuer, without /.well-known/openid-configuration")
    return value.strip().rstrip("/")


def url_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _secret(fields: dict[str, str], *, where: str) -> str:
    if ("secret" in fields) == ("secret_file" in fields):
        raise ConfigError(f"{where}: give either secret or secret_file")
    if "secret" in fields:
        return fields["secret"]
    path = Path(fields["secret_file"]).expanduser()
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"{where}: cannot read secret_file {str(path)!r}") from None
    if not secret:
        raise ConfigError(f"{where}: secret_file {str(path)!r} is empty")
    return secret
