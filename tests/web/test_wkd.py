"""The Web Key Directory: which addresses get the list key, and what GnuPG makes of the answer.

The hashes in the URLs come from GnuPG's gpg-wks-client, not from Lockstep's own function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from lockstep.channels.models import ChannelKind
from lockstep.mailgw.addresses import bounce_address, case_address, case_member_address
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.mailgw.wkd import fingerprint
from tests.factories.cases import build_case_world
from tests.factories.gpg import GnuPG
from tests.factories.wks import gnupg_wkd_hash
from tests.factories.world import ChannelFactory, ProjectFactory

pytestmark = pytest.mark.django_db

DOMAIN = "lists.example.org"


@pytest.fixture(autouse=True)
def mail_domain(settings: Any, list_key: str) -> str:
    settings.LOCKSTEP_MAIL_DOMAIN = DOMAIN
    return list_key


def wkd_url(address: str, *, with_l: bool = True) -> str:
    local = address.rpartition("@")[0]
    query = f"?l={local}" if with_l else ""
    return f"/.well-known/openpgpkey/hu/{gnupg_wkd_hash(address)}{query}"


def imported_user_ids(tmp_path: Path, body: bytes) -> list[str]:
    gpg = GnuPG(tmp_path / "gpg")
    gpg.run("--import", stdin=body)
    colons = gpg.run("--with-colons", "--list-keys").decode()
    assert fingerprint(list_public_key()).upper() in colons
    return [line.split(":")[9] for line in colons.splitlines() if line.startswith("uid")]


def test_the_policy_file_exists(client: Client) -> None:
    response = client.get("/.well-known/openpgpkey/policy")
    assert response.status_code == 200
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"/.well-known/openpgpkey/{DOMAIN}/policy").status_code == 200
    assert client.get("/.well-known/openpgpkey/elsewhere.example/policy").status_code == 404


def test_a_projects_address_gets_the_list_key_with_that_address(
    client: Client, tmp_path: Path, settings: Any
) -> None:
    ProjectFactory(slug="libquokka")
    address = f"security-libquokka@{DOMAIN}"
    response = client.get(wkd_url(address))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.content.startswith(b"-----BEGIN")
    assert sorted(imported_user_ids(tmp_path, response.content)) == [
        f"Lockstep <{settings.LOCKSTEP_MAIL_FROM}>",
        address,
    ]
    head = client.head(wkd_url(address))
    assert head.status_code == 200
    assert client.post(wkd_url(address)).status_code == 405


def test_the_hash_alone_finds_projects_and_lists(client: Client) -> None:
    ProjectFactory(slug="libquokka")
    ChannelFactory(slug="distros")
    ChannelFactory(slug="oss-security", kind=ChannelKind.PUBLIC)
    for local in ("security-libquokka", "distros", "oss-security"):
        response = client.get(wkd_url(f"{local}@{DOMAIN}", with_l=False))
        assert response.status_code == 200, local
    assert client.get(wkd_url(f"security-nothing@{DOMAIN}", with_l=False)).status_code == 404


def test_the_advanced_method_answers_for_our_domain_only(client: Client) -> None:
    ProjectFactory(slug="libquokka")
    hashed = gnupg_wkd_hash(f"security-libquokka@{DOMAIN}")
    ours = client.get(f"/.well-known/openpgpkey/{DOMAIN}/hu/{hashed}?l=security-libquokka")
    assert ours.status_code == 200
    other = client.get(f"/.well-known/openpgpkey/other.example/hu/{hashed}?l=security-libquokka")
    assert other.status_code == 404


def test_a_case_address_needs_its_tag(client: Client, tmp_path: Path) -> None:
    world = build_case_world()
    own = case_member_address(world.case.pk, world.vendor_user.pk)
    for n, address in enumerate((own, case_address(world.case.pk))):
        response = client.get(wkd_url(address))
        assert response.status_code == 200
        assert address in imported_user_ids(tmp_path / str(n), response.content)
    forged = f"case-{world.case.pk}-000000000000@{DOMAIN}"
    assert client.get(wkd_url(forged)).status_code == 404


@pytest.mark.parametrize(
    "local",
    [
        "security-nothing",  # no such project
        "nobody",  # no such list
        "postmaster",  # held for the operators, not a way in
        "abuse",
    ],
)
def test_unknown_addresses_get_nothing(client: Client, local: str) -> None:
    response = client.get(wkd_url(f"{local}@{DOMAIN}"))
    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_bounce_address_gets_no_key(client: Client) -> None:
    assert client.get(wkd_url(bounce_address(7))).status_code == 404


def test_l_must_match_the_hash(client: Client) -> None:
    ProjectFactory(slug="libquokka")
    ProjectFactory(slug="other")
    hashed = gnupg_wkd_hash(f"security-libquokka@{DOMAIN}")
    response = client.get(f"/.well-known/openpgpkey/hu/{hashed}?l=security-other")
    assert response.status_code == 404
    assert client.get("/.well-known/openpgpkey/hu/notahash?l=x").status_code == 404
