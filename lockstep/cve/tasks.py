"""The publication task: pushes held CVE records at their date; comes back for the next one."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Min
from django_tasks import task

from lockstep.core import clock
from lockstep.cve.actions.records import publish_due_records
from lockstep.cve.models import CveId, CveState
from lockstep.ops.queues import PUBLICATION_QUEUE

BATCH = 50
_MAX_BATCHES = 100  # then let the queue breathe: the task enqueues itself again


def next_due() -> datetime | None:
    """When a held record next falls due: its (retry) time, or the end of a worker's lease."""
    held = CveId.objects.filter(state=CveState.RESERVED, record__isnull=False)
    waiting = held.filter(claimed_until__isnull=True).aggregate(at=Min("next_attempt_at"))["at"]
    lease_end = held.filter(claimed_until__isnull=False).aggregate(at=Min("claimed_until"))["at"]
    return min((m for m in (waiting, lease_end) if m is not None), default=None)


@task(queue_name=PUBLICATION_QUEUE)
def publish_cve_records() -> dict[str, int]:
    """Publish every held record that is due, batch by batch. Idempotent: two runs at once
    never push the same record (each claims its rows), and a run with nothing due does nothing."""
    totals = {"published": 0, "retrying": 0, "stopped": 0}
    for _ in range(_MAX_BATCHES):
        summary = publish_due_records(clock.now(), batch=BATCH)
        for key, value in summary.as_dict().items():
            totals[key] += value
        if summary.handled == 0:
            break
    upcoming = next_due()
    if upcoming is not None:
        publish_cve_records.using(run_after=max(upcoming, clock.now())).enqueue()
    return totals
