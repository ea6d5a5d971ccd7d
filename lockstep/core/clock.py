"""The one place that reads the wall clock. Policy code never calls this: it takes `now`."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(tz=UTC)


def require_aware(value: datetime, *, name: str = "value") -> datetime:
    """Return `value` converted to UTC, refusing naive datetimes."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        msg = f"{name} must carry a time zone (got a naive date-time: {value.isoformat()})"
        raise ValueError(msg)
    return value.astimezone(UTC)
