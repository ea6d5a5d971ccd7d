"""`lockstep worker`: django-tasks-db's worker that outlives database outages, plus a heartbeat
for /healthz and for taking over dead workers' work (no autoreload: `--reload` is ignored)."""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.db import DatabaseError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from typing_extensions import override

from lockstep.ops.heartbeat import HeartbeatThread, mark_stopped
from lockstep.ops.lanes import PublicationLane
from lockstep.ops.worker import OutageProofWorker

logger = logging.getLogger(__name__)


def _worker(options: dict[str, Any]) -> OutageProofWorker:
    excluded: str = options["exclude_queues"]
    return OutageProofWorker(
        queue_names=options["queue_name"].split(","),
        interval=options["interval"],
        batch=options["batch"],
        backend_name=options["backend_name"],
        startup_delay=options["startup_delay"],
        max_tasks=options["max_tasks"],
        worker_id=options["worker_id"],
        excluded_queue_names=excluded.split(",") if excluded else [],
    )


class Command(DbWorkerCommand):
    help = (
        "Run a background task worker that reports its heartbeat: a loop for the queues asked "
        "for (all by default) and a lane for publication alone (lockstep.ops.lanes)."
    )

    @override
    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*")  # the main loop takes every queue

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        worker = _worker(options)
        lane = PublicationLane(
            worker.worker_id, interval=options["interval"], backend_name=options["backend_name"]
        )
        heartbeat = HeartbeatThread(worker.worker_id, also=(lane.worker.worker_id,))
        heartbeat.start()
        lane.start()
        worker.configure_signals()
        try:
            worker.run()
        finally:
            lane.stop()
            heartbeat.stop()
            heartbeat.join(timeout=5)
            _record_stop(worker.worker_id, lane.worker.worker_id)


def _record_stop(*worker_ids: str) -> None:
    for worker_id in worker_ids:
        try:
            mark_stopped(worker_id)
        except DatabaseError as exc:  # the others will find it stale and take over
            logger.warning("worker %s: stop not recorded (%s)", worker_id, exc)
