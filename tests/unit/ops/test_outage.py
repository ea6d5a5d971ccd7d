"""What a process remembers of database outages, and retrying a write through one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from django.db import InterfaceError, OperationalError

from lockstep.ops import outage

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 25, 10, 0, 20, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    outage.forget()
    yield
    outage.forget()


def test_backoff_doubles_from_a_quarter_second_up_to_two_seconds() -> None:
    for attempt, base in [(0, 0.25), (1, 0.5), (2, 1.0), (3, 2.0), (4, 2.0), (50, 2.0)]:
        pause = outage.backoff(attempt)
        assert base <= pause <= base * 1.25


def test_an_outage_lasts_from_the_first_failure_to_the_first_answer() -> None:
    outage.note_reachable(T0)  # no outage: nothing to end
    assert outage.current() == outage.OutageState()
    outage.note_unreachable(T0)
    outage.note_unreachable(T1)  # the same outage
    assert outage.current() == outage.OutageState(waiting_since=T0)
    outage.note_reachable(T1)
    assert outage.current() == outage.OutageState(None, T0, T1)


def _failing(times: int, error: Exception) -> Callable[[], str]:
    calls = {"n": 0}

    def operation() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return f"done after {calls['n']} calls"

    return operation


def test_a_write_is_retried_until_the_database_answers() -> None:
    pauses: list[float] = []
    result = outage.retry_through_outage(
        _failing(3, OperationalError("connection failed")), what="recording", pause=pauses.append
    )
    assert result == "done after 4 calls"
    assert len(pauses) == 3
    assert pauses[0] < pauses[2]
    state = outage.current()
    assert state.waiting_since is None
    assert state.last_started_at is not None
    assert state.last_ended_at is not None


def test_a_write_that_succeeds_at_once_leaves_no_outage() -> None:
    assert outage.retry_through_outage(_failing(0, InterfaceError()), what="x") == (
        "done after 1 calls"
    )
    assert outage.current() == outage.OutageState()


@pytest.mark.django_db
def test_inside_a_transaction_nothing_is_retried() -> None:
    # pytest-django runs this test inside a transaction: it is lost with the connection.
    pauses: list[float] = []
    with pytest.raises(OperationalError):
        outage.retry_through_outage(
            _failing(1, OperationalError("gone")), what="x", pause=pauses.append
        )
    assert pauses == []
    outage.probe()  # the database answers


def test_listeners_run_after_an_outage_once_each() -> None:
    calls: list[str] = []

    def listener() -> None:
        calls.append("resumed")

    outage.after_outage(listener)
    outage.after_outage(listener)
    try:
        outage.run_after_outage()
    finally:
        outage._after_outage.remove(listener)
    assert calls == ["resumed"]
