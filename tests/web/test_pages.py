"""The web pages of the foundation, through Django's test client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import time_machine
from django.test import Client, override_settings

from lockstep.accounts.models import User
from lockstep.advisories.tasks import publish_at_date
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
from tests.flows.test_disclosure import AT, _world

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def test_login_page_shows_first_run_help_on_an_empty_instance(client: Client) -> None:
    page = client.get("/login/")
    assert page.status_code == 200
    assert b"lockstep createadmin" in page.content
    UserFactory()
    assert b"lockstep createadmin" not in client.get("/login/").content


def test_a_visitor_sees_the_public_front_page(client: Client) -> None:
    world = _world()  # libquokka, the public list oss-security, a case due at AT
    with time_machine.travel(AT, tick=False):
        assert publish_at_date.call(world.case.pk) == "LOCKSTEP-2026-0001"
        response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/report/"' in page
    assert f'href="/projects/{world.project.slug}/report/"' in page
    assert 'href="/list-key.asc"' in page
    assert 'href="/advisories/LOCKSTEP-2026-0001/"' in page
    assert 'href="/advisories/"' in page
    assert 'href="/advisories/feed.atom"' in page
    assert 'href="/lists/oss-security/"' in page
    assert 'href="/archive/feed.atom"' in page
    assert 'action="/search/"' in page
    assert 'href="/login/"' in page
    assert '<body>\n  <a class="skip-link" href="#main">Skip to content</a>' in page
    assert '<main id="main">' in page
    assert 'href="/.well-known/security.txt"' in page  # over https the report form is one
    assert client.get("/.well-known/security.txt").status_code == 200
    assert client.get("/cases/")["Location"] == "/login/?next=/cases/"  # the rest needs a login


@override_settings(LOCKSTEP_BASE_URL="http://127.0.0.1:8000")
def test_the_front_page_links_no_security_txt_that_is_not_there(client: Client) -> None:
    ProjectFactory(slug="libquokka", security_email="")
    page = client.get("/").content.decode()
    assert "security.txt" not in page  # plain http, no contacts: neither file exists
    assert client.get("/.well-known/security.txt").status_code == 404
    assert client.get("/projects/libquokka/security.txt").status_code == 404
    assert 'href="/projects/libquokka/report/"' in page


@override_settings(
    LOCKSTEP_SECURITY_CONTACTS=["mailto:security@example.org"],
    LOCKSTEP_MAIL_DOMAIN="lists.example.org",
)
def test_the_front_page_names_the_contacts_the_mail_route_and_its_key(
    client: Client, list_key: str
) -> None:
    project = ProjectFactory(name="libquokka", slug="libquokka")
    page = client.get("/").content.decode()
    assert 'href="mailto:security@example.org"' in page
    assert "security-&lt;project&gt;@lists.example.org" in page
    assert 'href="mailto:security-libquokka@lists.example.org"' in page
    assert f'href="/projects/{project.slug}/security.txt"' in page
    assert 'href="/.well-known/security.txt"' in page
    assert client.get("/.well-known/security.txt").status_code == 200
    assert client.get(f"/projects/{project.slug}/security.txt").status_code == 200
    assert "No advisory has been published yet." in page


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
