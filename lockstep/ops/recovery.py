"""Work left by a dead worker is taken over by a live one.

django-tasks-db marks nothing itself: a worker killed in the middle of a task leaves that task
RUNNING for ever, and whatever it had claimed (outbox copies) claimed. A worker is dead when
its heartbeat is older than `LOCKSTEP_WORKER_STALE_SECONDS`. Each live worker's heartbeat
thread looks for such workers (`recover_lost_work`) and, for each one it finds first (rows
locked with SKIP LOCKED, so two judges never both act):

- marks it stopped (a worker that was only frozen, and beats again, is alive again);
- marks its RUNNING task FAILED, with `WorkerLost` and the reason, and queues the same task
  again (every Lockstep task is idempotent: it checks its rows before acting);
- tells the listeners (`on_lost_work`; the outbox releases the dead worker's claims).

A judge acts only after it has itself reached the database for the stale time without a
break (see `heartbeat.HeartbeatThread`): after an outage every live worker first gets the time
to beat again, so none is taken for dead because the database was away.

A worker interrupted by an outage uses the same path for itself (`recover_work_of`): the task
it was running when the connection broke is run again, its claims released.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import QuerySet
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from lockstep.core import clock
from lockstep.ops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """Recorded (by class path) on a task whose worker died or lost the database under it."""


WORKER_LOST = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"

LostWorkListener = Callable[[Sequence[str]], None]
_listeners: list[LostWorkListener] = []


def on_lost_work(listener: LostWorkListener) -> None:
    """Call `listener(worker_ids)` inside the transaction that takes their work over."""
    if listener not in _listeners:
        _listeners.append(listener)


def _stale(now: datetime, *, judge: str) -> QuerySet[WorkerHeartbeat]:
    stale = now - timedelta(seconds=settings.LOCKSTEP_WORKER_STALE_SECONDS)
    return WorkerHeartbeat.objects.filter(stopped_at__isnull=True, last_seen_at__lt=stale).exclude(
        worker_id=judge
    )


def declare_dead(now: datetime, *, judge: str) -> list[str]:
    """Mark stopped every worker whose heartbeat is stale (not `judge`); return their ids."""
    ids = list(
        _stale(now, judge=judge)
        .select_for_update(skip_locked=True)
        .values_list("worker_id", flat=True)
    )
    WorkerHeartbeat.objects.filter(worker_id__in=ids).update(stopped_at=now)
    return ids


def _requeue(row: DBTaskResult[Any, Any], *, now: datetime, reason: str) -> None:
    row.status = TaskResultStatus.FAILED
    row.finished_at = now
    row.return_value = None
    row.exception_class_path = WORKER_LOST
    row.traceback = reason
    row.save(
        update_fields=["status", "finished_at", "return_value", "exception_class_path", "traceback"]
    )
    try:
        task = row.task
    except (ImportError, SuspiciousOperation):
        logger.exception("task %s (%s) cannot be queued again", row.pk, row.task_path)
        return
    task.enqueue(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    logger.warning("task %s (%s) queued again: %s", row.pk, row.task_path, reason)


def take_over_tasks(worker_ids: Sequence[str], *, now: datetime, reason: str) -> int:
    """Fail and queue again the RUNNING tasks whose last worker is one of `worker_ids`."""
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    lost = [
        pk for pk, ids in running.values_list("pk", "worker_ids") if ids and ids[-1] in worker_ids
    ]
    rows = list(
        DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            pk__in=lost, status=TaskResultStatus.RUNNING
        )
    )
    for row in rows:
        _requeue(row, now=now, reason=reason)
    return len(rows)


def _take_over(worker_ids: Sequence[str], *, now: datetime, reason: str) -> int:
    taken = take_over_tasks(worker_ids, now=now, reason=reason)
    for listener in tuple(_listeners):
        listener(worker_ids)
    return taken


def recover_work_of(worker_ids: Sequence[str], *, reason: str) -> int:
    """Take over the tasks and claims of `worker_ids`; return how many tasks were queued again."""
    with transaction.atomic():
        return _take_over(worker_ids, now=clock.now(), reason=reason)


def recover_lost_work(*, judge: str) -> list[str]:
    """Find workers that stopped beating and take their work over; return their ids."""
    if not _stale(clock.now(), judge=judge).exists():  # the usual case: no write transaction
        return []
    with transaction.atomic():
        now = clock.now()
        dead = declare_dead(now, judge=judge)
        if dead:
            logger.warning("workers %s stopped beating: taking their work over", ", ".join(dead))
            stale = settings.LOCKSTEP_WORKER_STALE_SECONDS
            reason = f"its worker sent no heartbeat for {stale} s; taken over by worker {judge}"
            _take_over(dead, now=now, reason=reason)
    return dead
