"""An operator deactivates an account: it is logged out at once everywhere, its tokens stop
working, the mail waiting for it is cancelled, and nothing else of it is removed. Reactivated,
it logs in afresh and gets its cases back (with new tokens)."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client

from lockstep.accounts.actions import do_deactivate_user, do_reactivate_user
from lockstep.accounts.models import ApiToken, User
from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.queries import access_case_by_id
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, PermissionDenied
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.orgs.models import Membership
from tests.conftest import actor_for
from tests.factories.access import api_get, browser_of, token_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.world import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()


@pytest.fixture
def operator() -> User:
    return UserFactory(is_staff=True)


def _deactivate_through_the_page(operator: User, user: User) -> None:
    page = Client()
    page.force_login(operator)
    response = page.post(f"/operator/accounts/{user.pk}/deactivate/", follow=True)
    assert response.status_code == 200
    assert f"{user.email} is deactivated" in response.content.decode()


def test_a_logged_in_session_is_sent_to_the_login_page_and_the_token_is_refused(
    world: CaseWorld, operator: User
) -> None:
    member, case = world.vendor_user, world.case
    tracked, untracked = browser_of(member), Client()
    untracked.force_login(member)  # a session begun before sessions were recorded
    token = token_for(member)
    assert tracked.get(f"/cases/{case.pk}/").status_code == 200
    assert api_get(f"/cases/{case.pk}", token) == 200

    _deactivate_through_the_page(operator, member)

    login = resolve_url(settings.LOGIN_URL)
    for browser in (tracked, untracked):
        response = browser.get(f"/cases/{case.pk}/")
        assert response.status_code == 302
        assert response["Location"].startswith(login)
    assert api_get(f"/cases/{case.pk}", token) == 401
    assert api_get("/me", token) == 401
    assert not UserSession.objects.filter(user=member).exists()
    assert ApiToken.objects.get(user=member).revoked_at is not None
    # Nothing else is removed.
    assert Membership.objects.filter(user=member, org=world.vendor).exists()
    event = AuditEvent.objects.filter(tag="account:user:deactivated").get()
    assert event.data["sessions_ended"] == 1
    assert event.data["tokens_revoked"] == [ApiToken.objects.get(user=member).pk]


def test_waiting_mail_is_cancelled_and_no_new_case_mail_is_queued(
    world: CaseWorld, operator: User
) -> None:
    member, case = world.vendor_user, world.case
    _queue_plain_mail(member)  # a copy that belongs to no case
    assert OutboundMessage.objects.filter(to_address=member.email, case_id=None).exists()
    do_deactivate_user(member, actor=actor_for(operator))
    mine = OutboundMessage.objects.filter(to_address=member.email)
    assert mine.count() >= 2
    assert set(mine.values_list("status", flat=True)) == {OutboxStatus.DROPPED}
    assert all(row.last_error.startswith("cancelled: the account") for row in mine)
    event = AuditEvent.objects.get(tag="mail:outbound:cancelled")
    assert sorted(event.data["copies"]) == sorted(mine.values_list("pk", flat=True))
    assert OutboundMessage.objects.filter(
        to_address=world.coordinator.email, status=OutboxStatus.QUEUED
    ).exists()
    lead = actor_for(world.maintainer)
    do_add_post(access_case_by_id(lead, case.pk), body="Patch attached.", actor=lead)
    assert not mine.filter(status=OutboxStatus.QUEUED).exists()  # fan-out skips the account


def _queue_plain_mail(user: User) -> None:
    with transaction.atomic():
        fan_out(MailSpec(subject="Hello", body="Hi", confidential=False), [Recipient(user.email)])


def test_reactivation_gives_the_cases_back_but_not_the_tokens(
    world: CaseWorld, operator: User
) -> None:
    member, case = world.vendor_user, world.case
    token = token_for(member)
    do_deactivate_user(member, actor=actor_for(operator))
    page = Client()
    page.force_login(operator)
    response = page.post(f"/operator/accounts/{member.pk}/reactivate/", follow=True)
    assert f"{member.email} is active again" in response.content.decode()
    assert browser_of(User.objects.get(pk=member.pk)).get(f"/cases/{case.pk}/").status_code == 200
    assert api_get("/me", token) == 401
    assert AuditEvent.objects.filter(tag="account:user:reactivated").count() == 1


def test_only_operators_and_never_on_themselves(world: CaseWorld, operator: User) -> None:
    member = world.vendor_user
    with pytest.raises(PermissionDenied, match="Only an operator"):
        do_deactivate_user(member, actor=actor_for(world.maintainer))
    with pytest.raises(PermissionDenied, match="your own account"):
        do_deactivate_user(operator, actor=actor_for(operator))
    do_deactivate_user(member, actor=Actor.system("tests"))
    with pytest.raises(Conflict, match="already deactivated"):
        do_deactivate_user(member, actor=actor_for(operator))
    do_reactivate_user(member, actor=actor_for(operator))
    with pytest.raises(Conflict, match="is active"):
        do_reactivate_user(member, actor=actor_for(operator))


def test_the_accounts_page_is_for_operators_only(world: CaseWorld, operator: User) -> None:
    page = Client()
    page.force_login(operator)
    listing = page.get("/operator/accounts/")
    assert listing.status_code == 200
    content = listing.content.decode()
    assert world.vendor_user.email in content
    assert f"/operator/accounts/{operator.pk}/deactivate/" not in content  # not oneself
    assert 'data-confirm="Deactivate' in content
    do_deactivate_user(world.vendor_user, actor=actor_for(operator))
    assert (
        f"/operator/accounts/{world.vendor_user.pk}/reactivate/"
        in page.get("/operator/accounts/").content.decode()
    )
    for someone in (world.maintainer, world.coordinator):
        other = Client()
        other.force_login(someone)
        assert other.get("/operator/accounts/").status_code == 404
        target = f"/operator/accounts/{world.outsider_user.pk}"
        assert other.post(f"{target}/deactivate/").status_code == 404
        assert other.post(f"{target}/reactivate/").status_code == 404
    assert User.objects.get(pk=world.outsider_user.pk).is_active
    anonymous = Client().get("/operator/accounts/")
    assert anonymous.status_code == 302


def test_the_page_explains_a_refusal(world: CaseWorld, operator: User) -> None:
    page = Client()
    page.force_login(operator)
    do_deactivate_user(world.vendor_user, actor=actor_for(operator))
    again = page.post(f"/operator/accounts/{world.vendor_user.pk}/deactivate/", follow=True)
    assert "already deactivated" in again.content.decode()
    back = page.post(f"/operator/accounts/{world.maintainer.pk}/reactivate/", follow=True)
    assert "is active" in back.content.decode()
