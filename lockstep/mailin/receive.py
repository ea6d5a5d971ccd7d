"""What the SMTP server does with each message while the sender waits: store it raw, one row
per recipient, apply the envelope rules to each recipient (their refusal is that recipient's
reply), and queue each row the rules let through for the pipeline.

Every recipient counts on its own: a message to a report address and a case address makes a
report and a post, and a list's missing tag refuses only the list's recipient.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import connections, transaction

from lockstep.core.txn import on_commit_enqueue
from lockstep.mailgw.inbound.letter import Headers
from lockstep.mailgw.inbound.rules import ENVELOPE_RULES, Action, Facts, decide
from lockstep.mailgw.inbound.store import settle, store_per_recipient
from lockstep.mailgw.models import InboundMessage, InboundStatus
from lockstep.mailin.destinations import resolve

log = logging.getLogger(__name__)
TRY_LATER = "451 4.3.0 Temporary failure; nothing was kept, please try again later"


def own_addresses() -> frozenset[str]:
    return frozenset({str(settings.LOCKSTEP_MAIL_FROM).lower()})


def accepts_recipient(address: str) -> bool:
    try:
        return resolve(address) is not None
    finally:
        connections.close_all()  # this runs in a pool thread: leave no connection behind


def smtp_reply(replies: Sequence[str]) -> str:
    """SMTP has one reply for DATA: taken if any recipient took it (the refused ones are
    recorded as rejected), otherwise the first refusal."""
    return next((reply for reply in replies if reply.startswith("2")), replies[0])


def _same(address: str) -> str:
    return address.strip().strip("<>").lower()


def receive(raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str = "") -> list[str]:
    """Take one message; return one reply per recipient, in the order of `rcpt_to` (one reply
    if there is none). Nothing is refused before it is stored; a recipient named twice is
    one row, answered twice."""
    distinct: dict[str, str] = {}
    for address in rcpt_to:
        distinct.setdefault(_same(address), address)
    try:
        decided = _receive(raw, mail_from=mail_from, rcpt_to=list(distinct.values()), peer=peer)
    except Exception:
        log.exception("could not take a message from %s", peer)
        return [TRY_LATER] * max(len(rcpt_to), 1)
    finally:
        connections.close_all()  # this runs in a pool thread: leave no connection behind
    if not rcpt_to:
        return decided
    by_address = dict(zip(distinct, decided, strict=True))
    return [by_address[_same(address)] for address in rcpt_to]


def _receive(raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], peer: str) -> list[str]:
    with transaction.atomic():  # all rows and their decisions, or nothing (then: try later)
        rows, headers = store_per_recipient(raw, mail_from=mail_from, rcpt_to=rcpt_to, peer=peer)
        return [_decide(row, headers) for row in rows]


def _decide(message: InboundMessage, headers: Headers) -> str:
    """The envelope rules for one recipient's row; its reply."""
    destination = resolve(message.rcpt_to[0]) if message.rcpt_to else None
    facts = Facts(
        destination=str(destination.kind) if destination else "",
        size=message.size,
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
    on_commit_enqueue("lockstep.mailin.tasks.process_inbound", message.pk)
    return f"250 2.0.0 Queued as {message.pk}"
