"""Delivery: claim due copies, render them, send them in one batch, record the outcome.

Claiming and recording are short transactions; the network I/O happens between them, never
inside one. A claimed copy names its worker (`claimed_by`, the worker's heartbeat id): when
that worker stops beating, a live one releases its claims (`tasks.release_claims_of`, called
by `ops.recovery`) and sends them. A claim also carries a lease (`claimed_until`), the last
resort for a claim no heartbeat vouches for. That makes delivery at-least-once: a copy the
relay accepted just before its worker died, unrecorded, goes again (at most one per SMTP
session; see `transport.SmtpTransport`), with the same Message-ID, so a receiving server or
client can drop the repeat.

A relay's answer is recorded even if the database is away at that moment: the worker waits
for it (`ops.outage.retry_through_outage`) rather than forget a copy it has sent.
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
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from lockstep.mailgw.addresses import bounce_address
from lockstep.mailgw.models import OutboundMessage, OutboxStatus, Protection
from lockstep.mailgw.outbound.protect import render_pgp, render_signed
from lockstep.mailgw.outbound.transport import Envelope, Outcome, Transport, TransportDown
from lockstep.ops.heartbeat import this_worker
from lockstep.ops.outage import retry_through_outage

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
            status=OutboxStatus.SENDING, claimed_until=now + lease(), claimed_by=this_worker()
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


def _write_failure(row: OutboundMessage, error: str, now: datetime) -> bool:
    """Record one failed attempt (from the claimed row's values, so a retry writes the same);
    return True if the copy is now held. A copy no longer being sent (another worker took it
    over and sent it) is left as it is."""
    attempts = row.attempts + 1
    held = attempts >= settings.LOCKSTEP_MAIL_MAX_ATTEMPTS
    OutboundMessage.objects.filter(pk=row.pk, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.HELD if held else OutboxStatus.QUEUED,
        attempts=attempts,
        last_error=error[:2000],
        first_failed_at=row.first_failed_at or now,
        last_failed_at=now,
        next_attempt_at=row.next_attempt_at if held else now + backoff(attempts),
        claimed_until=None,
        claimed_by="",
    )
    return held


def _mark_sent(row_ids: list[int], now: datetime) -> None:
    """Recorded the moment the next hop accepts the copies, in one short transaction, so a
    worker killed later in the batch never sends them again."""
    if row_ids:
        OutboundMessage.objects.filter(pk__in=row_ids).update(
            status=OutboxStatus.SENT,
            sent_at=now,
            last_error="",
            first_failed_at=None,
            last_failed_at=None,
            claimed_until=None,
            claimed_by="",
        )


def _record_failures(
    rows: list[OutboundMessage], outcomes: dict[str, Outcome], now: datetime, report: DeliveryReport
) -> None:
    failures = []
    for row in rows:
        outcome = outcomes.get(row.message_id) or Outcome(
            row.message_id, "not sent: the batch broke off before this copy"
        )
        if not outcome.ok:
            failures.append((row, outcome.error))

    def write() -> int:
        with transaction.atomic():
            return sum(_write_failure(row, error, now) for row, error in failures)

    held = retry_through_outage(write, what="recording failed copies") if failures else 0
    report.held += held
    report.failed += len(failures) - held
    report.errors.extend(f"{row.to_address}: {error}" for row, error in failures)


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
            retry_through_outage(
                partial(_mark_sent, accepted, now), what="recording copies the relay accepted"
            )
            report.sent += len(accepted)
    except TransportDown as exc:
        for row in rows:
            outcomes.setdefault(row.message_id, Outcome(row.message_id, str(exc)))
    finally:
        envelopes.close()
    _record_failures(rows, outcomes, now, report)
    return report
