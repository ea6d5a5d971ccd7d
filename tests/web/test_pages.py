"""The web pages of the foundation, through Django's test client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from lockstep.accounts.models import User
from lockstep.channels.actions import do_add_channel_member
from lockstep.channels.models import ChannelKind
from lockstep.core.actor import Actor
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import OpenPGPKey, OrgKind
from lockstep.projects.actions import do_add_redistributor
from tests.factories.keys import KeyPair
from tests.factories.world import (
    PASSWORD,
    ChannelFactory,
    OrganizationFactory,
    ProjectFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def test_login_page_shows_first_run_help_on_an_empty_instance(client: Client) -> None:
    page = client.get("/login/")
    assert page.status_code == 200
    assert b"lockstep createadmin" in page.content
    UserFactory()
    assert b"lockstep createadmin" not in client.get("/login/").content


def test_anonymous_visitor_is_sent_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_login_by_email_and_password(client: Client) -> None:
    user = UserFactory(email="quinn@example.org", display_name="Quinn")
    bad = client.post("/login/", {"login": "quinn@example.org", "password": "nope nope"})
    assert bad.status_code == 200
    assert b"The email address and/or password you specified are not correct" in bad.content
    good = client.post("/login/", {"login": "QUINN@example.org", "password": PASSWORD})
    assert good.status_code == 302
    assert good["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"Quinn" in home.content
    assert user.pk == int(client.session["_auth_user_id"])


def test_dashboard_lists_what_the_member_may_see(login: Login, system: Actor) -> None:
    vendor = OrganizationFactory(name="Northwind Linux", slug="northwind")
    member = UserFactory()
    do_add_member(vendor, member, actor=system)
    private = ChannelFactory(name="distros (test)", slug="distros")
    ChannelFactory(name="hidden list", slug="hidden")
    ChannelFactory(name="oss-security (test)", slug="oss", kind=ChannelKind.PUBLIC)
    do_add_channel_member(private, vendor, actor=system)
    ProjectFactory(name="libquokka")
    page = login(member).get("/")
    text = page.content.decode()
    assert "Northwind Linux" in text
    assert "distros (test)" in text
    assert "oss-security (test)" in text
    assert "hidden list" not in text
    assert "libquokka" in text
    assert "No key yet" in text


def test_org_page_is_404_for_outsiders(login: Login, system: Actor) -> None:
    org = OrganizationFactory(slug="northwind")
    member, outsider = UserFactory(display_name="Ana"), UserFactory()
    do_add_member(org, member, actor=system)
    assert login(member).get("/orgs/northwind/").status_code == 200
    client = login(outsider)
    forbidden = client.get("/orgs/northwind/")
    missing = client.get("/orgs/does-not-exist/")
    assert forbidden.status_code == missing.status_code == 404


def test_private_channel_page_is_404_for_outsiders(login: Login, system: Actor) -> None:
    ChannelFactory(slug="distros")
    ChannelFactory(slug="oss", kind=ChannelKind.PUBLIC)
    outsider = UserFactory()
    client = login(outsider)
    assert client.get("/channels/distros/").status_code == 404
    assert client.get("/channels/oss/").status_code == 200


def test_project_page_explains_the_routing(login: Login, system: Actor) -> None:
    project = ProjectFactory(name="libquokka", slug="libquokka")
    vendor = OrganizationFactory(name="Bluefin OS", kind=OrgKind.VENDOR)
    do_add_redistributor(project, vendor, actor=system)
    page = login(UserFactory()).get("/projects/libquokka/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Bluefin OS" in text
    assert "private-coordination" in text
    assert "public-list" in text


def test_key_upload_good_and_bad(login: Login, alice_key: KeyPair) -> None:
    user = UserFactory()
    client = login(user)
    bad = client.post("/account/keys/", {"armored": "not a key"})
    assert bad.status_code == 400
    assert b'role="alert"' in bad.content
    assert not OpenPGPKey.objects.exists()
    good = client.post("/account/keys/", {"armored": alice_key.public}, follow=True)
    assert good.status_code == 200
    key = OpenPGPKey.objects.get(user=user)
    assert key.spaced_fingerprint.encode() in good.content
    assert b"alice@example.org" in good.content


def test_pages_set_security_headers(client: Client) -> None:
    page = client.get("/login/")
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
