"""Reads of organisations. Every read that a view makes goes through here."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound
from lockstep.orgs.models import Invitation, Membership, OpenPGPKey, Organization, Role
from lockstep.orgs.policy import InvitationState, invitation_state


def role_in(actor: Actor, org: Organization) -> str | None:
    if actor.user_id is None:
        return None
    return (
        Membership.objects.filter(org=org, user_id=actor.user_id)
        .values_list("role", flat=True)
        .first()
    )


def is_org_admin(actor: Actor, org: Organization) -> bool:
    return actor.is_privileged or role_in(actor, org) == Role.ADMIN


def org_ids_of(actor: Actor) -> list[int]:
    if actor.user_id is None:
        return []
    return list(Membership.objects.filter(user_id=actor.user_id).values_list("org_id", flat=True))


def access_org_by_slug(actor: Actor, slug: str) -> Organization:
    """An organisation, for its members and operators; anyone else gets NotFound."""
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise NotFound("No such organisation.")
    if actor.is_privileged:
        return org
    if role_in(actor, org) is not None:
        return org
    raise NotFound("No such organisation.")


def list_orgs_for(actor: Actor) -> QuerySet[Organization]:
    orgs = Organization.objects.order_by("name")
    if actor.is_privileged:
        return orgs
    if actor.user_id is None:
        return orgs.none()
    return orgs.filter(memberships__user_id=actor.user_id)


def list_members_of(org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(org=org).select_related("user").order_by("user__email")


def active_keys() -> QuerySet[OpenPGPKey]:
    return OpenPGPKey.objects.filter(removed_at__isnull=True)


def list_keys_of_org(org: Organization) -> QuerySet[OpenPGPKey]:
    return active_keys().filter(org=org).order_by("added_at")


def list_keys_of_user(user_id: int | None) -> QuerySet[OpenPGPKey]:
    if user_id is None:
        return OpenPGPKey.objects.none()
    return active_keys().filter(user_id=user_id)


def list_memberships_for(actor: Actor) -> QuerySet[Membership]:
    if actor.user_id is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user_id=actor.user_id).select_related("org").order_by("org__name")
    )


def org_with_members(org: Organization) -> Organization:
    """The organisation with its members and keys loaded in two queries."""
    return (
        Organization.objects.prefetch_related(
            Prefetch("memberships", queryset=list_members_of(org)),
            Prefetch("openpgp_keys", queryset=active_keys()),
        )
        .filter(pk=org.pk)
        .get()
    )


def access_membership(org: Organization, user_id: int) -> Membership:
    """A member of `org` (which the caller may already see), named by their account's id."""
    found = list_members_of(org).filter(user_id=user_id).first()
    if found is None:
        raise NotFound("No such member.")
    return found


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def state_of(invitation: Invitation, *, now: datetime) -> InvitationState:
    return invitation_state(
        accepted_at=invitation.accepted_at,
        revoked_at=invitation.revoked_at,
        expires_at=invitation.expires_at,
        now=now,
    )


INVALID_INVITATION = "This invitation is no longer valid."
MAX_TOKEN_LENGTH = 100  # a link's token is 43 characters; anything much longer is not one


def access_invitation_by_token(token: str, *, now: datetime) -> Invitation:
    """A pending invitation, for whoever holds its link. Unknown, used, revoked and expired
    tokens are one NotFound: the page says the same for all four."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound(INVALID_INVITATION)
    invitation = (
        Invitation.objects.select_related("org")
        .filter(token_hash=hash_invitation_token(token))
        .first()
    )
    if invitation is None or state_of(invitation, now=now) is not InvitationState.PENDING:
        raise NotFound(INVALID_INVITATION)
    return invitation


def list_pending_invitations(org: Organization, *, now: datetime) -> QuerySet[Invitation]:
    """The invitations of `org` that can still be accepted, newest first."""
    return Invitation.objects.filter(
        org=org, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).order_by("-created_at", "-id")


def access_invitation_by_id(org: Organization, invitation_id: int, *, now: datetime) -> Invitation:
    """A pending invitation of `org` (which the caller may already see)."""
    found = list_pending_invitations(org, now=now).filter(pk=invitation_id).first()
    if found is None:
        raise NotFound("No such invitation.")
    return found
