"""Database outages: what a worker process does while PostgreSQL is away, and what it remembers.

A restart of the database breaks every open connection, and new ones are refused until it is
back. Django does not reconnect by itself inside a long-running process (a web request gets a
fresh check at its start; a worker loop does not), so the worker closes the broken connection
and retries with a growing pause, `backoff`, capped at `MAX_PAUSE` seconds: work that fell due
during the outage starts within about that long of the database's return.

The process remembers the outage in memory (`note_unreachable`, `note_reachable`): nothing can
be written while the database is down, so the heartbeat writes it when it can (`waiting_since`
while the worker still waits, then the last outage's start and end).

`retry_through_outage` runs a short database operation until it succeeds, for results that
must not be lost: the record that a relay accepted a copy (else it would be sent again). It
never retries inside a transaction: the transaction is gone with the connection, and only its
owner can start it over.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

from lockstep.core import clock

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# What a lost or refused connection raises (a server restart, a network cut).
DISCONNECTS = (OperationalError, InterfaceError)
FIRST_PAUSE = 0.25
MAX_PAUSE = 2.0


def backoff(attempt: int) -> float:
    """Seconds to wait before retry `attempt` (0, 1, 2…): doubling from 0.25 s up to 2 s,
    with up to a quarter more at random so that many workers do not knock at once."""
    pause: float = min(MAX_PAUSE, FIRST_PAUSE * 2.0 ** min(attempt, 16))
    return pause * (1 + random.random() / 4)  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class OutageState:
    waiting_since: datetime | None = None  # the process is waiting for the database
    last_started_at: datetime | None = None  # the last outage it rode out
    last_ended_at: datetime | None = None


_lock = threading.Lock()
_state = OutageState()


def current() -> OutageState:
    return _state


def note_unreachable(now: datetime | None = None) -> None:
    """The database did not answer this process (the first call of an outage counts)."""
    global _state  # noqa: PLW0603 - one state per process, shared by its threads
    with _lock:
        if _state.waiting_since is None:
            _state = OutageState(now or clock.now(), _state.last_started_at, _state.last_ended_at)


def note_reachable(now: datetime | None = None) -> None:
    """The database answered again: the outage, if there was one, ends now."""
    global _state  # noqa: PLW0603 - one state per process, shared by its threads
    with _lock:
        if _state.waiting_since is not None:
            _state = OutageState(None, _state.waiting_since, now or clock.now())


def forget() -> None:
    """Back to "no outage seen" (a new worker in the same process; tests)."""
    global _state  # noqa: PLW0603 - one state per process, shared by its threads
    with _lock:
        _state = OutageState()


def probe() -> None:
    """Raise one of `DISCONNECTS` unless the database answers this thread now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def retry_through_outage(
    operation: Callable[[], _T], *, what: str, pause: Callable[[float], None] = time.sleep
) -> _T:
    """Run `operation` until the database lets it finish; inside a transaction, only once."""
    attempt = 0
    while True:
        try:
            result = operation()
        except DISCONNECTS as exc:
            if connection.in_atomic_block:
                raise
            if attempt == 0:
                note_unreachable()
                logger.warning("%s: the database is unreachable (%s); waiting for it", what, exc)
            connection.close()  # a broken connection never heals: the next try opens a new one
            pause(backoff(attempt))
            attempt += 1
            continue
        if attempt:
            note_reachable()
            logger.warning("%s: done, the database is back (after %d retries)", what, attempt)
        return result


Listener = Callable[[], None]
_after_outage: list[Listener] = []


def after_outage(listener: Listener) -> None:
    """Run `listener` in a worker each time it has waited for the database and got it back."""
    if listener not in _after_outage:
        _after_outage.append(listener)


def run_after_outage() -> None:
    for listener in tuple(_after_outage):
        listener()
