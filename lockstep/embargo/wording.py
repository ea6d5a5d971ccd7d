"""How the embargo's decisions write moments and spans for people: pure formatting, shared by
the date, extension and notice wording in `policy`."""

from __future__ import annotations

from datetime import datetime, timedelta

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def fmt(value: datetime) -> str:
    """The moment in UTC with its weekday, as in 2026-12-01T14:00Z (Tuesday)."""
    return f"{value:%Y-%m-%dT%H:%MZ} ({DAY_NAMES[value.weekday()]})"


def plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def duration(span: timedelta) -> str:
    """Whole days, hours and minutes, largest first, as in 2 days 3 hours."""
    days, rest = divmod(span, timedelta(days=1))
    hours, rest = divmod(rest, timedelta(hours=1))
    mins = rest // timedelta(minutes=1)
    units = ((days, "day"), (hours, "hour"), (mins, "minute"))
    parts = [plural(count, unit) for count, unit in units if count]
    return " ".join(parts) if parts else "less than a minute"


# Below these, a span also names the next smaller unit ("in 1 hour 20 minutes"): a reminder
# an hour before the date should not round 1 h 59 min down to "1 hour".
_DETAIL_BELOW_HOURS = 3
_DETAIL_BELOW_DAYS = 3


def _span_words(span: timedelta) -> str:
    minutes = span // timedelta(minutes=1)
    hours, days = minutes // 60, minutes // (60 * 24)
    if hours < 1:
        return plural(minutes, "minute")
    if days < 1:
        rest = minutes % 60 if hours < _DETAIL_BELOW_HOURS else 0
        return " ".join(plural(n, u) for n, u in ((hours, "hour"), (rest, "minute")) if n)
    rest = hours % 24 if days < _DETAIL_BELOW_DAYS else 0
    return " ".join(plural(n, u) for n, u in ((days, "day"), (rest, "hour")) if n)


def relative(moment: datetime, *, now: datetime) -> str:
    """How far `moment` is from `now`, as people say it: "in 25 minutes", "in 1 hour 20
    minutes", "in 3 days", "2 hours ago", "now" (under a minute either way). Whole units,
    rounded down, so a deadline is never said to be further off than it is."""
    span = moment - now
    if abs(span) < timedelta(minutes=1):
        return "now"
    if span > timedelta(0):
        return f"in {_span_words(span)}"
    return f"{_span_words(-span)} ago"
