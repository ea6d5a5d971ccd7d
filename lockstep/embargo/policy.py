"""Embargo clocks: is a disclosure date acceptable, what date to suggest, may the date move later.

Pure decisions (PROCESS.md sections 2 and 4): values in, a decision out, or a ValidationError a
maintainer new to security can act on. No ORM, no I/O, no wall clock: `now` is a parameter.
Datetimes must be aware; all are converted to UTC; decided dates are truncated to the minute.
An embargo counts exact 24-hour days (elapsed time, so daylight saving cannot move it) from its
*clock start*: the first post to the list, or for the Linux kernel the start of the release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from lockstep.core.clock import require_aware
from lockstep.core.errors import ValidationError
from lockstep.embargo.wording import DAY_NAMES, duration, fmt, plural

HOURS_PER_DAY = 24

# Night is [22:00, 06:00) UTC. Publishing needs people awake on every side at the same moment: the
# reporter posting the details, upstream tagging the release, each distribution pushing updates.
# 22:00-06:00 UTC is night in Europe and Africa (23:00-07:00 in Berlin) and evening to small hours
# in the Americas (18:00-02:00 in New York), where most list members work.
NIGHT_START_HOUR = 22
NIGHT_END_HOUR = 6

# Suggested time of day: 14:00 UTC is mid-afternoon in Europe (15:00/16:00 in Berlin), morning on
# the east coast of the Americas (09:00/10:00 in New York) and early morning on the west coast.
SUGGESTED_HOUR = 14

SATURDAY = 5
# Tuesday to Thursday: a working day either side to prepare, and to clean up after.
MIDWEEK = frozenset({1, 2, 3})


@dataclass(frozen=True)
class EmbargoPolicy:
    """How long a channel lets an issue stay embargoed.

    `max_days` is the hard limit (a longer request is cut back); `preferred_days` is what the
    channel asks for (longer is allowed, with a warning); `min_hours` is the least notice members
    get (shorter needs a coordinator's override). `min_hours` may be 0: no minimum.
    """

    max_days: int
    preferred_days: int
    min_hours: int
    name: str = ""

    def __post_init__(self) -> None:
        days, preferred, hours = self.max_days, self.preferred_days, self.min_hours
        problems = (
            (days < 1, f"max_days must be at least 1 (got {days})"),
            (preferred < 1, f"preferred_days must be at least 1 (got {preferred})"),
            (preferred > days, f"preferred_days ({preferred}) exceeds max_days ({days})"),
            (hours < 0, f"min_hours must not be negative (got {hours})"),
            (hours >= days * HOURS_PER_DAY, f"min_hours ({hours}) exceeds max_days ({days})"),
        )
        for failed, msg in problems:
            if failed:
                raise ValueError(msg)

    @property
    def label(self) -> str:
        """How messages name the policy."""
        return f"the {self.name} policy" if self.name else "this embargo policy"


# Openwall distros / linux-distros: at most 14 days, 7 or fewer preferred, a day's notice at least.
DISTROS = EmbargoPolicy(max_days=14, preferred_days=7, min_hours=24, name="distros")
# Linux kernel security team: fixes go out as soon as possible and publication is held at most 7
# calendar days from the start of the release process. The 7 days are a ceiling, not a wait, so
# there is no minimum notice (min_hours=0). The rare 14-day case is a separate policy that a
# coordinator selects on purpose; its preferred 7 days make every date past day 7 carry a warning.
KERNEL = EmbargoPolicy(max_days=7, preferred_days=7, min_hours=0, name="Linux kernel")
KERNEL_EXCEPTIONAL = EmbargoPolicy(
    max_days=14, preferred_days=7, min_hours=0, name="Linux kernel (exceptional)"
)
# Vendor deadlines of the Project Zero kind: the deadline is the expectation, so preferred equals
# the maximum; a day's notice keeps downstreams from being surprised by an early disclosure.
NINETY_DAY = EmbargoPolicy(max_days=90, preferred_days=90, min_hours=24, name="90-day")


class DateOutcome(StrEnum):
    ACCEPTED = "accepted"
    SHORTENED = "shortened"


class NoticeCode(StrEnum):
    SHORT_NOTICE = "short-notice"
    BEYOND_PREFERRED = "beyond-preferred"
    WEEKEND = "weekend"
    NIGHT = "night"
    NO_TIME_GIVEN = "no-time-given"


@dataclass(frozen=True)
class Notice:
    """A warning: a machine code to test and filter on, and a sentence for a human."""

    code: NoticeCode
    message: str


@dataclass(frozen=True)
class DateDecision:
    requested: datetime  # as asked, converted to UTC
    decided: datetime  # aware UTC, whole minutes
    outcome: DateOutcome
    reasons: tuple[str, ...]
    warnings: tuple[Notice, ...]


class ExtensionOutcome(StrEnum):
    GRANTED = "granted"
    PARTIALLY_GRANTED = "partially_granted"
    REFUSED = "refused"


@dataclass(frozen=True)
class ExtensionDecision:
    outcome: ExtensionOutcome
    new_date: datetime  # the current date when refused
    reasons: tuple[str, ...]


def check_disclosure_date(
    policy: EmbargoPolicy,
    *,
    requested: datetime,
    now: datetime,
    clock_start: datetime | None = None,
    allow_short: bool = False,
) -> DateDecision:
    """Accept `requested`, or cut it back to the policy's maximum, or raise ValidationError.

    `allow_short` is the coordinator's override for extreme cases: a date under the minimum notice
    is then accepted with a warning instead of refused.
    """
    asked = _utc(requested, "requested")
    now = _utc(now, "now")
    start = now if clock_start is None else _utc(clock_start, "clock_start")
    wanted = _whole_minute(asked)
    if wanted <= now:
        msg = (
            f"The disclosure date {fmt(wanted)} is not in the future (it is now {fmt(now)}). "
            "Propose a date and time that is still ahead."
        )
        raise ValidationError(msg, field="requested")
    deadline = _deadline(policy, start)
    earliest = now + timedelta(hours=policy.min_hours)
    if deadline <= now or (deadline < earliest and not allow_short):
        raise ValidationError(_exhausted_message(policy, start, deadline, now), field="requested")
    shortened = wanted > deadline
    decided = min(wanted, deadline)
    notices: list[Notice] = []
    if decided < earliest:
        if not allow_short:
            raise ValidationError(_too_soon_message(policy, decided, now), field="requested")
        notices.append(_short_notice(policy, decided, now))
    notices.extend(_calendar_notices(policy, decided=decided, start=start))
    if not shortened and _looks_date_only(requested):
        notices.append(_no_time_notice(requested))
    return DateDecision(
        requested=asked,
        decided=decided,
        outcome=DateOutcome.SHORTENED if shortened else DateOutcome.ACCEPTED,
        reasons=(_date_reason(policy, start, wanted=wanted, deadline=deadline),),
        warnings=tuple(notices),
    )


def _date_reason(
    policy: EmbargoPolicy, start: datetime, *, wanted: datetime, deadline: datetime
) -> str:
    """Why the decided date is what it is: as asked, within the maximum, or cut back to it."""
    if wanted > deadline:
        return (
            f"{fmt(wanted)} is beyond {_maximum(policy, start)}. The date was cut back to "
            f"{fmt(deadline)}, the latest the policy allows."
        )
    return f"{fmt(wanted)} is within {_maximum(policy, start)}, until {fmt(deadline)}."


def suggest_disclosure_date(
    policy: EmbargoPolicy, *, now: datetime, clock_start: datetime | None = None
) -> datetime:
    """A date to propose: near `preferred_days` after the clock start, on a weekday at 14:00 UTC.

    Among the 14:00 UTC slots the policy allows, it prefers, in order: a weekday, a slot within
    the preferred days, Tuesday to Thursday, nearness to the preferred day, then the earlier slot.
    If no 14:00 slot fits (a window shorter than a day), it suggests the latest allowed minute.
    """
    now = _utc(now, "now")
    start = now if clock_start is None else _utc(clock_start, "clock_start")
    deadline = _deadline(policy, start)
    earliest = now + timedelta(hours=policy.min_hours)
    if deadline <= now or deadline < earliest:
        raise ValidationError(_exhausted_message(policy, start, deadline, now), field="clock_start")
    target = start + timedelta(days=policy.preferred_days)
    first = datetime.combine(earliest.date(), datetime.min.time(), tzinfo=UTC)
    slots = (
        first + timedelta(days=offset, hours=SUGGESTED_HOUR)
        for offset in range((deadline.date() - earliest.date()).days + 1)
    )
    fitting = [slot for slot in slots if slot > now and earliest <= slot <= deadline]
    if not fitting:
        return deadline
    return min(fitting, key=lambda slot: _slot_rank(slot, target))


def decide_extension(  # noqa: PLR0913 - keyword-only facts of one request, each named at the call
    policy: EmbargoPolicy,
    *,
    clock_start: datetime,
    current: datetime,
    requested: datetime,
    reason: str,
    now: datetime,
) -> ExtensionDecision:
    """Grant, cut back to the policy's maximum, or refuse a request to move the date later."""
    start = _utc(clock_start, "clock_start")
    current = _utc(current, "current")
    wanted = _whole_minute(_utc(requested, "requested"))
    now = _utc(now, "now")
    deadline = _deadline(policy, start)
    refusals = _extension_refusals(policy, start, current=current, wanted=wanted, now=now)
    if not reason.strip():
        refusals = (_NO_REASON, *refusals)
    if refusals:
        return ExtensionDecision(ExtensionOutcome.REFUSED, current, refusals)
    given = f"Reason given: {reason.strip()}"
    if wanted > deadline:
        message = (
            f"{fmt(wanted)} is beyond {_maximum(policy, start)}. The date moves from "
            f"{fmt(current)} to {fmt(deadline)}, the latest the policy allows. {given}"
        )
        return ExtensionDecision(ExtensionOutcome.PARTIALLY_GRANTED, deadline, (message,))
    message = (
        f"The date moves from {fmt(current)} to {fmt(wanted)} "
        f"({duration(wanted - current)} more), within {_maximum(policy, start)}. {given}"
    )
    return ExtensionDecision(ExtensionOutcome.GRANTED, wanted, (message,))


_NO_REASON = (
    "No reason was given. Everyone under embargo has to wait longer, so say why more time is "
    "needed (for example: the fix is not ready, or a vendor is still testing)."
)


def _extension_refusals(
    policy: EmbargoPolicy, start: datetime, *, current: datetime, wanted: datetime, now: datetime
) -> tuple[str, ...]:
    """Every reason to refuse (but the missing reason), so all can be fixed at once."""
    refusals: list[str] = []
    if current <= now:
        refusals.append(
            f"The embargo already ended at {fmt(current)}, so it cannot be extended. "
            "Post the full details to the public list now."
        )
    if wanted <= current:
        refusals.append(
            f"{fmt(wanted)} is not later than the current date {fmt(current)}, so this is "
            "not an extension. To disclose earlier, propose a new date instead."
        )
    if current >= _deadline(policy, start):
        refusals.append(
            f"The current date {fmt(current)} is already at {_maximum(policy, start)}, "
            "so there is no time left to add."
        )
    return tuple(refusals)


def _calendar_notices(policy: EmbargoPolicy, *, decided: datetime, start: datetime) -> list[Notice]:
    notices: list[Notice] = []
    if decided > start + timedelta(days=policy.preferred_days):
        notices.append(
            Notice(
                NoticeCode.BEYOND_PREFERRED,
                f"{fmt(decided)} is {duration(decided - start)} after the clock start; "
                f"{policy.label} prefers {plural(policy.preferred_days, 'day')} or fewer. "
                "Every day of embargo is a day in which the issue can leak.",
            )
        )
    if decided.weekday() >= SATURDAY:
        notices.append(
            Notice(
                NoticeCode.WEEKEND,
                f"{fmt(decided)} falls on a {DAY_NAMES[decided.weekday()]} (UTC). Many "
                "security teams are off at weekends, so fixed packages may ship late; "
                "Tuesday to Thursday is safest.",
            )
        )
    if decided.hour >= NIGHT_START_HOUR or decided.hour < NIGHT_END_HOUR:
        notices.append(
            Notice(
                NoticeCode.NIGHT,
                f"{decided:%H:%M} UTC is at night ({NIGHT_START_HOUR:02d}:00 to "
                f"{NIGHT_END_HOUR:02d}:00 UTC). The reporter, upstream and every distribution "
                "must be awake to publish together; "
                f"{SUGGESTED_HOUR:02d}:00 UTC suits Europe and the Americas.",
            )
        )
    return notices


def _short_notice(policy: EmbargoPolicy, decided: datetime, now: datetime) -> Notice:
    return Notice(
        NoticeCode.SHORT_NOTICE,
        f"{fmt(decided)} is {duration(decided - now)} from now, under the minimum of "
        f"{policy.min_hours} hours that {policy.label} gives members to prepare. A coordinator "
        "allowed it for an extreme case: tell members at once.",
    )


def _no_time_notice(requested: datetime) -> Notice:
    return Notice(
        NoticeCode.NO_TIME_GIVEN,
        f"The date was given as midnight exactly ({requested.isoformat()}). If you meant only "
        "a day, give a time as well: a day begins at different moments around the world.",
    )


def _too_soon_message(policy: EmbargoPolicy, decided: datetime, now: datetime) -> str:
    # Rounded up to the whole minute: the first time the message can name that is allowed.
    earliest = _whole_minute(now + timedelta(hours=policy.min_hours, minutes=1, microseconds=-1))
    return (
        f"{fmt(decided)} is {duration(decided - now)} from now. Under {policy.label}, "
        f"members get at least {policy.min_hours} hours to prepare fixed packages: choose "
        f"{fmt(earliest)} or later, or ask a coordinator to allow a shorter embargo if the "
        "case is extreme (for example, the issue is being exploited)."
    )


def _exhausted_message(
    policy: EmbargoPolicy, start: datetime, deadline: datetime, now: datetime
) -> str:
    head = f"The embargo period is exhausted: {_maximum(policy, start)}"
    if deadline <= now:
        return (
            f"{head}, and that ended at {fmt(deadline)}. "
            "Disclose now: post the full details to the public list."
        )
    return (
        f"{head}, which ends at {fmt(deadline)}, less than the minimum notice of "
        f"{policy.min_hours} hours from now. Disclose by {fmt(deadline)} at the latest; "
        "a coordinator may allow the short notice."
    )


def _slot_rank(slot: datetime, target: datetime) -> tuple[bool, bool, bool, int, datetime]:
    return (
        slot.weekday() >= SATURDAY,
        slot > target,
        slot.weekday() not in MIDWEEK,
        abs((slot.date() - target.date()).days),
        slot,
    )


def _looks_date_only(requested: datetime) -> bool:
    """Midnight exactly in the zone it was given in: probably a date picked without a time."""
    return requested.time() == time(0)


def _deadline(policy: EmbargoPolicy, start: datetime) -> datetime:
    return _whole_minute(start + timedelta(days=policy.max_days))


def _utc(value: datetime, field: str) -> datetime:
    try:
        return require_aware(value, name=field)
    except ValueError as exc:
        raise ValidationError(str(exc), field=field) from exc


def _whole_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _maximum(policy: EmbargoPolicy, start: datetime) -> str:
    return (
        f"the maximum of {plural(policy.max_days, 'day')} that {policy.label} allows from the "
        f"clock start ({fmt(start)})"
    )
