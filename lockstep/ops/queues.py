"""The task queues' depths, per queue, for /metrics (django-tasks-db's table).

"ready" tasks are due and waiting for a worker; "scheduled" ones wait for their `run_after`
(a publication at its date, a mail retry); "running" ones are taken; "failed" ones ended in
an exception and stay until pruned. Finished tasks are not counted: they only pile up.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

STATES = ("ready", "scheduled", "running", "failed")
# The queue of the tasks that make things public at their moment: every worker process keeps a
# lane for it alone (lockstep.ops.lanes), so that mail, however much, never delays them.
PUBLICATION_QUEUE = "publication"


def tasks_by_queue() -> dict[str, dict[str, int]]:
    """{queue name: {state: count}} for every queue that has a task in one of STATES."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    kept = (TaskResultStatus.READY, TaskResultStatus.RUNNING, TaskResultStatus.FAILED)
    rows = (
        DBTaskResult.objects.filter(status__in=kept).order_by().values_list("queue_name", "status")
    )
    for queue, status, n in rows.annotate(n=Count("id")):
        if status == TaskResultStatus.READY:
            counts[queue]["scheduled"] += n  # the due ones are moved below
        else:
            counts[queue][str(status).lower()] += n
    due = DBTaskResult.objects.ready().order_by().values_list("queue_name")
    for queue, n in due.annotate(n=Count("id")):
        counts[queue]["ready"] += n
        counts[queue]["scheduled"] -= n
    return dict(counts)
