"""Pure embargo helpers: which reminder is due, and the early-release texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockstep.core.errors import ValidationError
from lockstep.embargo import early, reminders
from lockstep.embargo.reminders import Kind

DATE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours_before", "sent", "expected"),
    [
        (100, frozenset(), None),  # nothing due yet
        (72, frozenset(), Kind.T_72H),
        (50, frozenset(), Kind.T_72H),  # late, still sent
        (50, frozenset({"t-72h"}), None),
        (23, frozenset(), Kind.T_24H),  # two passed: only the latest
        (23, frozenset({"t-24h"}), None),
        (0.5, frozenset({"t-72h", "t-24h"}), Kind.T_1H),
        (0, frozenset(), None),  # at the date: publication's own notice
        (-5, frozenset(), None),
    ],
)
def test_due_before_date(hours_before: float, sent: frozenset[str], expected: Kind | None) -> None:
    now = DATE - timedelta(hours=hours_before)
    due = reminders.due_before_date(DATE, now=now, sent=sent)
    assert (due.kind if due else None) == expected


def test_schedule_and_next_moment() -> None:
    moments = [d.at for d in reminders.schedule(DATE)]
    assert moments == sorted(moments)
    assert moments[-1] == DATE
    assert reminders.next_moment(DATE, now=DATE - timedelta(hours=30)) == DATE - timedelta(hours=24)
    assert reminders.next_moment(DATE, now=DATE) is None
    assert reminders.hours_left(DATE, now=DATE - timedelta(minutes=90)) == 1
    assert reminders.hours_left(DATE, now=DATE + timedelta(hours=1)) == 0


def test_naive_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        reminders.schedule(datetime(2026, 12, 1, 14, 0))  # noqa: DTZ001 - the point of the test


@given(st.floats(min_value=-200, max_value=200), st.sets(st.sampled_from(list(Kind))))
def test_never_a_reminder_after_the_date_nor_twice(hours: float, sent: set[Kind]) -> None:
    now = DATE - timedelta(hours=hours)
    due = reminders.due_before_date(DATE, now=now, sent=frozenset(k.value for k in sent))
    if due is not None:
        assert now < DATE
        assert due.kind not in sent
        assert due.at <= now


def test_early_release_options_and_texts() -> None:
    assert [o.discouraged for o in early.OPTIONS] == [False, True]
    assert early.advice_for(early.EarlyOption.SILENT_FIX).discouraged
    assert early.parse_option("without_fix") is early.EarlyOption.WITHOUT_FIX
    with pytest.raises(ValidationError, match="Choose one of"):
        early.parse_option("tell-everyone")
    assert early.check_version(" 1.4.1 ") == "1.4.1"
    for bad in ("", "1 2", "x" * 200):
        with pytest.raises(ValidationError):
            early.check_version(bad)
    for option in early.EarlyOption:
        text = early.neutral_changelog(option, project="libquokka", version="1.4.1")
        assert text.startswith("libquokka 1.4.1\n")
        assert "security" not in text.lower()
        warning = early.participant_warning(option, project="libquokka", version="1.4.1")
        assert "1.4.1" in warning
    silent = early.participant_warning(early.EarlyOption.SILENT_FIX, project="q", version="2")
    assert "discouraged" in silent
