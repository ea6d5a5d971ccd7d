"""Storing a received message: the first thing that happens to it, before any reading."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from lockstep.core import clock
from lockstep.mailgw.inbound.letter import Headers, Unreadable, clean_text, parse, read_headers
from lockstep.mailgw.models import InboundMessage, InboundStatus


def store_inbound(
    raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str = ""
) -> InboundMessage:
    """Write the raw message and what its headers say (best effort) in one row."""
    return store_and_read(raw, mail_from=mail_from, rcpt_to=rcpt_to, peer=peer)[0]


def store_and_read(
    raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str = ""
) -> tuple[InboundMessage, Headers]:
    """`store_inbound`, also handing back the headers it read (so they are read once)."""
    try:
        headers = read_headers(parse(raw))
    except Unreadable:
        headers = Headers()
    message = InboundMessage.objects.create(
        received_at=clock.now(),
        peer=clean_text(peer)[:100],
        mail_from=clean_text(mail_from)[:320],
        rcpt_to=[clean_text(str(r))[:320] for r in rcpt_to][:100],
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        message_id=headers.message_id,
        from_header=headers.from_address,
        subject=headers.subject,
    )
    return message, headers


def settle(
    message: InboundMessage, *, status: InboundStatus, rule: str = "", reason: str = ""
) -> None:
    message.status = status
    message.rule = rule
    message.reason = reason[:2000]
    message.processed_at = clock.now()
    message.save(update_fields=["status", "rule", "reason", "processed_at"])
