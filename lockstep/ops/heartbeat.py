"""Worker heartbeats: each worker process says "alive" every few seconds."""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from typing_extensions import override

from lockstep.core import clock
from lockstep.ops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def beat(worker_id: str) -> None:
    """Record that `worker_id` is alive now (inserting its row on the first beat)."""
    now = clock.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(
        last_seen_at=now, stopped_at=None
    )
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            last_seen_at=now,
        )


def mark_stopped(worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(stopped_at=clock.now())


class HeartbeatThread(threading.Thread):
    """Beats until stopped. A failed beat is logged and retried at the next interval."""

    def __init__(self, worker_id: str, *, interval: float | None = None) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.interval = interval or float(settings.LOCKSTEP_WORKER_HEARTBEAT_SECONDS)
        self._stop_event = threading.Event()

    @override
    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                try:
                    close_old_connections()
                    beat(self.worker_id)
                except Exception:  # a broken beat must never kill the worker
                    logger.exception("worker heartbeat failed; retrying")
                self._stop_event.wait(self.interval)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop_event.set()
