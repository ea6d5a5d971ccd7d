"""Storing a received message: the first thing that happens to it, before any reading.

A message to several recipients is one row per recipient, since each recipient is decided
on (and answered) on its own; the raw bytes are stored once, in the first row, and the
others point at it (`raw_from`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from lockstep.core import clock
from lockstep.mailgw.inbound.letter import Headers, Unreadable, clean_text, parse, read_headers
from lockstep.mailgw.models import InboundMessage, InboundStatus

_RECIPIENTS_MAX = 100


def read_stored_headers(raw: bytes) -> Headers:
    """What the headers say, best effort (nothing is refused for being unreadable here)."""
    try:
        return read_headers(parse(raw))
    except Unreadable:
        return Headers()


@dataclass(frozen=True)
class _Received:
    raw: bytes
    headers: Headers
    mail_from: str
    peer: str
    digest: str

    @classmethod
    def read(cls, raw: bytes, *, mail_from: str, peer: str) -> _Received:
        digest = hashlib.sha256(raw).hexdigest()
        return cls(raw, read_stored_headers(raw), mail_from, peer, digest)


def _row(
    received: _Received, rcpt_to: Sequence[str], *, raw_from: InboundMessage | None = None
) -> InboundMessage:
    headers = received.headers
    return InboundMessage.objects.create(
        received_at=clock.now(),
        peer=clean_text(received.peer)[:100],
        mail_from=clean_text(received.mail_from)[:320],
        rcpt_to=[clean_text(str(r))[:320] for r in rcpt_to][:_RECIPIENTS_MAX],
        raw=received.raw if raw_from is None else b"",
        raw_from=raw_from,
        size=len(received.raw),
        sha256=received.digest,
        message_id=headers.message_id,
        from_header=headers.from_address,
        subject=headers.subject,
    )


def store_inbound(
    raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str = ""
) -> InboundMessage:
    """Write the raw message and what its headers say (best effort) in one row."""
    return _row(_Received.read(raw, mail_from=mail_from, peer=peer), rcpt_to)


@transaction.atomic
def store_per_recipient(
    raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str = ""
) -> tuple[list[InboundMessage], Headers]:
    """One row per recipient, in order (one row without a recipient if there is none), the
    raw bytes in the first; all rows or none. Also hands back the headers it read."""
    received = _Received.read(raw, mail_from=mail_from, peer=peer)
    first = _row(received, rcpt_to[:1])
    rows = [first, *(_row(received, [r], raw_from=first) for r in rcpt_to[1:])]
    return rows, received.headers


def settle(
    message: InboundMessage, *, status: InboundStatus, rule: str = "", reason: str = ""
) -> None:
    message.status = status
    message.rule = rule
    message.reason = reason[:2000]
    message.processed_at = clock.now()
    message.save(update_fields=["status", "rule", "reason", "processed_at"])
