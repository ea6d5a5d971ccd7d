"""The health report served at /healthz."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Min, QuerySet
from django_tasks_db.models import DBTaskResult, get_date_max

from lockstep.core import clock
from lockstep.ops.lanes import LANE_SUFFIX
from lockstep.ops.models import WorkerHeartbeat


def database_status() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return {"status": "down", "vendor": connection.vendor, "error": type(exc).__name__}
    return {"status": "ok", "vendor": connection.vendor}


def worker_status() -> dict[str, Any]:
    """Live workers (a heartbeat younger than the stale time, not stopped); "waiting" when
    every live one waits for the database (it reached us, but not the worker's loop)."""
    now = clock.now()
    fresh_after = now - timedelta(seconds=settings.LOCKSTEP_WORKER_STALE_SECONDS)
    alive = WorkerHeartbeat.objects.filter(
        last_seen_at__gte=fresh_after, stopped_at__isnull=True
    ).exclude(worker_id__endswith=LANE_SUFFIX)  # a process's publication lane is not a worker
    newest = WorkerHeartbeat.objects.order_by("-last_seen_at").values_list(
        "last_seen_at", flat=True
    )[:1]
    last_seen = newest[0] if newest else None
    count, waiting = alive.count(), alive.filter(waiting_since__isnull=False).count()
    ready = DBTaskResult.objects.ready()
    waiting_since = _oldest_ready(ready)
    return {
        "status": "down" if not count else "waiting" if waiting == count else "ok",
        "alive": count,
        "waiting_for_database": waiting,
        "last_seen": last_seen.isoformat() if last_seen else None,
        "last_database_outage": _last_outage(),
        "queue": {
            "ready": ready.count(),
            "oldest_ready_age_seconds": (
                round((now - waiting_since).total_seconds(), 1) if waiting_since else None
            ),
        },
    }


def _last_outage() -> dict[str, Any] | None:
    """The most recent database outage a worker rode out (as that worker saw it)."""
    row = (
        WorkerHeartbeat.objects.filter(
            last_outage_started_at__isnull=False, last_outage_ended_at__isnull=False
        )
        .order_by("-last_outage_ended_at")
        .first()
    )
    if row is None or row.last_outage_started_at is None or row.last_outage_ended_at is None:
        return None
    started, ended = row.last_outage_started_at, row.last_outage_ended_at
    return {
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "seconds": round((ended - started).total_seconds(), 1),
    }


def _oldest_ready(ready: QuerySet[DBTaskResult[Any, Any]]) -> datetime | None:
    """Since when the longest-waiting ready task has been runnable.

    A task with no `run_after` is runnable from when it was enqueued (django-tasks-db stores
    "no constraint" as the year 9999); a deferred one from its `run_after`.
    """
    unconstrained = ready.filter(run_after=get_date_max()).aggregate(at=Min("enqueued_at"))["at"]
    deferred = ready.exclude(run_after=get_date_max()).aggregate(at=Min("run_after"))["at"]
    candidates = [at for at in (unconstrained, deferred) if at is not None]
    return min(candidates) if candidates else None


def health_report() -> tuple[int, dict[str, Any]]:
    """(HTTP status, body). 503 only when the database is unreachable: nothing works then."""
    database = database_status()
    if database["status"] != "ok":
        return 503, {"status": "down", "database": database, "worker": {"status": "unknown"}}
    worker = worker_status()
    overall = "ok" if worker["status"] == "ok" else "degraded"
    return 200, {"status": overall, "database": database, "worker": worker}
