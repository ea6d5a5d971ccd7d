"""The organisation page (members, roles, invitations) and the page an invitation opens."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.shortcuts import resolve_url
from django.test import Client

from lockstep.accounts.models import User
from lockstep.audit.models import AuditEvent
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.invitations import SEND_LIMIT, do_invite_member
from lockstep.orgs.models import Invitation, Membership, Organization, Role
from tests.factories.world import PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
ROLE = {"role": "member"}


class Team:
    def __init__(self) -> None:
        self.org: Organization = OrganizationFactory(name="Northwind Linux", slug="northwind")
        self.admin: User = UserFactory(email="ada@northwind.example")
        self.member: User = UserFactory(email="bo@northwind.example")
        self.outsider: User = UserFactory(email="eve@elsewhere.example")
        do_add_member(self.org, self.admin, role=Role.ADMIN, actor=SYSTEM)
        do_add_member(self.org, self.member, actor=SYSTEM)

    def client(self, user: User) -> Client:
        browser = Client()
        browser.force_login(user)
        return browser


@pytest.fixture
def team() -> Team:
    return Team()


def _link_in_mail(address: str) -> str:
    body = OutboundMessage.objects.filter(to_address=address).latest("id").body
    found = re.search(r"https://lockstep\.example\.org(/invitations/[\w-]+/)", body)
    assert found is not None, body
    return found.group(1)


def test_an_admin_sees_the_forms_a_member_the_list_an_outsider_nothing(team: Team) -> None:
    admin_page = team.client(team.admin).get("/orgs/northwind/").content.decode()
    assert "Invite someone" in admin_page
    assert f"/orgs/northwind/members/{team.member.pk}/remove/" in admin_page
    assert 'data-confirm="Remove bo@northwind.example' in admin_page
    member_page = team.client(team.member).get("/orgs/northwind/").content.decode()
    assert "ada@northwind.example" in member_page
    assert "Administrator" in member_page
    assert "Invite someone" not in member_page
    assert "/remove/" not in member_page
    assert team.client(team.outsider).get("/orgs/northwind/").status_code == 404


def test_plain_members_get_403_and_outsiders_404_for_every_change(team: Team) -> None:
    pending = do_invite_member(team.org, email="p@example.org", role=Role.MEMBER, actor=SYSTEM)
    posts = [
        ("/orgs/northwind/invitations/", {"email": "x@example.org", "role": "member"}),
        (f"/orgs/northwind/invitations/{pending.invitation.pk}/revoke/", {}),
        (f"/orgs/northwind/members/{team.admin.pk}/role/", {"role": "member"}),
        (f"/orgs/northwind/members/{team.admin.pk}/remove/", {}),
    ]
    changes = AuditEvent.objects.exclude(tag__startswith="account:signin")  # logins are noted
    before = changes.count()
    for url, data in posts:
        assert team.client(team.member).post(url, data).status_code == 403, url
        assert team.client(team.outsider).post(url, data).status_code == 404, url
        assert Client().post(url, data).status_code == 302, url  # to the login page
    assert changes.count() == before
    assert Membership.objects.filter(org=team.org).count() == 2


def test_an_admin_invites_changes_roles_and_removes(team: Team) -> None:
    admin = team.client(team.admin)
    sent = admin.post("/orgs/northwind/invitations/", {"email": "cy@example.org", "role": "admin"})
    assert sent.status_code == 302
    page = admin.get("/orgs/northwind/").content.decode()
    assert "Invitation sent to cy@example.org" in page
    assert "cy@example.org" in page.split('id="invitations"')[1]
    invitation = Invitation.objects.get(email="cy@example.org")
    assert invitation.role == Role.ADMIN
    assert OutboundMessage.objects.get(pk=invitation.outbound_id).status == OutboxStatus.QUEUED

    promoted = admin.post(f"/orgs/northwind/members/{team.member.pk}/role/", {"role": "admin"})
    assert promoted.status_code == 302
    assert Membership.objects.get(user=team.member).role == Role.ADMIN
    removed = admin.post(f"/orgs/northwind/members/{team.member.pk}/remove/")
    assert removed.status_code == 302
    assert not Membership.objects.filter(user=team.member).exists()
    revoked = admin.post(f"/orgs/northwind/invitations/{invitation.pk}/revoke/", follow=True)
    assert "The invitation to cy@example.org is revoked" in revoked.content.decode()
    assert OutboundMessage.objects.get(pk=invitation.outbound_id).status == OutboxStatus.DROPPED
    assert admin.post(f"/orgs/northwind/invitations/{invitation.pk}/revoke/").status_code == 404
    assert admin.post(f"/orgs/northwind/members/{team.member.pk}/remove/").status_code == 404


def test_the_last_admin_stays_and_the_page_says_why(team: Team) -> None:
    admin = team.client(team.admin)
    demoted = admin.post(f"/orgs/northwind/members/{team.admin.pk}/role/", {"role": "member"})
    assert "needs at least one administrator" in admin.get(demoted["Location"]).content.decode()
    removed = admin.post(f"/orgs/northwind/members/{team.admin.pk}/remove/", follow=True)
    assert "needs at least one administrator" in removed.content.decode()
    nonsense = admin.post(f"/orgs/northwind/members/{team.member.pk}/role/", {"role": "owner"})
    assert "Choose one of the roles" in admin.get(nonsense["Location"]).content.decode()
    assert Membership.objects.get(user=team.admin).role == Role.ADMIN


def test_the_invite_form_refuses_bad_input_and_too_many(team: Team) -> None:
    admin = team.client(team.admin)
    bad = admin.post("/orgs/northwind/invitations/", {"email": "nope", "role": "member"})
    assert bad.status_code == 400
    member = admin.post(
        "/orgs/northwind/invitations/", {"email": "bo@northwind.example", "role": "member"}
    )
    assert member.status_code == 400
    assert "already a member" in member.content.decode()
    # The refused address above counted (the form was fine); the invalid one did not.
    with time_machine.travel(clock.now(), tick=False):
        for n in range(SEND_LIMIT - 1):
            ok = admin.post("/orgs/northwind/invitations/", {"email": f"n{n}@x.example"} | ROLE)
            assert ok.status_code == 302
        limited = admin.post("/orgs/northwind/invitations/", {"email": "late@x.example"} | ROLE)
    assert limited.status_code == 429
    assert "Try again in" in limited.content.decode()


def test_a_new_person_accepts_with_a_name_and_password_and_is_logged_in(team: Team) -> None:
    team.client(team.admin).post(
        "/orgs/northwind/invitations/", {"email": "new@example.org", "role": "member"}
    )
    link = _link_in_mail("new@example.org")
    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    assert "Join Northwind Linux" in page.content.decode()
    weak = browser.post(
        link, {"display_name": "Nia", "password": "short", "password_again": "short"}
    )
    assert weak.status_code == 400
    assert "too short" in weak.content.decode()
    differ = browser.post(
        link, {"display_name": "Nia", "password": PASSWORD, "password_again": PASSWORD + "x"}
    )
    assert "The two passwords differ" in differ.content.decode()
    done = browser.post(
        link, {"display_name": "Nia", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == "/"
    home = browser.get("/")
    assert home.status_code == 200
    assert "Northwind Linux" in home.content.decode()
    user = User.objects.get(email="new@example.org")
    assert Membership.objects.get(user=user).org == team.org
    assert browser.get("/orgs/northwind/").status_code == 200
    # Single use: the same link now says it is no longer valid.
    again = Client().get(link)
    assert again.status_code == 404
    assert "no longer valid" in again.content.decode()
    assert not mail.outbox  # mail goes through the outbox, not straight out


def test_an_existing_account_logs_in_first_then_accepts(team: Team) -> None:
    invitee = UserFactory(email="dee@example.org")
    do_invite_member(team.org, email="dee@example.org", role=Role.MEMBER, actor=SYSTEM)
    link = _link_in_mail("dee@example.org")
    anonymous = Client().get(link)
    assert anonymous.status_code == 200
    login_url = resolve_url(settings.LOGIN_URL)
    assert f'href="{login_url}?next={link.replace("/", "%2F")}"' in anonymous.content.decode()
    assert "Log in to accept" in Client().post(link).content.decode()  # a POST changes nothing
    assert not Membership.objects.filter(user=invitee).exists()

    wrong = team.client(team.outsider).get(link)
    assert wrong.status_code == 403
    assert "this invitation is for" in wrong.content.decode()
    assert team.client(team.outsider).post(link).status_code == 403

    browser = team.client(invitee)
    assert "Accept and join Northwind Linux" in browser.get(link).content.decode()
    accepted = browser.post(link)
    assert accepted.status_code == 302
    assert accepted["Location"] == "/orgs/northwind/"
    assert Membership.objects.filter(user=invitee, org=team.org).exists()
    assert browser.get(link).status_code == 404


def test_expired_revoked_and_unknown_links_get_the_same_page(team: Team) -> None:
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        do_invite_member(team.org, email="old@example.org", role=Role.MEMBER, actor=SYSTEM)
        expired = _link_in_mail("old@example.org")
        sent = do_invite_member(team.org, email="rev@example.org", role=Role.MEMBER, actor=SYSTEM)
        revoked = _link_in_mail("rev@example.org")
        team.client(team.admin).post(f"/orgs/northwind/invitations/{sent.invitation.pk}/revoke/")
        traveller.shift(settings.LOCKSTEP_INVITATION_DAYS * 86400)
        pages = [Client().get(url) for url in (expired, revoked, "/invitations/nonsense/")]
        posted = Client().post(
            expired, {"display_name": "O", "password": PASSWORD, "password_again": PASSWORD}
        )
    bodies = {re.sub(rb'nonce="[^"]*"', b"", page.content) for page in [*pages, posted]}
    assert {page.status_code for page in [*pages, posted]} == {404}
    assert len(bodies) == 1
    assert b"This invitation is no longer valid" in bodies.pop()
    assert not User.objects.filter(email="old@example.org").exists()


def test_a_link_spent_while_the_form_was_open_says_so(team: Team) -> None:
    invitee = UserFactory(email="race@example.org")
    sent = do_invite_member(team.org, email="race@example.org", role=Role.MEMBER, actor=SYSTEM)
    link = _link_in_mail("race@example.org")
    browser = team.client(invitee)
    assert browser.get(link).status_code == 200
    do_add_member(team.org, invitee, actor=SYSTEM)  # added directly meanwhile
    refused = browser.post(link, follow=True)
    assert "already a member" in refused.content.decode()
    Invitation.objects.filter(pk=sent.invitation.pk).update(revoked_at=clock.now())
    assert browser.post(link).status_code == 404
