"""Delivery: claim due copies, render them, send them in one batch, record the outcome.

Claiming and recording are short transactions; the network I/O happens between them, never
inside one. A claimed copy carries a lease (`claimed_until`): if a worker dies mid-batch,
copies whose lease ran out are claimed again. That makes delivery at-least-once; the
copy's Message-ID stays the same, so a receiving server or client can drop a repeat.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from lockstep.mailgw.addresses import bounce_address
from lockstep.mailgw.models import OutboundMessage, OutboxStatus, Protection
from lockstep.mailgw.outbound.protect import render_pgp, render_signed
from lockstep.mailgw.outbound.transport import Envelope, Outcome, Transport, TransportDown

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)


def lease() -> timedelta:
    """How long a claim lasts: a dead worker's copies are sent by another after this."""
    return timedelta(seconds=settings.LOCKSTEP_MAIL_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]


def claim_due(now: datetime, *, batch: int) -> list[OutboundMessage]:
    """Take up to `batch` due copies for this worker (others skip them: SKIP LOCKED)."""
    due = Q(status=OutboxStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_until__lt=now
    )
    with transaction.atomic():
        rows = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("id")[:batch]
        )
        OutboundMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=OutboxStatus.SENDING, claimed_until=now + lease()
        )
    return rows


def render_plain(row: OutboundMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = row.from_address
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    for name, value in row.headers.items():
        message[name] = value
    message.set_content(row.body)
    return message


Renderer = Callable[[OutboundMessage], bytes]


def render(row: OutboundMessage) -> bytes:
    if row.protection == Protection.PGP:
        return render_pgp(row)
    if row.protection == Protection.SIGNED:
        return render_signed(row)
    return bytes(render_plain(row))


def _record_failure(
    row: OutboundMessage, error: str, now: datetime, report: DeliveryReport
) -> None:
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= settings.LOCKSTEP_MAIL_MAX_ATTEMPTS:
        row.status = OutboxStatus.HELD
        report.held += 1
    else:
        row.status = OutboxStatus.QUEUED
        row.next_attempt_at = now + backoff(row.attempts)
        report.failed += 1
    report.errors.append(f"{row.to_address}: {error}")
    row.claimed_until = None
    row.save(update_fields=["status", "last_error", "attempts", "next_attempt_at", "claimed_until"])


def _mark_sent(row_ids: list[int], now: datetime) -> None:
    """Recorded the moment the next hop accepts the copies, in one short transaction, so a
    worker killed later in the batch never sends them again."""
    if row_ids:
        OutboundMessage.objects.filter(pk__in=row_ids).update(
            status=OutboxStatus.SENT, sent_at=now, last_error="", claimed_until=None
        )


def _record_failures(
    rows: list[OutboundMessage], outcomes: dict[str, Outcome], now: datetime, report: DeliveryReport
) -> None:
    with transaction.atomic():
        for row in rows:
            outcome = outcomes.get(row.message_id) or Outcome(
                row.message_id, "not sent: the batch broke off before this copy"
            )
            if not outcome.ok:
                _record_failure(row, outcome.error, now, report)


_AHEAD = 16  # copies built ahead of the one on the wire


def _built_ahead(
    rows: list[OutboundMessage], renderer: Renderer, outcomes: dict[str, Outcome]
) -> Generator[Envelope, None, None]:
    """Build copies in a helper thread while this one waits on the SMTP server: signing and
    encrypting the next copies overlaps the network round trips of the current one."""
    ready: queue.Queue[Envelope | None] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def build() -> None:
        try:
            for row in rows:
                if stop.is_set():
                    return
                try:
                    data = renderer(row)
                except Exception as exc:  # noqa: BLE001 - one unbuildable copy must not block the rest
                    outcomes[row.message_id] = Outcome(
                        row.message_id, f"cannot build the message: {exc}"
                    )
                    continue
                ready.put(Envelope(bounce_address(row.pk), row.to_address, data, row.message_id))
        finally:
            ready.put(None)

    builder = threading.Thread(target=build, name="outbox-builder", daemon=True)
    builder.start()
    try:
        while (envelope := ready.get()) is not None:
            yield envelope
    finally:
        stop.set()
        while builder.is_alive():  # let a builder blocked on a full queue finish
            with contextlib.suppress(queue.Empty):
                ready.get_nowait()
            builder.join(0.01)


def deliver_due(
    transport: Transport, *, now: datetime, batch: int = 200, renderer: Renderer = render
) -> DeliveryReport:
    """Send one batch of due copies and record each outcome."""
    report = DeliveryReport()
    rows = claim_due(now, batch=batch)
    if not rows:
        return report
    by_key = {row.message_id: row for row in rows}
    outcomes: dict[str, Outcome] = {}
    envelopes = _built_ahead(rows, renderer, outcomes)
    try:
        for group in transport.send_batch(envelopes):
            accepted = []
            for outcome in group:
                outcomes[outcome.key] = outcome
                if outcome.ok:
                    accepted.append(by_key[outcome.key].pk)
            _mark_sent(accepted, now)
            report.sent += len(accepted)
    except TransportDown as exc:
        for row in rows:
            outcomes.setdefault(row.message_id, Outcome(row.message_id, str(exc)))
    finally:
        envelopes.close()
    _record_failures(rows, outcomes, now, report)
    return report
