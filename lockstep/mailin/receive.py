"""What the SMTP server does with each message while the sender waits: store it raw, apply the
envelope rules (their refusal is the SMTP reply), and queue it for the pipeline."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import connections, transaction

from lockstep.mailgw.inbound.rules import ENVELOPE_RULES, Action, Facts, decide
from lockstep.mailgw.inbound.store import settle, store_and_read
from lockstep.mailgw.models import InboundStatus
from lockstep.mailin.destinations import first_destination, resolve

log = logging.getLogger(__name__)
TRY_LATER = "451 4.3.0 Temporary failure; nothing was kept, please try again later"


def own_addresses() -> frozenset[str]:
    return frozenset({str(settings.LOCKSTEP_MAIL_FROM).lower()})


def accepts_recipient(address: str) -> bool:
    try:
        return resolve(address) is not None
    finally:
        connections.close_all()  # this runs in a pool thread: leave no connection behind


def receive(raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str = "") -> str:
    """Take one message; return the SMTP reply. Nothing is refused before it is stored."""
    try:
        return _receive(raw, mail_from=mail_from, rcpt_to=rcpt_to, peer=peer)
    except Exception:
        log.exception("could not take a message from %s", peer)
        return TRY_LATER
    finally:
        connections.close_all()  # this runs in a pool thread: leave no connection behind


def _receive(raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str) -> str:
    message, headers = store_and_read(raw, mail_from=mail_from, rcpt_to=rcpt_to, peer=peer)
    destination = first_destination(list(rcpt_to))
    facts = Facts(
        destination=str(destination.kind) if destination else "",
        size=len(raw),
        max_size=settings.LOCKSTEP_MAIL_MAX_MESSAGE_BYTES,
        own_addresses=own_addresses(),
        from_address=headers.from_address,
        subject=headers.subject,
        x_loop=headers.x_loop,
        auto_submitted=headers.auto_submitted,
        precedence=headers.precedence,
        autoreply=headers.autoreply,
        required_tag=destination.required_tag if destination else "",
    )
    verdict = decide(ENVELOPE_RULES, facts)
    if verdict.action == Action.REJECT:
        settle(message, status=InboundStatus.REJECTED, rule=verdict.rule, reason=verdict.reason)
        return verdict.smtp
    if verdict.action == Action.DISCARD:
        settle(message, status=InboundStatus.DISCARDED, rule=verdict.rule, reason=verdict.reason)
        return f"250 2.0.0 Taken and discarded: {verdict.reason}"
    from lockstep.mailin.tasks import process_inbound  # noqa: PLC0415 - tasks import this module

    with transaction.atomic():
        transaction.on_commit(lambda: process_inbound.enqueue(message.pk))
    return f"250 2.0.0 Queued as {message.pk}"
