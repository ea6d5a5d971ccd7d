"""Pure decisions about memberships and invitations: values in, a decision out (no ORM, no
clock; `now` is a parameter)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


def invitation_state(
    *,
    accepted_at: datetime | None,
    revoked_at: datetime | None,
    expires_at: datetime,
    now: datetime,
) -> InvitationState:
    """Only a pending invitation can be accepted (or revoked); the others are spent."""
    if accepted_at is not None:
        return InvitationState.ACCEPTED
    if revoked_at is not None:
        return InvitationState.REVOKED
    if now >= expires_at:
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def compute_invitation_expiry(now: datetime, *, days: int) -> datetime:
    """When an invitation sent at `now` stops working (at least one day from now)."""
    return now + timedelta(days=max(days, 1))


def ends_access_on_removal(*, memberships_left: int, is_operator: bool) -> bool:
    """A person removed from their last organisation can see nothing any more: their sessions
    end and their API tokens are revoked. Someone who still belongs to another organisation
    keeps both (that organisation's cases are still theirs to see), and so does an operator,
    whose work needs no organisation."""
    return memberships_left == 0 and not is_operator
