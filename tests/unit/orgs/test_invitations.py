"""Invitations through their actions: sent (with the mail), accepted once, expired, revoked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from lockstep.audit.models import AuditEvent
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.invitations import (
    SEND_LIMIT,
    NewAccount,
    Sent,
    check_invitation_rate,
    do_accept_invitation,
    do_invite_member,
    do_revoke_invitation,
)
from lockstep.orgs.models import Invitation, Membership, Organization, Role
from lockstep.orgs.policy import (
    InvitationState,
    compute_invitation_expiry,
    ends_access_on_removal,
    invitation_state,
)
from lockstep.orgs.queries import access_invitation_by_token, list_pending_invitations
from tests.conftest import actor_for
from tests.factories.world import PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _token(sent: Sent) -> str:
    return sent.url.rstrip("/").rsplit("/", 1)[-1]


def _org_with_admin(system: Actor) -> tuple[Organization, Actor]:
    org = OrganizationFactory(name="Northwind Linux")
    admin = UserFactory(email="ada@northwind.example")
    do_add_member(org, admin, role=Role.ADMIN, actor=system)
    return org, actor_for(admin)


def _tags(since: int = 0) -> list[str]:
    return list(
        AuditEvent.objects.filter(seq__gt=since).order_by("seq").values_list("tag", flat=True)
    )


def test_an_invitation_is_mailed_with_a_link_whose_token_is_stored_only_as_a_hash(
    system: Actor, settings: object
) -> None:
    org, admin = _org_with_admin(system)
    sent = do_invite_member(org, email=" New@Example.ORG ", role=Role.ADMIN, actor=admin)
    token = _token(sent)
    assert sent.url == f"https://lockstep.example.org/invitations/{token}/"
    assert len(token) == 43  # 256 random bits, URL-safe
    invitation = Invitation.objects.get()
    assert invitation.email == "new@example.org"  # addresses are kept in lower case
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(AuditEvent.objects.values_list("data", flat=True)[::1])
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    copy = OutboundMessage.objects.get(pk=invitation.outbound_id)
    assert copy.to_address == "new@example.org"
    assert copy.status == OutboxStatus.QUEUED
    assert copy.protection == "plain"
    assert sent.url in copy.body
    assert "Northwind Linux" in copy.subject
    assert "ada@northwind.example invites you" in copy.body
    assert _tags()[-1] == "org:invitation:sent"


def test_the_lifetime_is_a_setting(system: Actor, settings: object) -> None:
    settings.LOCKSTEP_INVITATION_DAYS = 2  # type: ignore[attr-defined]
    org, admin = _org_with_admin(system)
    invitation = do_invite_member(org, email="x@example.org", role=Role.MEMBER, actor=admin)
    assert invitation.invitation.expires_at - invitation.invitation.created_at == timedelta(days=2)


def test_new_account_accepts_once_and_becomes_a_member(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    sent = do_invite_member(org, email="new@example.org", role=Role.MEMBER, actor=admin)
    found = access_invitation_by_token(_token(sent), now=clock.now())
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    membership = do_accept_invitation(
        found, actor=Actor.anonymous(), new_account=NewAccount("New Person", PASSWORD)
    )
    user = membership.user
    assert (user.email, user.display_name, membership.org, membership.role) == (
        "new@example.org",
        "New Person",
        org,
        Role.MEMBER,
    )
    assert user.check_password(PASSWORD)
    assert _tags(before) == ["account:user:created", "org:member:added", "org:invitation:accepted"]
    accepted = Invitation.objects.get()
    assert accepted.accepted_by == user
    # Single use: the link is spent, and the same page answers for it as for nonsense.
    with pytest.raises(NotFound, match="no longer valid"):
        access_invitation_by_token(_token(sent), now=clock.now())
    with pytest.raises(NotFound, match="no longer valid"):
        access_invitation_by_token("nonsense", now=clock.now())
    with pytest.raises(NotFound, match="no longer valid"):
        do_accept_invitation(found, actor=actor_for(user))


def test_the_password_rules_apply_to_a_new_account(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    sent = do_invite_member(org, email="new@example.org", role=Role.MEMBER, actor=admin)
    found = access_invitation_by_token(_token(sent), now=clock.now())
    with pytest.raises(ValidationError, match="too short") as caught:
        do_accept_invitation(found, actor=Actor.anonymous(), new_account=NewAccount("N", "short"))
    assert caught.value.field == "password"
    assert not Membership.objects.filter(user__email="new@example.org").exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_existing_account_must_be_the_one_that_accepts(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    invitee, other = UserFactory(email="bo@example.org"), UserFactory()
    sent = do_invite_member(org, email="BO@example.org", role=Role.ADMIN, actor=admin)
    found = access_invitation_by_token(_token(sent), now=clock.now())
    with pytest.raises(PermissionDenied, match="log in with that address"):
        do_accept_invitation(found, actor=actor_for(other))
    with pytest.raises(PermissionDenied):
        do_accept_invitation(found, actor=Actor.anonymous())
    with pytest.raises(Conflict, match="already has an account"):
        do_accept_invitation(found, actor=Actor.anonymous(), new_account=NewAccount("B", PASSWORD))
    membership = do_accept_invitation(found, actor=actor_for(invitee))
    assert (membership.user, membership.role) == (invitee, Role.ADMIN)
    assert not Membership.objects.filter(user=other).exists()


def test_an_invitation_expires(system: Actor) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        org, admin = _org_with_admin(system)
        sent = do_invite_member(org, email="late@example.org", role=Role.MEMBER, actor=admin)
        found = access_invitation_by_token(_token(sent), now=clock.now())
        traveller.shift(timedelta(days=7))
        with pytest.raises(NotFound, match="no longer valid"):
            access_invitation_by_token(_token(sent), now=clock.now())
        with pytest.raises(NotFound):
            do_accept_invitation(
                found, actor=Actor.anonymous(), new_account=NewAccount("L", PASSWORD)
            )
        assert not list_pending_invitations(org, now=clock.now())
        # An expired invitation does not stand in the way of a new one.
        do_invite_member(org, email="late@example.org", role=Role.MEMBER, actor=admin)


def test_a_revoked_invitation_stops_working_and_its_waiting_mail_is_cancelled(
    system: Actor,
) -> None:
    org, admin = _org_with_admin(system)
    sent = do_invite_member(org, email="gone@example.org", role=Role.MEMBER, actor=admin)
    revoked = do_revoke_invitation(sent.invitation, actor=admin)
    assert revoked.revoked_at is not None
    copy = OutboundMessage.objects.get(pk=revoked.outbound_id)
    assert copy.status == OutboxStatus.DROPPED
    assert copy.last_error.startswith("cancelled: the invitation was revoked")
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert (event.tag, event.data["mail_cancelled"]) == ("org:invitation:revoked", True)
    with pytest.raises(NotFound, match="no longer valid"):
        access_invitation_by_token(_token(sent), now=clock.now())
    with pytest.raises(NotFound):
        do_revoke_invitation(sent.invitation, actor=admin)


def test_a_sent_invitation_is_revoked_without_mail_to_cancel(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    sent = do_invite_member(org, email="sent@example.org", role=Role.MEMBER, actor=admin)
    OutboundMessage.objects.filter(pk=sent.invitation.outbound_id).update(status="sent")
    do_revoke_invitation(sent.invitation, actor=admin)
    assert OutboundMessage.objects.get(pk=sent.invitation.outbound_id).status == "sent"


def test_only_administrators_and_operators_invite_and_revoke(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    member = UserFactory()
    do_add_member(org, member, actor=system)
    with pytest.raises(PermissionDenied, match="administrator"):
        do_invite_member(org, email="x@example.org", role=Role.MEMBER, actor=actor_for(member))
    operator = actor_for(UserFactory(is_staff=True))
    sent = do_invite_member(org, email="x@example.org", role=Role.MEMBER, actor=operator)
    with pytest.raises(PermissionDenied):
        do_revoke_invitation(sent.invitation, actor=actor_for(member))
    do_revoke_invitation(sent.invitation, actor=admin)


def test_members_and_pending_invitees_are_not_invited_twice(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    with pytest.raises(Conflict, match="already a member"):
        do_invite_member(org, email="ADA@northwind.example", role=Role.MEMBER, actor=admin)
    do_invite_member(org, email="twice@example.org", role=Role.MEMBER, actor=admin)
    with pytest.raises(Conflict, match="pending invitation"):
        do_invite_member(org, email="Twice@example.org", role=Role.ADMIN, actor=admin)
    with pytest.raises(ValidationError, match="not a valid e-mail"):
        do_invite_member(org, email="not an address", role=Role.MEMBER, actor=admin)


def test_someone_who_joined_meanwhile_cannot_accept_again(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    invitee = UserFactory(email="meanwhile@example.org")
    sent = do_invite_member(org, email=invitee.email, role=Role.MEMBER, actor=admin)
    do_add_member(org, invitee, actor=admin)
    with pytest.raises(Conflict, match="already a member"):
        do_accept_invitation(sent.invitation, actor=actor_for(invitee))


def test_sending_is_rate_limited_per_organisation(system: Actor) -> None:
    org, other = OrganizationFactory(), OrganizationFactory()
    with time_machine.travel(START, tick=False):
        for _ in range(SEND_LIMIT):
            check_invitation_rate(org, now=clock.now())
        with pytest.raises(RateLimited):
            check_invitation_rate(org, now=clock.now())
        check_invitation_rate(other, now=clock.now())


@pytest.mark.parametrize(
    ("accepted", "revoked", "hours_left", "state"),
    [
        (True, False, 5, InvitationState.ACCEPTED),
        (False, True, 5, InvitationState.REVOKED),
        (False, False, 0, InvitationState.EXPIRED),
        (False, False, -1, InvitationState.EXPIRED),
        (False, False, 1, InvitationState.PENDING),
    ],
)
def test_invitation_state(accepted: bool, revoked: bool, hours_left: int, state: str) -> None:
    now = START
    assert (
        invitation_state(
            accepted_at=now if accepted else None,
            revoked_at=now if revoked else None,
            expires_at=now + timedelta(hours=hours_left),
            now=now,
        )
        == state
    )


def test_invitation_expiry_is_at_least_a_day() -> None:
    assert compute_invitation_expiry(START, days=7) == START + timedelta(days=7)
    assert compute_invitation_expiry(START, days=0) == START + timedelta(days=1)


@pytest.mark.parametrize(
    ("left", "operator", "ends"), [(0, False, True), (1, False, False), (0, True, False)]
)
def test_who_loses_sessions_and_tokens_on_removal(left: int, operator: bool, ends: bool) -> None:
    assert ends_access_on_removal(memberships_left=left, is_operator=operator) is ends


def test_a_token_far_too_long_is_no_invitation() -> None:
    with pytest.raises(NotFound, match="no longer valid"):
        access_invitation_by_token("x" * 101, now=clock.now())
    with pytest.raises(NotFound, match="no longer valid"):
        access_invitation_by_token("", now=clock.now())


def test_an_invitation_names_itself(system: Actor) -> None:
    org, admin = _org_with_admin(system)
    sent = do_invite_member(org, email="n@example.org", role=Role.MEMBER, actor=admin)
    assert str(sent.invitation) == f"n@example.org to {org.pk} as member"
