"""Worker heartbeats: each worker process says "alive" every few seconds.

The heartbeat thread also watches the others: once this process has reached the database
without a break for `LOCKSTEP_WORKER_STALE_SECONDS`, it takes over the work of any worker whose
heartbeat is older than that (`recovery.recover_lost_work`). While the database is away a beat
cannot be written; the thread retries every second and, once back, writes what the process
remembers of the outage (`outage.current()`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from typing_extensions import override

from lockstep.core import clock
from lockstep.ops import outage
from lockstep.ops.models import WorkerHeartbeat
from lockstep.ops.recovery import recover_lost_work

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # between beats while the database is away

_this_worker = ""


def this_worker() -> str:
    """The worker id of this process's heartbeat ("" outside a worker): claims carry it."""
    return _this_worker


def become_worker(worker_id: str) -> None:
    """This process is worker `worker_id` from now on ("": none)."""
    global _this_worker  # noqa: PLW0603 - one worker per process
    _this_worker = worker_id


def beat(worker_id: str) -> None:
    """Record that `worker_id` is alive now (inserting its row on the first beat), with what
    the process remembers of database outages."""
    now = clock.now()
    state = outage.current()
    fields = {
        "last_seen_at": now,
        "stopped_at": None,
        "waiting_since": state.waiting_since,
        "last_outage_started_at": state.last_started_at,
        "last_outage_ended_at": state.last_ended_at,
    }
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(**fields)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            **fields,
        )


def mark_stopped(worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(stopped_at=clock.now())


class HeartbeatThread(threading.Thread):
    """Beats until stopped; a failed beat is logged and retried. Takes over dead workers' work."""

    def __init__(
        self, worker_id: str, *, also: tuple[str, ...] = (), interval: float | None = None
    ) -> None:
        """`also`: more loops of this process (lockstep.ops.lanes) that beat with it."""
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        become_worker(worker_id)
        self.worker_id = worker_id
        self.also = also
        self.interval = interval or float(settings.LOCKSTEP_WORKER_HEARTBEAT_SECONDS)
        self._stop_event = threading.Event()
        self._reached_since: float | None = None  # monotonic; None while the database is away

    @override
    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                with contextlib.suppress(DatabaseError):
                    close_old_connections()  # drops a connection that broke or grew old
                self._stop_event.wait(self.tick())
        finally:
            connection.close()

    def tick(self) -> float:
        """One beat, then (if this process may judge) a look for dead workers; returns how
        long to wait before the next beat. Never raises: a broken beat must not stop a worker."""
        try:
            for worker_id in (self.worker_id, *self.also):
                beat(worker_id)
        except DatabaseError as exc:
            if self._reached_since is not None:
                logger.warning("worker heartbeat: the database is unreachable (%s)", exc)
            self._reached_since = None
            connection.close()
            return RETRY_SECONDS
        except Exception:  # a broken beat must never kill the worker
            logger.exception("worker heartbeat failed; retrying")
            return self.interval
        if self._reached_since is None:
            self._reached_since = time.monotonic()
        if self.may_judge():
            try:
                recover_lost_work(judge=self.worker_id)
            except Exception:  # retried at the next beat
                logger.exception("taking over a dead worker's work failed; retrying")
        return RETRY_SECONDS if outage.current().waiting_since else self.interval

    def may_judge(self) -> bool:
        """True once this process has reached the database for the stale time without a
        break: every live worker has had the time to beat since the database came back."""
        if self._reached_since is None:
            return False
        return time.monotonic() - self._reached_since >= settings.LOCKSTEP_WORKER_STALE_SECONDS

    def stop(self) -> None:
        self._stop_event.set()
