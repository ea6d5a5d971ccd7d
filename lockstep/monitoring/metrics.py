"""The Prometheus metrics served at /metrics.

Most numbers are read from the database at the moment of the scrape (`DatabaseCollector`), so
every web process answers the same whichever one the scrape reaches, and the workers, which
serve no HTTP, are seen through what they write (heartbeats, the outbox, the task table).
The request latency histogram is the exception: each web process counts its own requests, so
a scrape sees the process that answered it (gunicorn runs several); sum or average across
scrapes with that in mind, or scrape each process on its own port.

If the database does not answer, the scrape still succeeds, with `lockstep_database_up 0`
and the disk, and without the numbers that need the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from django.db import Error as DatabaseFailure
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from typing_extensions import override

from lockstep.advisories.lag import publication_lag
from lockstep.core import clock
from lockstep.mailgw import status as mail
from lockstep.ops.health import worker_status
from lockstep.ops.queues import tasks_by_queue
from lockstep.ops.resources import disk_status

logger = logging.getLogger(__name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _labelled(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _disk() -> Iterator[Metric]:
    disk = disk_status()
    if disk["status"] == "unknown":
        return
    yield _gauge(
        "lockstep_data_dir_free_bytes", "Free space on the data folder's disk.", disk["free_bytes"]
    )
    yield _gauge(
        "lockstep_data_dir_size_bytes", "Size of the data folder's disk.", disk["total_bytes"]
    )
    yield _gauge(
        "lockstep_data_dir_low",
        "1 when the data folder's disk is under LOCKSTEP_DISK_LOW_PERCENT/_BYTES free.",
        disk["status"] == "low",
    )


def _tasks() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "lockstep_tasks",
        "Background tasks by queue and state (ready: due, waiting for a worker; scheduled: "
        "waiting for their time; running; failed).",
        labels=["queue", "state"],
    )
    for queue, states in sorted(tasks_by_queue().items()):
        for state, count in states.items():
            family.add_metric([queue, state], count)
    yield family


def _workers() -> Iterator[Metric]:
    worker = worker_status()
    yield _gauge("lockstep_workers_alive", "Workers with a fresh heartbeat.", worker["alive"])
    yield _gauge(
        "lockstep_workers_waiting_for_database",
        "Live workers whose loop waits for the database.",
        worker["waiting_for_database"],
    )
    last_seen = worker["last_seen"]
    if last_seen:
        yield _gauge(
            "lockstep_worker_last_seen_timestamp_seconds",
            "When a worker last wrote its heartbeat (Unix time).",
            datetime.fromisoformat(last_seen).timestamp(),
        )
    oldest = worker["queue"]["oldest_ready_age_seconds"]
    yield _gauge(
        "lockstep_tasks_oldest_ready_age_seconds",
        "How long the longest-waiting due task has waited (0: none).",
        oldest or 0,
    )


def _mail(now: datetime) -> Iterator[Metric]:
    outbound, inbound = mail.copies_by_state(), mail.inbound_by_state()
    yield _labelled(
        "lockstep_outbound_copies",
        "Outbound mail copies by state (held: failed every attempt, waiting for a coordinator).",
        "state",
        outbound,
    )
    yield _labelled(
        "lockstep_mail_held",
        "Mail held for a decision on /outbox/, by direction.",
        "direction",
        {"outbound": outbound["held"], "inbound": inbound["held"]},
    )
    yield _labelled(
        "lockstep_inbound_messages",
        "Received mail by state (held: waiting for a lead or an operator).",
        "state",
        inbound,
    )
    yield _gauge(
        "lockstep_outbound_oldest_queued_age_seconds",
        "Age of the oldest copy not sent yet and still being tried (0: none).",
        mail.oldest_waiting(now) or 0,
    )
    since = mail.failing_since()
    yield _gauge(
        "lockstep_mail_relay_failing",
        "1 when every attempt has failed for LOCKSTEP_MAIL_FAILING_SECONDS or more.",
        mail.is_failing(since, now),
    )
    yield _gauge(
        "lockstep_mail_relay_failing_seconds",
        "How long every delivery attempt has failed (0: the last one went through).",
        (now - since).total_seconds() if since else 0,
    )


def _publication(now: datetime) -> Iterator[Metric]:
    lag = publication_lag(now)
    if lag.last_lag_seconds is not None:
        yield _gauge(
            "lockstep_publication_last_lag_seconds",
            "How long after its disclosure date the last case published at its date went out.",
            lag.last_lag_seconds,
        )
    yield _gauge(
        "lockstep_publication_overdue_cases",
        "Embargoed cases past their disclosure date and not published.",
        lag.overdue,
    )
    yield _gauge(
        "lockstep_publication_oldest_overdue_seconds",
        "How long past its date the oldest unpublished case is (0: none).",
        lag.oldest_overdue_seconds or 0,
    )


class DatabaseCollector(Collector):
    """Everything read at scrape time: the disk, then what the database knows."""

    @override
    def collect(self) -> Iterator[Metric]:
        yield from _disk()
        now = clock.now()
        parts: list[Callable[[], Iterator[Metric]]] = [
            _tasks,
            _workers,
            lambda: _mail(now),
            lambda: _publication(now),
        ]
        try:
            families, up = [family for part in parts for family in part()], True
        except DatabaseFailure as exc:
            logger.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            families, up = [], False
        yield _gauge("lockstep_database_up", "1 when the database answered this scrape.", up)
        yield from families


REGISTRY = CollectorRegistry()
REGISTRY.register(DatabaseCollector())
ProcessCollector(registry=REGISTRY)
REQUEST_SECONDS = Histogram(
    "lockstep_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, per web process.",
    ["method", "view", "status"],
    registry=REGISTRY,
)


def exposition() -> bytes:
    return generate_latest(REGISTRY)


def _view_of(request: HttpRequest) -> str:
    match = request.resolver_match
    return (match.view_name or match.url_name or "unnamed") if match else "unresolved"


class RequestLatencyMiddleware:
    """Times every request (first in MIDDLEWARE: the whole stack is inside the timing).
    Labels stay few: the URL's name, never its path; the method; the status code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(
            method=method, view=_view_of(request), status=str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response
