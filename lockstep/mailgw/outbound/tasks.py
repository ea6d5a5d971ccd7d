"""The delivery task: drains due copies in batches; comes back when the next retry is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django_tasks import task

from lockstep.core import clock
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.transport import (
    FolderTransport,
    SmtpSettings,
    SmtpTransport,
    Transport,
)


def get_transport() -> Transport:
    """SMTP when `LOCKSTEP_SMTP_URL` is set; otherwise the outbox folder in the data folder."""
    if settings.LOCKSTEP_SMTP_URL:
        return SmtpTransport(SmtpSettings.from_url(settings.LOCKSTEP_SMTP_URL))
    return FolderTransport(settings.LOCKSTEP_OUTBOX_DIR)


def next_due() -> datetime | None:
    """When a copy next falls due: its retry time, or the end of a (dead) worker's claim."""
    retry = OutboundMessage.objects.filter(status=OutboxStatus.QUEUED).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    lease_end = OutboundMessage.objects.filter(status=OutboxStatus.SENDING).aggregate(
        at=Min("claimed_until")
    )["at"]
    moments = [m for m in (retry, lease_end) if m is not None]
    return min(moments, default=None)


@task()
def deliver_outbound() -> dict[str, int]:
    transport = get_transport()
    totals = {"sent": 0, "failed": 0, "held": 0}
    while True:
        report = deliver_due(transport, now=clock.now(), batch=settings.LOCKSTEP_MAIL_BATCH)
        totals["sent"] += report.sent
        totals["failed"] += report.failed
        totals["held"] += report.held
        if report.sent + report.failed + report.held == 0 or report.failed:
            break
    upcoming = next_due()
    if upcoming is not None:
        deliver_outbound.using(run_after=max(upcoming, clock.now())).enqueue()
    return totals


def release_claims_of(worker_ids: Sequence[str]) -> None:
    """Workers that stopped (died, or lost the database mid-batch) give their copies back: a
    delivery runs after the commit and sends them (`ops.recovery` calls this)."""
    released = OutboundMessage.objects.filter(
        status=OutboxStatus.SENDING, claimed_by__in=list(worker_ids)
    ).update(status=OutboxStatus.QUEUED, claimed_until=None, claimed_by="")
    if released:
        transaction.on_commit(deliver_outbound.enqueue)
