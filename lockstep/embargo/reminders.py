"""Which embargo reminders are due: pure, `now` is a parameter.

Participants that have not reported "fix ready" are reminded 72 hours, 24 hours and 1 hour
before the disclosure date; everyone is told at the date itself. A reminder whose moment
passed while nothing ran is still sent late, unless a later one is already due (then only
the latest is sent: three stale reminders at once would be noise), and never after the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lockstep.core.clock import require_aware


class Kind(StrEnum):
    T_72H = "t-72h"
    T_24H = "t-24h"
    T_1H = "t-1h"
    T_0 = "t-0"


BEFORE: tuple[tuple[Kind, timedelta], ...] = (
    (Kind.T_72H, timedelta(hours=72)),
    (Kind.T_24H, timedelta(hours=24)),
    (Kind.T_1H, timedelta(hours=1)),
)
EXPLOIT_DEADLINE = timedelta(days=7)


@dataclass(frozen=True)
class Due:
    kind: Kind
    at: datetime


def schedule(disclosure_at: datetime) -> tuple[Due, ...]:
    """Every reminder for one date, in time order (the date itself last)."""
    when = require_aware(disclosure_at, name="disclosure_at")
    return (*(Due(kind, when - before) for kind, before in BEFORE), Due(Kind.T_0, when))


def due_before_date(disclosure_at: datetime, *, now: datetime, sent: frozenset[str]) -> Due | None:
    """The pre-date reminder to send now, if any (T-0 is the publication's own notice)."""
    now = require_aware(now, name="now")
    if now >= disclosure_at:
        return None
    passed = [due for due in schedule(disclosure_at)[:-1] if due.at <= now]
    if not passed or passed[-1].kind in sent:
        return None
    return passed[-1]


def next_moment(disclosure_at: datetime, *, now: datetime) -> datetime | None:
    """When the next reminder (or the date) falls due after `now`."""
    later = [due.at for due in schedule(disclosure_at) if due.at > now]
    return min(later, default=None)


def hours_left(disclosure_at: datetime, *, now: datetime) -> int:
    return max(int((disclosure_at - now).total_seconds() // 3600), 0)
