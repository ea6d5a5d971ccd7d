"""A reminder says how long is left as people say it: never "in about 0 hours" (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lockstep.cases.emails import reminder_mail
from lockstep.cases.models import Case
from lockstep.embargo.reminders import Kind

DATE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _text(kind: Kind, left: timedelta) -> str:
    case = Case(pk=7, title="Heap overflow", disclosure_at=DATE, route="public-list")
    return " ".join(reminder_mail(case, kind, now=DATE - left).body.split())


def test_a_late_last_reminder_counts_minutes() -> None:
    text = _text(Kind.T_1H, timedelta(minutes=25))
    assert "becomes public at 2026-12-01 14:00 UTC, in 25 minutes." in text
    assert "0 hours" not in text


def test_the_first_reminders_count_days_and_hours() -> None:
    assert "in 3 days." in _text(Kind.T_72H, timedelta(hours=72))
    assert "in 1 day." in _text(Kind.T_24H, timedelta(hours=24))
    assert "in 1 hour 30 minutes." in _text(Kind.T_1H, timedelta(minutes=90))
