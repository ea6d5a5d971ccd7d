"""/healthz tells the operator about the data folder's disk and the outbound mail.

The relay here is real in the way that matters: an SMTP transport pointed at a port of this
machine where nothing listens, so every attempt fails with the words a dead relay gives.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connection, transaction
from django.test import Client

from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.mailgw.outbound.transport import FolderTransport, SmtpSettings, SmtpTransport
from lockstep.mailgw.status import public_error
from lockstep.ops.heartbeat import beat
from lockstep.ops.resources import disk_status
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _health(client: Client, at: datetime) -> dict[str, Any]:
    with time_machine.travel(at, tick=False):
        beat("w1")  # a live worker: only what the test is about degrades the report
        response = client.get("/healthz")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_disk_is_reported_and_low_under_the_threshold(client: Client, settings: Any) -> None:
    body = _health(client, T0)
    assert body["status"] == "ok"
    disk = body["disk"]
    real = shutil.disk_usage(settings.DATA_DIR)
    assert disk["status"] == "ok"
    assert 0 < disk["free_bytes"] <= disk["total_bytes"] == real.total
    assert disk["free_percent"] == pytest.approx(100 * real.free / real.total, abs=1)
    assert "path" not in disk  # the folder's path is nobody's business
    settings.LOCKSTEP_DISK_LOW_BYTES = real.free * 2  # more than there is: "low"
    body = _health(client, T0)
    assert (body["status"], body["disk"]["status"]) == ("degraded", "low")
    settings.LOCKSTEP_DISK_LOW_BYTES = 0
    settings.LOCKSTEP_DISK_LOW_PERCENT = 100.5  # a share nobody has free
    assert _health(client, T0)["disk"]["status"] == "low"


def test_a_folder_that_cannot_be_read_is_unknown(tmp_path: Path) -> None:
    assert disk_status(tmp_path / "gone")["status"] == "unknown"


def _queue_two() -> None:
    with transaction.atomic():
        fan_out(
            MailSpec(subject="s", body="embargoed body", case_id=None, confidential=False),
            [Recipient(f"m{n}@example.org", plain_ok=True) for n in (1, 2)],
        )


def test_a_relay_that_refuses_for_minutes_degrades_then_recovers(
    client: Client, tmp_path: Path
) -> None:
    dead = SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=5))
    with time_machine.travel(T0, tick=False):
        _queue_two()
    deliver_due(dead, now=T0)
    mail = _health(client, T0 + timedelta(seconds=30))["mail"]
    assert mail["queued"] == 2
    assert mail["oldest_queued_age_seconds"] == 30.0
    assert mail["held"] == 0
    assert mail["status"] == "ok"  # failing for 30 s only: not yet the operator's problem
    assert mail["failing_since"] == T0.isoformat()
    assert mail["last_error"]["at"] == T0.isoformat()
    error = mail["last_error"]["error"]
    assert error.startswith("SMTP relay [host] unreachable:")
    assert "127.0.0.1" not in error  # the relay's address is not public
    deliver_due(dead, now=T0 + timedelta(minutes=1, seconds=1))  # the first retry fails too
    body = _health(client, T0 + timedelta(minutes=6))
    mail = body["mail"]
    assert (body["status"], mail["status"]) == ("degraded", "failing")
    assert mail["failing_since"] == T0.isoformat()  # since the first failure, not the last
    assert mail["last_error"]["at"] == (T0 + timedelta(minutes=1, seconds=1)).isoformat()
    assert set(OutboundMessage.objects.values_list("attempts", flat=True)) == {2}
    deliver_due(FolderTransport(tmp_path), now=T0 + timedelta(minutes=7))  # the relay is back
    body = _health(client, T0 + timedelta(minutes=7, seconds=5))
    assert body["status"] == "ok"
    assert body["mail"] == {
        "status": "ok",
        "queued": 0,
        "oldest_queued_age_seconds": None,
        "held": 0,
        "held_inbound": 0,
        "failing_since": None,
        "last_error": None,
    }


def test_one_refused_recipient_among_delivered_copies_is_not_a_failing_relay(
    client: Client, tmp_path: Path
) -> None:
    with time_machine.travel(T0 - timedelta(hours=3), tick=False):
        _queue_two()
    first, second = OutboundMessage.objects.order_by("id")
    OutboundMessage.objects.filter(pk=first.pk).update(
        attempts=4,
        first_failed_at=T0 - timedelta(hours=3),
        last_failed_at=T0 - timedelta(minutes=1),
        last_error="550 5.1.1 <m1@example.org>: Recipient address rejected",
        next_attempt_at=T0 + timedelta(hours=2),
    )
    deliver_due(FolderTransport(tmp_path), now=T0)  # the other copy goes through
    mail = _health(client, T0 + timedelta(minutes=10))["mail"]
    assert mail["status"] == "ok"
    assert (mail["queued"], mail["failing_since"]) == (1, None)
    assert mail["last_error"]["error"] == "550 5.1.1 <[address]>: Recipient address rejected"
    assert OutboundMessage.objects.get(pk=second.pk).status == OutboxStatus.SENT


def test_held_copies_are_counted(client: Client) -> None:
    with time_machine.travel(T0, tick=False):
        _queue_two()
    OutboundMessage.objects.update(status=OutboxStatus.HELD, last_error="bounced")
    mail = _health(client, T0)["mail"]
    assert (mail["queued"], mail["held"], mail["status"]) == (0, 2, "ok")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "SMTP relay mx.internal.example:587 unreachable: timed out",
            "SMTP relay [host] unreachable: timed out",
        ),
        ("550 <a.b+c@example.org>... User unknown", "550 <[address]>... User unknown"),
        ("451 4.3.0 Try again later", "451 4.3.0 Try again later"),
        ("x" * 500, "x" * 300),
    ],
)
def test_public_errors_name_no_address_and_no_host(raw: str, shown: str) -> None:
    assert public_error(raw) == shown


def test_database_down_is_503_with_the_disk_and_without_the_mail(client: Client) -> None:
    def refuse(*_args: Any) -> None:
        raise OperationalError("connection to server at 10.0.0.7, port 5432 failed")

    with connection.execute_wrapper(refuse):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]["status"]) == ("down", "down")
    assert body["mail"] == {"status": "unknown"}
    assert body["disk"]["status"] in {"ok", "low"}
