"""A case's moments changed: tell whoever schedules work at them, after the commit.

The cases layer decides disclosure dates; the advisories layer above it publishes at them.
A lower layer must not import a higher one, so the higher one registers a listener here when
its app loads (`AppConfig.ready`) and the lower one announces changes. Listeners run only
after the surrounding transaction commits, so a rolled-back change schedules nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from lockstep.core.txn import after_commit

Listener = Callable[[int], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def case_moments_changed(case_id: int) -> None:
    """The disclosure date of `case_id` was set, moved or ended: re-plan its moments."""
    for listener in tuple(_listeners):
        after_commit(listener, case_id)
