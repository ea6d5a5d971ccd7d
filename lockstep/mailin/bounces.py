"""What mail to a copy's bounce address (VERP: one address per copy) does to that copy.

Only a failure holds the copy (`dsn.read_bounce` says which mail is one). A copy already
sent that fails later is held: that is what the bounce address is for. So is a copy queued
for another attempt: the relay took it once already, and the address does not work. A copy
a worker is sending right now is left to that worker: held meanwhile, "Retry" would queue it
while it is still on its way, and it would go out twice.
"""

from __future__ import annotations

from django.db import transaction

from lockstep.audit.record import record
from lockstep.audit.tags import MailTag
from lockstep.core.actor import Actor
from lockstep.mailgw.inbound.dsn import Bounce, read_bounce
from lockstep.mailgw.inbound.letter import parse, read_body
from lockstep.mailgw.inbound.store import settle
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, OutboxStatus

HOLDABLE = (OutboxStatus.SENT, OutboxStatus.QUEUED)


def settle_bounce(message: InboundMessage, outbox_id: int | None, *, subject: str) -> InboundStatus:
    """Read the bounce, hold its copy if it failed, and settle the bounce with what it said."""
    parsed = parse(message.raw_bytes())
    bounce = read_bounce(parsed, subject=subject, text=read_body(parsed).text)
    with transaction.atomic():
        message.route = "bounce"
        message.save(update_fields=["route"])
        copy = OutboundMessage.objects.filter(pk=outbox_id or 0).first()
        if copy is None:
            reason = "The copy this bounce names is gone."
            settle(message, status=InboundStatus.DISCARDED, rule="bounce", reason=reason)
            return InboundStatus.DISCARDED
        settle(message, status=InboundStatus.ACCEPTED, rule="bounce", reason=_apply(copy, bounce))
    return InboundStatus.ACCEPTED


def _apply(copy: OutboundMessage, bounce: Bounce) -> str:
    """Hold `copy` for a failure (unless a worker is sending it); returns what to record."""
    if not bounce.failed:
        return bounce.summary
    held = OutboundMessage.objects.filter(pk=copy.pk, status__in=HOLDABLE).update(
        status=OutboxStatus.HELD, last_error=f"bounced: {bounce.summary}"[:2000]
    )
    if held:
        record(
            MailTag.BOUNCED,
            actor=Actor.system("mail"),
            object_type="outbound",
            object_id=copy.pk,
            data={"to": copy.to_address, "case": copy.case_id, "report": bounce.summary[:500]},
        )
        return bounce.summary
    copy.refresh_from_db(fields=["status"])
    return f"{bounce.summary} (not held: the copy is {copy.get_status_display().lower()})"
