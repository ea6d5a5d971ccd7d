"""LOCKSTEP_OIDC_PROVIDERS, read into allauth's settings (config/settings/oidc.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config.settings.env import ConfigError
from config.settings.oidc import oidc_apps

ENTRY = {
    "id": "corp",
    "name": "Example Corp",
    "server_url": "https://login.example.org/realms/corp/",
    "client_id": "lockstep",
    "secret": "s3cret",
}


def _apps(*entries: dict[str, Any]) -> list[dict[str, Any]]:
    return oidc_apps(json.dumps(list(entries)))


def test_no_variable_no_provider() -> None:
    assert oidc_apps("") == []
    assert oidc_apps("  ") == []
    assert oidc_apps("[]") == []


def test_an_entry_becomes_an_allauth_app_with_pkce() -> None:
    [app] = _apps(ENTRY)
    assert app == {
        "provider_id": "corp",
        "name": "Example Corp",
        "client_id": "lockstep",
        "secret": "s3cret",
        "settings": {
            "server_url": "https://login.example.org/realms/corp",
            "oauth_pkce_enabled": True,
        },
    }


def test_the_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "oidc-corp"
    secret.write_text("from a file\n", encoding="utf-8")
    entry = {key: value for key, value in ENTRY.items() if key != "secret"}
    [app] = _apps({**entry, "secret_file": str(secret)})
    assert app["secret"] == "from a file"
    with pytest.raises(ConfigError, match="cannot read secret_file") as missing:
        _apps({**entry, "secret_file": str(tmp_path / "nowhere")})
    assert "from a file" not in str(missing.value)
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        _apps({**entry, "secret_file": str(tmp_path / "empty")})
    with pytest.raises(ConfigError, match="either secret or secret_file"):
        _apps({**ENTRY, "secret_file": str(secret)})
    with pytest.raises(ConfigError, match="either secret or secret_file"):
        _apps(entry)


def test_a_separate_authorization_origin_is_kept_for_the_sign_in_page() -> None:
    [app] = _apps({**ENTRY, "authorization_origin": "https://auth.example.com/"})
    assert app["settings"]["authorization_origin"] == "https://auth.example.com"
    with pytest.raises(ConfigError, match="no path"):
        _apps({**ENTRY, "authorization_origin": "https://auth.example.com/login"})


@pytest.mark.parametrize(
    "server_url",
    [
        "http://login.example.org/realms/corp",  # no TLS to a remote provider
        "https://login.example.org/.well-known/openid-configuration",
        "https://login.example.org/?tenant=1",
        "login.example.org",
        "ftp://login.example.org",
    ],
)
def test_the_issuer_must_be_an_https_url(server_url: str) -> None:
    with pytest.raises(ConfigError, match="server_url"):
        _apps({**ENTRY, "server_url": server_url})


def test_plain_http_is_allowed_to_a_loopback_provider_only() -> None:
    [app] = _apps({**ENTRY, "server_url": "http://127.0.0.1:8080/realms/dev"})
    assert app["settings"]["server_url"] == "http://127.0.0.1:8080/realms/dev"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "not valid JSON"),
        ('{"id": "corp"}', "JSON list"),
        ('["corp"]', "must be an object"),
        (json.dumps([{"id": "corp"}]), "lacks client_id, name, server_url"),
        (json.dumps([{**ENTRY, "secret_fle": "x"}]), "unknown keys: secret_fle"),
        (json.dumps([{**ENTRY, "name": ""}]), "non-empty string"),
        (json.dumps([{**ENTRY, "client_id": 7}]), "non-empty string"),
        (json.dumps([{**ENTRY, "id": "Corp SSO"}]), "lower-case letters"),
        (json.dumps([{**ENTRY, "id": "-corp"}]), "lower-case letters"),
        (json.dumps([ENTRY, ENTRY]), "the same id"),
    ],
)
def test_a_malformed_variable_stops_lockstep_with_a_message(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        oidc_apps(raw)
    assert "s3cret" not in str(error.value)
    assert "LOCKSTEP_OIDC_PROVIDERS" in str(error.value)
