"""Queueing copies: `fan_out` writes one outbox row per recipient in the caller's transaction."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from lockstep.core import clock
from lockstep.core.txn import on_commit_enqueue
from lockstep.mailgw.models import OutboundMessage, Protection
from lockstep.mailgw.outbound.templates import RenderedMail, render_mail

DELIVERY_TASK = "lockstep.mailgw.outbound.tasks.deliver_outbound"
PLAIN_MARKER = "[plain]"
# Heads a post, and every copy of it, that came by mail no signature on file proves.
UNVERIFIED_NOTE = (
    "[Sender not verified: this came by mail without a signature that proves who sent it.]"
)


@dataclass(frozen=True)
class MailSpec:
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    case_id: int | None = None
    confidential: bool = True  # embargoed content: encrypted, or a content-free notice
    read_url: str = ""  # where a notice sends the recipient to read it
    signed: bool = False  # public mail signed by the list key (PGP/MIME), e.g. list relays


@dataclass(frozen=True)
class Recipient:
    address: str
    key: str = ""  # armoured public key able to encrypt now; "" if none
    plain_ok: bool = False  # the member chose clear text and the channel allows it
    reply_to: str = ""  # this member's own reply address (a case's), replacing the spec's


def choose_protection(spec: MailSpec, recipient: Recipient) -> Protection:
    """Pure: embargoed content never leaves in clear unless the member chose it."""
    if not spec.confidential:
        return Protection.SIGNED if spec.signed else Protection.PLAIN
    if recipient.key:
        return Protection.PGP
    if recipient.plain_ok:
        return Protection.PLAIN
    return Protection.NOTICE


def confidential_notice(read_url: str) -> RenderedMail:
    """What a member without a key gets instead of confidential mail: where to read it."""
    return render_mail(
        "confidential-notice",
        {"read_url": read_url, "instance": settings.LOCKSTEP_INSTANCE_NAME},
    )


def _copy(spec: MailSpec, recipient: Recipient, protection: Protection) -> OutboundMessage:
    now = clock.now()
    subject, body = spec.subject, spec.body
    if protection == Protection.NOTICE:
        subject, body = confidential_notice(spec.read_url)
    elif protection == Protection.PLAIN and spec.confidential:
        subject = f"{PLAIN_MARKER} {subject}"
    domain = settings.LOCKSTEP_MAIL_DOMAIN
    headers = dict(spec.headers)
    if recipient.reply_to:
        headers.update(
            {"Reply-To": recipient.reply_to, "List-Post": f"<mailto:{recipient.reply_to}>"}
        )
    return OutboundMessage(
        protection=protection,
        from_address=settings.LOCKSTEP_MAIL_FROM,
        to_address=recipient.address,
        recipient_key=recipient.key if protection == Protection.PGP else "",
        subject=subject,
        body=body,
        headers=headers,
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
        case_id=spec.case_id,
        next_attempt_at=now,
        created_at=now,
    )


def fan_out(spec: MailSpec, recipients: Sequence[Recipient]) -> list[OutboundMessage]:
    """Queue one copy per recipient; delivery starts after the caller's transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        msg = "fan_out() must run inside the transaction of the change it announces"
        raise RuntimeError(msg)
    if not recipients:
        return []
    rows = OutboundMessage.objects.bulk_create(
        _copy(spec, r, choose_protection(spec, r)) for r in recipients
    )
    on_commit_enqueue(DELIVERY_TASK)
    return rows
