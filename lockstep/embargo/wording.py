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
