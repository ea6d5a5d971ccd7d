"""Relative times as people say them (embargo/wording.relative): no "in about 0 hours"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockstep.embargo.wording import relative

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "said"),
    [
        (timedelta(seconds=0), "now"),
        (timedelta(seconds=59), "now"),
        (timedelta(seconds=-59), "now"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(minutes=25, seconds=40), "in 25 minutes"),
        (timedelta(minutes=59, seconds=59), "in 59 minutes"),
        (timedelta(hours=1), "in 1 hour"),
        (timedelta(hours=1, minutes=20), "in 1 hour 20 minutes"),
        (timedelta(hours=2, minutes=59), "in 2 hours 59 minutes"),
        (timedelta(hours=3, minutes=59), "in 3 hours"),
        (timedelta(hours=23, minutes=59), "in 23 hours"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=1, hours=5), "in 1 day 5 hours"),
        (timedelta(days=2, hours=23, minutes=59), "in 2 days 23 hours"),
        (timedelta(hours=72), "in 3 days"),
        (timedelta(days=3, hours=23), "in 3 days"),
        (timedelta(days=90), "in 90 days"),
        (timedelta(minutes=-5), "5 minutes ago"),
        (timedelta(hours=-2), "2 hours ago"),
        (timedelta(days=-1, hours=-1), "1 day 1 hour ago"),
        (timedelta(days=-7), "7 days ago"),
    ],
)
def test_relative_time_in_words(offset: timedelta, said: str) -> None:
    assert relative(NOW + offset, now=NOW) == said


def test_never_rounds_a_deadline_later_nor_to_zero() -> None:
    for minutes in range(1, 60 * 24 * 4, 7):
        said = relative(NOW + timedelta(minutes=minutes), now=NOW)
        assert said.startswith("in ")
        assert " 0 " not in f"{said} "
