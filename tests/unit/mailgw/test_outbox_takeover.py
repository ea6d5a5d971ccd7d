"""Claims name their worker; parallel sessions never get ahead of what the outbox records."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.deliver import claim_due
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.mailgw.outbound.transport import (
    Envelope,
    SmtpSettings,
    SmtpTransport,
    _Shared,
)
from lockstep.ops.heartbeat import become_worker
from tests.flows.test_serve import free_port

CONNECTIONS = 3


class CountingSink:
    """Counts the messages it accepted."""

    def __init__(self) -> None:
        self.accepted = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.accepted += 1
        return "250 Message accepted"


@pytest.fixture
def sink() -> Iterator[tuple[CountingSink, int]]:
    handler, port = CountingSink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _envelopes(count: int) -> Iterator[Envelope]:
    for n in range(count):
        data = f"Subject: {n}\r\n\r\nHello.\r\n".encode()
        yield Envelope("lockstep@example.org", f"m{n}@example.org", data, f"<{n}@x>")


def test_a_slow_recorder_holds_the_sessions_back(sink: tuple[CountingSink, int]) -> None:
    handler, port = sink
    transport = SmtpTransport(
        SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?connections={CONNECTIONS}")
    )
    recorded, ahead = 0, []
    for group in transport.send_batch(_envelopes(30)):
        time.sleep(0.05)  # recording takes a while: the sessions may not run on meanwhile
        ahead.append(handler.accepted - recorded)
        recorded += len(group)
    assert recorded == handler.accepted == 30
    assert max(ahead) <= CONNECTIONS  # sent but not yet recorded: a kill repeats at most these


def test_a_caller_that_stops_reading_lets_every_session_go(
    sink: tuple[CountingSink, int],
) -> None:
    handler, port = sink
    transport = SmtpTransport(
        SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?connections={CONNECTIONS}")
    )
    before = threading.active_count()
    groups = transport.send_batch(_envelopes(30))
    next(groups)
    groups.close()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before
    assert handler.accepted <= 1 + CONNECTIONS


def test_the_shared_source_hands_out_only_its_budget() -> None:
    source = _Shared(iter(list(_envelopes(5))), budget=2)
    taken = [next(source), next(source)]
    third: list[Envelope] = []
    waiter = threading.Thread(target=lambda: third.extend(itertools.islice(source, 1)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # no slot until an outcome is recorded
    source.settle(1)
    waiter.join(5)
    assert [e.key for e in [*taken, *third]] == ["<0@x>", "<1@x>", "<2@x>"]
    source.close()
    assert list(source) == []  # closed: nothing more, and nobody waits


@pytest.mark.django_db
def test_a_claim_names_the_worker_and_a_sent_copy_forgets_it() -> None:
    spec = MailSpec(subject="Advisory", body="Patch now.", confidential=False)
    with transaction.atomic():
        fan_out(spec, [Recipient("m@example.org", plain_ok=True)])
    become_worker("w1")
    try:
        (row,) = claim_due(datetime.now(UTC) + timedelta(days=1), batch=10)
    finally:
        become_worker("")
    row.refresh_from_db()
    assert (row.status, row.claimed_by) == (OutboxStatus.SENDING, "w1")
    assert OutboundMessage.objects.filter(claimed_by="w1").count() == 1
