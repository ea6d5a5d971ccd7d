"""django-tasks-db's worker loop, carried through database outages.

The library's loop ends the process at the first error it does not expect from the database:
a restart of PostgreSQL stopped every worker for good. Here the loop is restarted after the
database answers again (`outage` pauses with backoff, capped at two seconds), then:

- the task that was running when the connection broke is marked FAILED (`WorkerLost`, "the
  database connection was lost") and queued again, and the outbox copies this worker had
  claimed are released (`recovery.recover_work_of`): nothing waits for a worker that is alive;
- the `outage.after_outage` listeners run (`lockstep worker` queues its start-up work again:
  delivery, inbound mail, the embargo catch-up), so what fell due during the outage is done
  within seconds of the database's return; deferred tasks (a publication at its date) are
  simply found due by the loop.

A stop signal while the worker waits ends it at once, as when it is idle.
"""

from __future__ import annotations

import logging
import time

from django_tasks_db.management.commands.db_worker import Worker
from typing_extensions import override

from lockstep.ops import outage
from lockstep.ops.recovery import recover_work_of

logger = logging.getLogger(__name__)

# Outages closer together than this count as one for the backoff (an error that is not an
# outage, such as a table that does not exist yet, then repeats at most every two seconds).
_CALM_SECONDS = 60.0


class OutageProofWorker(Worker):
    """A `db_worker` worker whose loop outlives database outages."""

    _outages: int = 0  # outages in a row (each within _CALM_SECONDS of the last)
    _last_outage: float = -_CALM_SECONDS  # monotonic

    @override
    def run(self) -> None:
        while True:
            try:
                super().run()
            except outage.DISCONNECTS as exc:
                if not self.running:  # stopping: the heartbeat's judges take the task over
                    raise
                self._ride_out(exc)
            else:
                return

    def _ride_out(self, exc: Exception) -> None:
        """Wait for the database, then take back this worker's interrupted work."""
        outage.note_unreachable()
        calm = time.monotonic() - self._last_outage > _CALM_SECONDS
        self._outages = 0 if calm else self._outages + 1
        self._last_outage = time.monotonic()
        self.startup_delay = False
        logger.warning("worker %s waits for the database (%s)", self.worker_id, exc)
        started = time.monotonic()
        time.sleep(outage.backoff(self._outages))
        outage.retry_through_outage(self._after_outage, what=f"worker {self.worker_id}")
        outage.note_reachable()
        logger.warning(
            "worker %s: the database is back after %.1f s; carrying on",
            self.worker_id,
            time.monotonic() - started,
        )

    def _after_outage(self) -> None:
        outage.probe()
        recover_work_of([self.worker_id], reason="the database connection was lost")
        outage.run_after_outage()
