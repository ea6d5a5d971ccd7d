"""The publication lane: a second task loop in every worker process, for one queue only.

A worker process takes tasks one at a time. Mail delivery tasks can run for seconds each (a
batch of copies to a slow relay), and a publication queued behind them used to wait: from the
date to the task being claimed took a p99 of 7.4 s under load. So every `lockstep worker`
(and so every `lockstep serve`) runs two loops:

- the main loop takes every queue, publication included (a free main loop helps), and
- the publication lane takes only `PUBLICATION_QUEUE`: the date falling due, CVE records,
  the reporter's post, the catch-up sweep. Nothing else can occupy it.

The lane is a thread with a worker id of its own (`<main id>/publication`): its claims, its
heartbeat and its recovery after a database outage are its own, so one loop never takes the
other's running task for lost. The heartbeat thread beats for both ids, and stops with them.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection
from typing_extensions import override

from lockstep.ops.queues import PUBLICATION_QUEUE
from lockstep.ops.worker import OutageProofWorker

logger = logging.getLogger(__name__)

LANE_SUFFIX = "/publication"
STOP_WAIT_SECONDS = 30.0  # a publication under way is let finish when the worker stops


def lane_id(main_id: str) -> str:
    return f"{main_id}{LANE_SUFFIX}"


class PublicationLane(threading.Thread):
    def __init__(self, main_id: str, *, interval: float, backend_name: str) -> None:
        super().__init__(name=f"lane-{lane_id(main_id)}", daemon=True)
        self.worker = OutageProofWorker(
            queue_names=[PUBLICATION_QUEUE],
            interval=interval,
            batch=False,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=None,
            worker_id=lane_id(main_id),
            excluded_queue_names=[],
        )

    @override
    def run(self) -> None:
        try:
            self.worker.run()
        except Exception:  # the main loop carries on; it takes this queue too
            logger.exception("the publication lane %s stopped", self.worker.worker_id)
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop taking tasks; wait for the one under way (a thread cannot be killed)."""
        self.worker.running = False
        self.join(timeout=STOP_WAIT_SECONDS)
