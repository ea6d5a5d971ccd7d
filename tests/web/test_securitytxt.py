"""The served security.txt files and the project key."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from lockstep.core.actor import Actor
from lockstep.orgs.actions import do_add_org_key
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
