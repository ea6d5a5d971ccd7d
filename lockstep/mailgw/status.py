"""How the mail is doing, for /healthz and /metrics: counts, ages and the relay's last error.

Only envelopes' facts leave this module, never a body. `/healthz` is public, so the error text
it shows has addresses and the relay's host and port taken out (`public_error`); the full text
is on `/outbox/` for the people who manage those copies.

The relay is "failing" when the copies still being tried have failed without a break since
the last copy it accepted, for at least `LOCKSTEP_MAIL_FAILING_SECONDS`: one refused
recipient among copies that go through is the recipient's problem, not the relay's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min

from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, OutboxStatus

TRYING = (OutboxStatus.QUEUED, OutboxStatus.SENDING)  # not sent yet, and not given up
WITH_ERRORS = (*TRYING, OutboxStatus.HELD)
SHOWN_ERROR_CHARS = 300

_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:]+")
_HOST_PORT = re.compile(r"(?<![\w.-])[\w.-]+:\d{1,5}(?!\d)")


def public_error(text: str) -> str:
    """An error as anyone may read it: no mail address, no host:port."""
    text = _ADDRESS.sub("[address]", text)
    text = _HOST_PORT.sub("[host]", text)
    return text[:SHOWN_ERROR_CHARS]


def copies_by_state(statuses: tuple[str, ...] = tuple(OutboxStatus.values)) -> dict[str, int]:
    """Outbound copies per status (each of `statuses` named, 0 when none)."""
    rows = OutboundMessage.objects.filter(status__in=statuses).order_by().values_list("status")
    counted = dict(rows.annotate(n=Count("id")))
    return {status: counted.get(status, 0) for status in statuses}


def inbound_by_state() -> dict[str, int]:
    """Received messages per status (every status named, 0 when none)."""
    counted = dict(InboundMessage.objects.order_by().values_list("status").annotate(n=Count("id")))
    return {status: counted.get(status, 0) for status in InboundStatus.values}


def _age(now: datetime, since: datetime | None) -> float | None:
    return round((now - since).total_seconds(), 1) if since else None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _last_error() -> dict[str, Any] | None:
    row = (
        OutboundMessage.objects.filter(status__in=WITH_ERRORS, last_failed_at__isnull=False)
        .order_by("-last_failed_at")
        .values("last_failed_at", "last_error")
        .first()
    )
    if row is None:
        return None
    return {"at": _iso(row["last_failed_at"]), "error": public_error(row["last_error"])}


def failing_since() -> datetime | None:
    """Since when every attempt has failed (the oldest run of failures among copies still
    being tried that ended after the relay last accepted a copy), or None."""
    last_sent = OutboundMessage.objects.aggregate(at=Max("sent_at"))["at"]
    failed = OutboundMessage.objects.filter(status__in=TRYING, first_failed_at__isnull=False)
    if last_sent is not None:
        failed = failed.filter(last_failed_at__gt=last_sent)
    since: datetime | None = failed.aggregate(at=Min("first_failed_at"))["at"]
    return since


def is_failing(since: datetime | None, now: datetime) -> bool:
    limit = timedelta(seconds=settings.LOCKSTEP_MAIL_FAILING_SECONDS)
    return since is not None and now - since >= limit


def oldest_waiting(now: datetime) -> float | None:
    """Age in seconds of the oldest copy not sent yet and still being tried."""
    created = OutboundMessage.objects.filter(status__in=TRYING).aggregate(at=Min("created_at"))
    return _age(now, created["at"])


def mail_status(now: datetime) -> dict[str, Any]:
    """The mail section of /healthz."""
    by_state = copies_by_state(WITH_ERRORS)  # not the sent ones: a count of every row
    since = failing_since()
    held_inbound = InboundMessage.objects.filter(status=InboundStatus.HELD).count()
    return {
        "status": "failing" if is_failing(since, now) else "ok",
        "queued": by_state[OutboxStatus.QUEUED] + by_state[OutboxStatus.SENDING],
        "oldest_queued_age_seconds": oldest_waiting(now),
        "held": by_state[OutboxStatus.HELD],
        "held_inbound": held_inbound,
        "failing_since": _iso(since),
        "last_error": _last_error(),
    }
