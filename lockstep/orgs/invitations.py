"""Invitations: an organisation's administrator (or an operator) invites an e-mail address
with a role; the invitee follows the link in the mail and joins.

The link holds a token of 256 random bits; Lockstep keeps only its SHA-256 (as for API
tokens: a secret that cannot be guessed needs no salt or slow hash, and a plain digest can be
looked up by its index). The token exists in the mail alone: neither the page nor the API
shows it to the administrator, since whoever holds it may create an account for the invited
address. Only the server's command line prints it (`lockstep invite`), for an operator who
already may create accounts. An invitation works once, for LOCKSTEP_INVITATION_DAYS days,
until an administrator revokes it; used, revoked, expired and unknown links all get the same
"no longer valid" answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from lockstep.accounts.actions import clean_email, do_create_user
from lockstep.accounts.models import User
from lockstep.audit.record import record
from lockstep.audit.tags import OrgTag
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied
from lockstep.core.links import invitation_url
from lockstep.mailgw.outbound.holds import cancel_copy
from lockstep.mailgw.outbound.outbox import Recipient, fan_out
from lockstep.ops.ratelimit import check_rate
from lockstep.orgs.actions import join_org, require_admin
from lockstep.orgs.emails import invitation as invitation_mail
from lockstep.orgs.models import Invitation, Membership, Organization, Role
from lockstep.orgs.policy import compute_invitation_expiry
from lockstep.orgs.queries import (
    INVALID_INVITATION,
    hash_invitation_token,
    list_pending_invitations,
)

# Invitations sent, per organisation, from the web page and the API together.
SEND_LIMIT = 30
SEND_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Sent:
    invitation: Invitation
    url: str  # the link with its token: for the mail, and for `lockstep invite` to print


@dataclass(frozen=True)
class NewAccount:
    """What a new invitee gives to get an account: the address is the invitation's."""

    display_name: str
    password: str


def check_invitation_rate(org: Organization, *, now: datetime) -> None:
    """Raise `RateLimited` past SEND_LIMIT invitations an hour for one organisation. Edges call
    it before the action (outside its transaction, so a refused action still counts)."""
    check_rate(
        f"org:invite:{org.pk}", limit=SEND_LIMIT, window_seconds=SEND_WINDOW_SECONDS, now=now
    )


@transaction.atomic
def do_invite_member(org: Organization, *, email: str, role: Role, actor: Actor) -> Sent:
    """Invite `email` to `org` as `role` and queue the mail with the link."""
    require_admin(actor, org)
    email = clean_email(email)
    if Membership.objects.filter(org=org, user__email__iexact=email).exists():
        msg = f"{email} is already a member of {org.name}."
        raise Conflict(msg, field="email")
    now = clock.now()
    if list_pending_invitations(org, now=now).filter(email__iexact=email).exists():
        msg = f"{email} already has a pending invitation; revoke it to send a new one."
        raise Conflict(msg, field="email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        org=org,
        email=email,
        role=role,
        token_hash=hash_invitation_token(token),
        invited_by_id=actor.user_id,
        created_at=now,
        expires_at=compute_invitation_expiry(now, days=settings.LOCKSTEP_INVITATION_DAYS),
    )
    url = invitation_url(token)
    spec = invitation_mail(
        org,
        role_label=Role(role).label,
        invited_by=actor.label if actor.is_authenticated else "",
        url=url,
        expires_at=invitation.expires_at,
    )
    (copy,) = fan_out(spec, [Recipient(email)])
    invitation.outbound_id = copy.pk
    invitation.save(update_fields=["outbound_id"])
    record(
        OrgTag.INVITATION_SENT,
        actor=actor,
        object_type="invitation",
        object_id=invitation.pk,
        org_id=org.pk,
        data={"email": email, "role": role.value, "expires_at": invitation.expires_at},
    )
    return Sent(invitation, url)


def _lock_pending(invitation: Invitation, *, now: datetime) -> Invitation:
    locked = (
        list_pending_invitations(invitation.org, now=now)
        .select_for_update()
        .filter(pk=invitation.pk)
        .first()
    )
    if locked is None:
        raise NotFound(INVALID_INVITATION)
    return locked


@transaction.atomic
def do_revoke_invitation(invitation: Invitation, *, actor: Actor) -> Invitation:
    """The link stops working; its mail is cancelled if it has not gone yet."""
    require_admin(actor, invitation.org)
    locked = _lock_pending(invitation, now=clock.now())
    locked.revoked_at = clock.now()
    locked.save(update_fields=["revoked_at"])
    cancelled = locked.outbound_id is not None and cancel_copy(
        locked.outbound_id, reason=f"the invitation was revoked by {actor.label}"
    )
    record(
        OrgTag.INVITATION_REVOKED,
        actor=actor,
        object_type="invitation",
        object_id=locked.pk,
        org_id=locked.org_id,
        data={"email": locked.email, "mail_cancelled": cancelled},
    )
    return locked


def _invitee(
    invitation: Invitation, *, actor: Actor, new_account: NewAccount | None
) -> tuple[User, Actor]:
    """The account that joins: a new one, made from `new_account` for the invited address
    (which must have none yet), or the caller's own, which must be that address."""
    existing = User.objects.filter(email__iexact=invitation.email).first()
    if new_account is not None:
        if existing is not None:
            msg = f"{invitation.email} already has an account: log in to accept."
            raise Conflict(msg)
        user = do_create_user(
            email=invitation.email,
            password=new_account.password,
            display_name=new_account.display_name,
            actor=Actor.system("invitation"),
        )
        return user, Actor.for_user(user)
    if existing is None or actor.user_id != existing.pk:
        msg = f"This invitation is for {invitation.email}: log in with that address to accept it."
        raise PermissionDenied(msg)
    return existing, actor


@transaction.atomic
def do_accept_invitation(
    invitation: Invitation, *, actor: Actor, new_account: NewAccount | None = None
) -> Membership:
    """Join the invitation's organisation with its role; the invitation is spent."""
    now = clock.now()
    locked = _lock_pending(invitation, now=now)
    user, actor = _invitee(locked, actor=actor, new_account=new_account)
    membership = join_org(
        locked.org, user, role=Role(locked.role), actor=actor, invitation_id=locked.pk
    )
    locked.accepted_at, locked.accepted_by = now, user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    record(
        OrgTag.INVITATION_ACCEPTED,
        actor=actor,
        object_type="invitation",
        object_id=locked.pk,
        org_id=locked.org_id,
        data={"email": locked.email, "user_id": user.pk, "new_account": new_account is not None},
    )
    return membership
