"""Who may do what in a case: pure decisions over roles (no ORM, no clock)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from lockstep.cases.models import ParticipantRole

LEADING_ROLES = frozenset({ParticipantRole.UPSTREAM, ParticipantRole.COORDINATOR})


def can_view_case(roles: Collection[str]) -> bool:
    """Any participating organisation's member sees the case; nobody else does."""
    return bool(roles)


def can_lead_case(roles: Collection[str]) -> bool:
    """The upstream team and the coordinator run the case: dates, participants, vulnerabilities."""
    return any(role in LEADING_ROLES for role in roles)


def can_allow_short_embargo(roles: Collection[str], *, operates_list: bool) -> bool:
    """Only the coordinator may set a date inside the list's minimum notice (an actively
    exploited issue): the case's coordinator seat, or the upstream when it runs the list
    itself. The notice protects the list's members, so the upstream alone cannot waive it."""
    return ParticipantRole.COORDINATOR in roles or (operates_list and bool(roles))


def need_to_know(
    redistributor_org_ids: Iterable[int], channel_member_org_ids: Iterable[int]
) -> list[int]:
    """The vendors to bring in by default: those who ship the project AND sit on the list."""
    members = set(channel_member_org_ids)
    return sorted({org for org in redistributor_org_ids if org in members})
