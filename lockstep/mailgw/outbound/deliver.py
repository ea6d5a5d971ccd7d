"""Delivery: claim due copies, render them, send them in one batch, record the outcome.

Claiming and recording are short transactions; the network I/O happens between them, never
inside one. A claimed copy carries a lease (`claimed_until`): if a worker dies mid-batch,
copies whose lease ran out are claimed again. That makes delivery at-least-once; the
copy's Message-ID stays the same, so a receiving server or client can drop a repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from lockstep.mailgw.models import OutboundMessage, OutboxStatus, Protection
from lockstep.mailgw.outbound.transport import Envelope, Outcome, Transport, TransportDown

LEASE = timedelta(minutes=10)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)


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
            status=OutboxStatus.SENDING, claimed_until=now + LEASE
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
        from lockstep.mailgw.outbound.protect import render_pgp  # noqa: PLC0415

        return render_pgp(row)
    return bytes(render_plain(row))


def _record(row: OutboundMessage, outcome: Outcome, now: datetime, report: DeliveryReport) -> None:
    if outcome.ok:
        row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, ""
        report.sent += 1
    else:
        row.attempts += 1
        row.last_error = outcome.error[:2000]
        if row.attempts >= settings.LOCKSTEP_MAIL_MAX_ATTEMPTS:
            row.status = OutboxStatus.HELD
            report.held += 1
        else:
            row.status = OutboxStatus.QUEUED
            row.next_attempt_at = now + backoff(row.attempts)
            report.failed += 1
        report.errors.append(f"{row.to_address}: {outcome.error}")
    row.claimed_until = None
    row.save(
        update_fields=[
            "status",
            "sent_at",
            "last_error",
            "attempts",
            "next_attempt_at",
            "claimed_until",
        ]
    )


def deliver_due(
    transport: Transport, *, now: datetime, batch: int = 200, renderer: Renderer = render
) -> DeliveryReport:
    """Send one batch of due copies and record each outcome."""
    report = DeliveryReport()
    rows = claim_due(now, batch=batch)
    if not rows:
        return report
    envelopes, outcomes = [], {}
    for row in rows:
        try:
            envelopes.append(
                Envelope(row.from_address, row.to_address, renderer(row), row.message_id)
            )
        except Exception as exc:  # noqa: BLE001 - one unbuildable copy must not block the rest
            outcomes[row.message_id] = Outcome(row.message_id, f"cannot build the message: {exc}")
    try:
        outcomes.update({o.key: o for o in transport.send_batch(envelopes)})
    except TransportDown as exc:
        outcomes.update({e.key: Outcome(e.key, str(exc)) for e in envelopes})
    with transaction.atomic():
        for row in rows:
            _record(row, outcomes[row.message_id], now, report)
    return report
