"""A member removed from an organisation loses its cases from their very next request, in the
browser and through the API, and the case mail still waiting for them is cancelled. Someone
removed from their last organisation also loses every session and API token."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client

from lockstep.accounts.models import ApiToken, User
from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.members import do_remove_member
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.queries import access_case_by_id
from lockstep.core.actor import Actor
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import Membership, Organization, Role
from tests.conftest import actor_for
from tests.factories.access import api_get, browser_of, token_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.world import UserFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def admin_of(org: Organization) -> User:
    admin = UserFactory()
    do_add_member(org, admin, role=Role.ADMIN, actor=SYSTEM)
    return admin


def remove_through_the_page(admin: User, org: Organization, user: User) -> None:
    page = Client()
    page.force_login(admin)
    response = page.post(f"/orgs/{org.slug}/members/{user.pk}/remove/")
    assert response.status_code == 302
    assert response["Location"] == f"/orgs/{org.slug}/"


def _waiting_copies(user: User) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(to_address=user.email, status=OutboxStatus.QUEUED))


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()


def test_the_case_is_gone_on_the_next_request_but_the_session_and_token_stay(
    world: CaseWorld,
) -> None:
    member, case = world.vendor_user, world.case
    do_add_member(world.outsider, member, actor=SYSTEM)  # another organisation, not in the case
    browser, token = browser_of(member), token_for(member)
    assert browser.get(f"/cases/{case.pk}/").status_code == 200
    assert api_get(f"/cases/{case.pk}", token) == 200
    assert _waiting_copies(member)  # the case's opening mail

    remove_through_the_page(admin_of(world.vendor), world.vendor, member)

    assert browser.get(f"/cases/{case.pk}/").status_code == 404
    assert api_get(f"/cases/{case.pk}", token) == 404
    assert b"Heap overflow" not in browser.get("/cases/").content
    # Still a member of Elsewhere Inc: logged in, and the token still works.
    assert browser.get("/account/keys/").status_code == 200  # still signed in
    assert api_get("/me", token) == 200
    assert UserSession.objects.filter(user=member).exists()
    assert ApiToken.objects.get(user=member).revoked_at is None
    # The case's mail still waiting for them is cancelled (and says why).
    assert not _waiting_copies(member)
    cancelled = OutboundMessage.objects.get(to_address=member.email, case_id=case.pk)
    assert cancelled.status == OutboxStatus.DROPPED
    assert cancelled.last_error.startswith(f"cancelled: {member.email} was removed from")
    assert OutboundMessage.objects.filter(
        to_address=world.coordinator.email, status=OutboxStatus.QUEUED
    ).exists()  # nobody else's
    tags = list(AuditEvent.objects.order_by("-seq").values_list("tag", flat=True)[:2])
    assert tags == ["mail:outbound:cancelled", "org:member:removed"]


def test_removal_from_the_last_organisation_ends_sessions_and_revokes_tokens(
    world: CaseWorld,
) -> None:
    member, case = world.vendor_user, world.case
    browser, token = browser_of(member), token_for(member)
    assert browser.get(f"/cases/{case.pk}/").status_code == 200

    remove_through_the_page(admin_of(world.vendor), world.vendor, member)

    response = browser.get(f"/cases/{case.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert api_get(f"/cases/{case.pk}", token) == 401
    assert not UserSession.objects.filter(user=member).exists()
    revoked = ApiToken.objects.get(user=member)
    assert revoked.revoked_at is not None
    removed = AuditEvent.objects.filter(tag="org:member:removed").latest("seq")
    assert removed.data["left_every_org"] is True
    assert removed.data["sessions_ended"] == 1
    assert removed.data["tokens_revoked"] == [revoked.pk]
    revocation = AuditEvent.objects.get(tag="account:token:revoked")
    assert "their last organisation" in revocation.data["reason"]
    assert not _waiting_copies(member)


def test_cases_still_seen_through_another_organisation_keep_their_mail(
    world: CaseWorld,
) -> None:
    member, case = world.vendor_user, world.case
    do_add_member(world.coordinator_org, member, actor=SYSTEM)  # the coordinator is in the case
    lead = actor_for(world.maintainer)
    do_add_post(access_case_by_id(lead, case.pk), body="Patch attached.", actor=lead)
    before = len(_waiting_copies(member))
    assert before >= 1

    do_remove_member(Membership.objects.get(org=world.vendor, user=member), actor=SYSTEM)

    assert len(_waiting_copies(member)) == before
    assert access_case_by_id(actor_for(member), case.pk).case == case
    assert not AuditEvent.objects.filter(tag="mail:outbound:cancelled").exists()


def test_cancelled_copies_are_listed_on_the_outbox_page(world: CaseWorld) -> None:
    member = world.vendor_user
    do_remove_member(Membership.objects.get(org=world.vendor, user=member), actor=SYSTEM)
    for viewer in (UserFactory(is_staff=True), world.coordinator):
        page = Client()
        page.force_login(viewer)
        content = page.get("/outbox/").content.decode()
        dropped = content.split('id="dropped"')[1].split("</section>")[0]
        assert member.email in dropped
        assert "was removed from" in dropped


def test_an_operator_keeps_sessions_and_tokens_when_leaving_the_last_organisation(
    world: CaseWorld,
) -> None:
    operator = UserFactory(is_staff=True)
    do_add_member(world.vendor, operator, actor=SYSTEM)
    browser, token = browser_of(operator), token_for(operator)
    do_remove_member(Membership.objects.get(org=world.vendor, user=operator), actor=SYSTEM)
    assert browser.get("/account/keys/").status_code == 200  # still signed in
    assert api_get("/me", token) == 200
    assert browser.get(f"/cases/{world.case.pk}/").status_code == 404


def test_an_admin_who_leaves_their_last_organisation_is_logged_out(world: CaseWorld) -> None:
    admin = admin_of(world.vendor)
    admin_of(world.vendor)  # a second one: the organisation keeps an administrator
    browser = browser_of(admin)
    response = browser.post(f"/orgs/{world.vendor.slug}/members/{admin.pk}/remove/")
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert browser.get("/account/keys/").status_code == 302  # signed out


def test_an_admin_who_leaves_one_of_their_organisations_goes_home(world: CaseWorld) -> None:
    admin = admin_of(world.vendor)
    admin_of(world.vendor)
    do_add_member(world.outsider, admin, actor=SYSTEM)
    browser = browser_of(admin)
    response = browser.post(f"/orgs/{world.vendor.slug}/members/{admin.pk}/remove/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert f"You are no longer a member of {world.vendor.name}" in response.content.decode()
