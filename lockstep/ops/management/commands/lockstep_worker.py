"""`lockstep worker`: django-tasks-db's worker, plus a heartbeat for /healthz."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from typing_extensions import override

from lockstep.ops.heartbeat import HeartbeatThread, mark_stopped


class Command(DbWorkerCommand):
    help = "Run a background task worker (all queues) that reports its heartbeat."

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        worker_id: str = options["worker_id"]
        heartbeat = HeartbeatThread(worker_id)
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()
            heartbeat.join(timeout=5)
            mark_stopped(worker_id)
