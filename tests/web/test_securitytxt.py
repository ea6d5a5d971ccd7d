"""The served security.txt files and the project key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from lockstep.core.actor import Actor
from lockstep.mailgw.crypto.base import get_openpgp
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.mailgw.wkd import fingerprint
from lockstep.orgs.actions import do_add_org_key
from tests.factories.gpg import GnuPG
from tests.factories.keys import KeyPair
from tests.factories.world import ProjectFactory

pytestmark = pytest.mark.django_db


def test_instance_security_txt(client: Client) -> None:
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[:2] == [
        "# security.txt for Lockstep",
        "Contact: https://lockstep.example.org/report/",
    ]
    assert lines[2].startswith("Expires: ")
    assert lines[3:] == [
        "Preferred-Languages: en",
        "Canonical: https://lockstep.example.org/.well-known/security.txt",
        "Policy: https://lockstep.example.org/report/",
    ]


def test_plain_http_instance_needs_configured_contacts(client: Client, settings: Any) -> None:
    settings.LOCKSTEP_BASE_URL = "http://127.0.0.1:8000"
    missing = client.get("/.well-known/security.txt")
    assert missing.status_code == 404
    assert b"LOCKSTEP_SECURITY_CONTACTS" in missing.content
    settings.LOCKSTEP_SECURITY_CONTACTS = ["security@lockstep.example.org"]
    settings.LOCKSTEP_SECURITY_ENCRYPTION = "https://lockstep.example.org/key.asc"
    text = client.get("/.well-known/security.txt").content.decode()
    assert "Contact: mailto:security@lockstep.example.org\n" in text
    assert "Encryption: https://lockstep.example.org/key.asc\n" in text
    assert "Canonical" not in text


def test_project_security_txt_points_at_form_and_key(client: Client, bob_key: KeyPair) -> None:
    """Without a mail domain (the .invalid default), the upstream's own address and key."""
    project = ProjectFactory(slug="libq", security_email="security@libq.example")
    without_key = client.get("/projects/libq/security.txt").content.decode()
    assert "Encryption:" not in without_key
    assert client.get("/projects/libq/openpgp.asc").status_code == 404
    do_add_org_key(project.upstream, armored=bob_key.public, actor=Actor.system("tests"))
    text = client.get("/projects/libq/security.txt").content.decode()
    assert "Contact: mailto:security@libq.example\n" in text
    assert "Encryption: https://lockstep.example.org/projects/libq/openpgp.asc\n" in text
    assert "Policy: https://lockstep.example.org/projects/libq/report/\n" in text
    key = client.get("/projects/libq/openpgp.asc")
    assert key["Content-Type"] == "application/pgp-keys"
    assert key.content.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert client.get("/projects/nope/security.txt").status_code == 404


def _fields(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("Expires: ")]


def test_project_security_txt_lists_the_encrypted_mail_route_first(
    client: Client, settings: Any, list_key: str, bob_key: KeyPair, tmp_path: Path
) -> None:
    settings.LOCKSTEP_MAIL_DOMAIN = "lists.example.org"
    project = ProjectFactory(slug="libq", name="libq", security_email="security@libq.example")
    do_add_org_key(project.upstream, armored=bob_key.public, actor=Actor.system("tests"))
    fpr = fingerprint(list_public_key())
    text = client.get("/projects/libq/security.txt").content.decode()
    assert _fields(text) == [
        f"# security.txt for libq, by {project.upstream.name}",
        "Contact: mailto:security-libq@lists.example.org",
        "Contact: https://lockstep.example.org/projects/libq/report/",
        "Encryption: https://lockstep.example.org/projects/libq/mail-key.asc",
        f"Encryption: openpgp4fpr:{fpr}",
        "Preferred-Languages: en",
        "Canonical: https://lockstep.example.org/projects/libq/security.txt",
        "Policy: https://lockstep.example.org/projects/libq/report/",
    ]
    # The key under Encryption is the list key, and it can be used by the address at once.
    key = client.get("/projects/libq/mail-key.asc")
    assert key["Content-Type"] == "application/pgp-keys; charset=us-ascii"
    gpg = GnuPG(tmp_path / "reporter")
    gpg.import_key(key.content.decode())
    assert fpr.upper() in gpg.run("--with-colons", "--list-keys").decode()
    sealed = gpg.run(
        "--armor",
        "--trust-model",
        "always",
        "--compress-algo",
        "none",
        "--encrypt",
        "-r",
        "security-libq@lists.example.org",
        stdin=b"heap overflow in libq",
    )
    opened = get_openpgp().decrypt(sealed.decode(), secret_key=list_key)
    assert opened == b"heap overflow in libq"


def test_plain_http_project_lists_mail_and_fingerprint_only(
    client: Client, settings: Any, list_key: str
) -> None:
    settings.LOCKSTEP_BASE_URL = "http://127.0.0.1:8000"
    settings.LOCKSTEP_MAIL_DOMAIN = "lists.example.org"
    ProjectFactory(slug="libq")
    text = client.get("/projects/libq/security.txt").content.decode()
    assert "Contact: mailto:security-libq@lists.example.org\n" in text
    assert "Encryption: openpgp4fpr:" in text
    assert "https:" not in text


def test_a_slug_no_address_can_spell_keeps_the_upstreams_route(
    client: Client, settings: Any, list_key: str
) -> None:
    settings.LOCKSTEP_MAIL_DOMAIN = "lists.example.org"
    ProjectFactory(slug="Lib_Q", security_email="security@libq.example")
    text = client.get("/projects/Lib_Q/security.txt").content.decode()
    assert "Contact: mailto:security@libq.example\n" in text
    assert "lists.example.org" not in text
    assert client.get("/projects/Lib_Q/mail-key.asc").status_code == 404


def test_without_a_mail_domain_there_is_no_mail_key(client: Client, list_key: str) -> None:
    ProjectFactory(slug="libq")
    assert client.get("/projects/libq/mail-key.asc").status_code == 404
    assert client.get("/projects/nope/mail-key.asc").status_code == 404


def test_instance_security_txt_names_the_projects_mail_route(
    client: Client, settings: Any, list_key: str
) -> None:
    settings.LOCKSTEP_MAIL_DOMAIN = "lists.example.org"
    fpr = fingerprint(list_public_key())
    text = client.get("/.well-known/security.txt").content.decode()
    assert _fields(text) == [
        "# security.txt for Lockstep",
        (
            "# Mail about a project: security-<project>@lists.example.org, encrypted to the "
            f"list key {fpr.upper()}"
        ),
        "# Each project's own file: https://lockstep.example.org/projects/<project>/security.txt",
        "Contact: https://lockstep.example.org/report/",
        "Encryption: https://lockstep.example.org/list-key.asc",
        f"Encryption: openpgp4fpr:{fpr}",
        "Preferred-Languages: en",
        "Canonical: https://lockstep.example.org/.well-known/security.txt",
        "Policy: https://lockstep.example.org/report/",
    ]
    settings.LOCKSTEP_SECURITY_ENCRYPTION = "https://lockstep.example.org/team.asc"
    text = client.get("/.well-known/security.txt").content.decode()
    assert [line for line in text.splitlines() if line.startswith("Encryption")] == [
        "Encryption: https://lockstep.example.org/team.asc"
    ]
