"""/metrics: Prometheus numbers for this machine's scraper (or a token holder), 404 otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connection, transaction
from django.test import Client
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from lockstep.advisories.actions.publication import do_publish_due
from lockstep.cases.models import Case
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.ops.heartbeat import beat
from lockstep.ops.tasks import ping
from tests.conftest import actor_for
from tests.factories.cases import build_case_world

pytestmark = pytest.mark.django_db
DATE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
SCRAPE = DATE + timedelta(hours=1)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _scrape(client: Client, **extra: Any) -> Samples:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return _samples(response.content.decode())


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_a_scraper_on_this_machine_gets_the_metrics(client: Client, peer: str) -> None:
    assert client.get("/metrics", REMOTE_ADDR=peer).status_code == 200


@pytest.mark.parametrize(
    ("peer", "headers"),
    [
        ("203.0.113.9", {}),
        ("10.0.0.2", {}),
        ("not an address", {}),
        # A TLS proxy on this machine connects from 127.0.0.1 and says who really asked.
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}),
        ("127.0.0.1", {"X-Real-IP": "203.0.113.9"}),
    ],
)
def test_anyone_else_gets_a_404(client: Client, peer: str, headers: dict[str, str]) -> None:
    response = client.get("/metrics", REMOTE_ADDR=peer, headers=headers)
    assert response.status_code == 404
    assert b"lockstep_" not in response.content


def test_a_token_lets_a_remote_scraper_in(client: Client, settings: Any) -> None:
    remote = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    bearer = {"Authorization": "Bearer s3cret-scrape-token"}
    assert client.get("/metrics", headers=bearer, **remote).status_code == 404  # no token set
    settings.LOCKSTEP_METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics", headers=bearer, **remote).status_code == 200
    for wrong in ("Bearer s3cret", "Basic s3cret-scrape-token", "Bearer sécret", ""):
        response = client.get("/metrics", headers={"Authorization": wrong}, **remote)
        assert response.status_code == 404, wrong
    assert client.post("/metrics", headers=bearer, **remote).status_code == 405


def _state() -> None:
    """Two cases: one published 42 s after its date, one still unpublished 30 min past its
    date; mail queued, held and received; a worker; a due task."""
    with time_machine.travel(DATE - timedelta(days=3), tick=False):
        published, overdue = build_case_world(), build_case_world(tag="-b")
    Case.objects.filter(pk=published.case.pk).update(disclosure_at=DATE)
    Case.objects.filter(pk=overdue.case.pk).update(disclosure_at=DATE + timedelta(minutes=30))
    with time_machine.travel(DATE + timedelta(seconds=42), tick=False):
        assert do_publish_due(published.case.pk, actor=actor_for(published.maintainer))
    OutboundMessage.objects.all().delete()
    with time_machine.travel(SCRAPE - timedelta(minutes=10), tick=False), transaction.atomic():
        fan_out(
            MailSpec(subject="s", body="b", confidential=False),
            [Recipient(f"m{n}@example.org", plain_ok=True) for n in range(3)],
        )
    held = OutboundMessage.objects.order_by("id").first()
    assert held is not None
    OutboundMessage.objects.filter(pk=held.pk).update(status=OutboxStatus.HELD)
    InboundMessage.objects.create(
        received_at=SCRAPE, raw=b"x", size=1, sha256="0" * 64, status=InboundStatus.HELD
    )
    with time_machine.travel(SCRAPE - timedelta(seconds=5), tick=False):
        beat("w1")
        ping.enqueue("due")


def test_the_numbers(client: Client) -> None:
    _state()
    with time_machine.travel(SCRAPE, tick=False):
        got = _scrape(client)
    assert got[("lockstep_database_up", ())] == 1
    assert got[("lockstep_publication_last_lag_seconds", ())] == 42
    assert got[("lockstep_publication_overdue_cases", ())] == 1
    assert got[("lockstep_publication_oldest_overdue_seconds", ())] == 30 * 60
    assert got[("lockstep_outbound_copies", (("state", "queued"),))] == 2
    assert got[("lockstep_outbound_copies", (("state", "held"),))] == 1
    assert got[("lockstep_outbound_copies", (("state", "dropped"),))] == 0
    assert got[("lockstep_outbound_oldest_queued_age_seconds", ())] == 600
    assert got[("lockstep_mail_held", (("direction", "outbound"),))] == 1
    assert got[("lockstep_mail_held", (("direction", "inbound"),))] == 1
    assert got[("lockstep_inbound_messages", (("state", "held"),))] == 1
    assert got[("lockstep_mail_relay_failing", ())] == 0
    assert got[("lockstep_mail_relay_failing_seconds", ())] == 0
    assert got[("lockstep_workers_alive", ())] == 1
    assert got[("lockstep_workers_waiting_for_database", ())] == 0
    last_seen = (SCRAPE - timedelta(seconds=5)).timestamp()
    assert got[("lockstep_worker_last_seen_timestamp_seconds", ())] == last_seen
    assert got[("lockstep_tasks", (("queue", "default"), ("state", "ready")))] >= 1
    assert got[("lockstep_tasks", (("queue", "default"), ("state", "running")))] == 0
    assert got[("lockstep_tasks_oldest_ready_age_seconds", ())] == 5
    assert got[("lockstep_data_dir_free_bytes", ())] > 0
    assert got[("lockstep_data_dir_low", ())] == 0


def test_a_failing_relay_and_deferred_tasks(client: Client) -> None:
    with time_machine.travel(DATE, tick=False), transaction.atomic():
        fan_out(MailSpec(subject="s", body="b", confidential=False), [Recipient("a@example.org")])
    OutboundMessage.objects.update(
        attempts=3, first_failed_at=DATE, last_failed_at=DATE + timedelta(minutes=6)
    )
    with time_machine.travel(DATE, tick=False):
        ping.using(run_after=DATE + timedelta(days=1)).enqueue("tomorrow")
        broken = ping.enqueue("broken")
    DBTaskResult.objects.filter(pk=broken.id).update(status=TaskResultStatus.FAILED)
    with time_machine.travel(DATE + timedelta(minutes=10), tick=False):
        got = _scrape(client)
    assert got[("lockstep_mail_relay_failing", ())] == 1
    assert got[("lockstep_mail_relay_failing_seconds", ())] == 600
    assert got[("lockstep_tasks", (("queue", "default"), ("state", "scheduled")))] == 1
    assert got[("lockstep_tasks", (("queue", "default"), ("state", "ready")))] == 0
    assert got[("lockstep_tasks", (("queue", "default"), ("state", "failed")))] == 1
    assert ("lockstep_publication_last_lag_seconds", ()) not in got  # nothing published yet
    assert ("lockstep_worker_last_seen_timestamp_seconds", ()) not in got  # no worker ever


def test_request_latency_is_counted_per_view(client: Client) -> None:
    key = (
        "lockstep_http_request_duration_seconds_count",
        (("method", "GET"), ("status", "200"), ("view", "healthz")),
    )
    before = _scrape(client).get(key, 0)
    client.get("/healthz")
    client.get("/healthz")
    assert _scrape(client)[key] == before + 2
    assert any(
        name == "lockstep_http_request_duration_seconds_bucket" and ("view", "metrics") in labels
        for name, labels in _scrape(client)
    )


def test_without_the_database_the_scrape_still_answers(client: Client) -> None:
    def refuse(*_args: Any) -> None:
        raise OperationalError("connection to server at 10.0.0.7, port 5432 failed")

    with connection.execute_wrapper(refuse):
        got = _scrape(client)
    assert got[("lockstep_database_up", ())] == 0
    assert got[("lockstep_data_dir_free_bytes", ())] > 0
    assert ("lockstep_workers_alive", ()) not in got


def test_a_data_folder_that_cannot_be_measured_is_left_out(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path / "not-there"
    got = _scrape(client)
    assert ("lockstep_data_dir_free_bytes", ()) not in got
    assert got[("lockstep_database_up", ())] == 1
