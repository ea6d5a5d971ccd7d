"""A coordinator decides about copies that did not go: send a held one again, or drop it; send
a waiting one now rather than at its next attempt (all audited). Copies whose recipient may no
longer read them (they left the case, their organisation or Lockstep) are cancelled."""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from lockstep.audit.record import record
from lockstep.audit.tags import MailTag
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict
from lockstep.core.txn import on_commit_enqueue
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.outbox import DELIVERY_TASK


def _locked_held(row: OutboundMessage) -> OutboundMessage:
    locked = OutboundMessage.objects.select_for_update().get(pk=row.pk)
    if locked.status != OutboxStatus.HELD:
        msg = f"This copy is {locked.get_status_display().lower()}, not held."
        raise Conflict(msg)
    return locked


@transaction.atomic
def do_retry_held(row: OutboundMessage, *, actor: Actor) -> OutboundMessage:
    """Queue a held copy again with a fresh set of attempts."""
    locked = _locked_held(row)
    locked.status, locked.attempts, locked.next_attempt_at = OutboxStatus.QUEUED, 0, clock.now()
    locked.first_failed_at = None  # a new run of attempts
    locked.save(update_fields=["status", "attempts", "next_attempt_at", "first_failed_at"])
    record(
        MailTag.RETRIED,
        actor=actor,
        object_type="outbound",
        object_id=locked.pk,
        data={"to": locked.to_address, "case": locked.case_id, "last_error": locked.last_error},
    )
    on_commit_enqueue(DELIVERY_TASK)
    return locked


@transaction.atomic
def do_retry_now(row: OutboundMessage, *, actor: Actor) -> OutboundMessage:
    """Attempt a waiting (queued) copy now instead of at its next attempt: after the relay
    came back, nobody should wait out the backoff. Its attempts so far still count."""
    locked = OutboundMessage.objects.select_for_update().get(pk=row.pk)
    if locked.status != OutboxStatus.QUEUED:
        msg = f"This copy is {locked.get_status_display().lower()}, not waiting."
        raise Conflict(msg)
    due_at, locked.next_attempt_at = locked.next_attempt_at, clock.now()
    locked.save(update_fields=["next_attempt_at"])
    record(
        MailTag.RETRIED_NOW,
        actor=actor,
        object_type="outbound",
        object_id=locked.pk,
        data={
            "to": locked.to_address,
            "case": locked.case_id,
            "attempts": locked.attempts,
            "was_due_at": due_at.isoformat(),
            "last_error": locked.last_error,
        },
    )
    on_commit_enqueue(DELIVERY_TASK)
    return locked


@transaction.atomic
def do_drop_held(row: OutboundMessage, *, actor: Actor) -> OutboundMessage:
    locked = _locked_held(row)
    locked.status = OutboxStatus.DROPPED
    locked.save(update_fields=["status"])
    record(
        MailTag.DROPPED,
        actor=actor,
        object_type="outbound",
        object_id=locked.pk,
        data={"to": locked.to_address, "case": locked.case_id, "last_error": locked.last_error},
    )
    return locked


CANCELLABLE = (OutboxStatus.QUEUED, OutboxStatus.HELD)


def cancel_case_copies(case_id: int, addresses: Collection[str], *, reason: str) -> list[int]:
    """Drop a case's copies to `addresses` that are still waiting (queued or held) and return
    their ids; composed into the caller's transaction, which audits why. A copy already handed
    to the relay is gone; one being sent at this moment may still arrive."""
    if not addresses:
        return []
    rows = OutboundMessage.objects.select_for_update().filter(
        case_id=case_id, status__in=CANCELLABLE, to_address__in=list(addresses)
    )
    ids = list(rows.values_list("pk", flat=True))
    OutboundMessage.objects.filter(pk__in=ids).update(
        status=OutboxStatus.DROPPED, last_error=f"cancelled: {reason}"[:2000]
    )
    return ids


def cancel_copies_to(
    address: str, *, case_ids: Collection[int] | None, reason: str, actor: Actor
) -> list[int]:
    """Drop the copies to `address` that are still waiting (queued or held): those of
    `case_ids`, or every one of them with `case_ids=None`. Composed into the caller's
    transaction; one audit event names them all (none if there were none)."""
    rows = OutboundMessage.objects.select_for_update().filter(
        to_address__iexact=address, status__in=CANCELLABLE
    )
    if case_ids is not None:
        rows = rows.filter(case_id__in=list(case_ids))
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return []
    OutboundMessage.objects.filter(pk__in=ids).update(
        status=OutboxStatus.DROPPED, last_error=f"cancelled: {reason}"[:2000]
    )
    record(
        MailTag.CANCELLED,
        actor=actor,
        object_type="outbound",
        object_id=ids[0],
        data={"to": address, "copies": ids, "reason": reason},
    )
    return ids


def cancel_copy(row_id: int, *, reason: str) -> bool:
    """Drop one copy if it is still waiting; composed into the caller's transaction, which
    audits why (say, the invitation it carries was revoked)."""
    dropped = (
        OutboundMessage.objects.select_for_update()
        .filter(pk=row_id, status__in=CANCELLABLE)
        .update(status=OutboxStatus.DROPPED, last_error=f"cancelled: {reason}"[:2000])
    )
    return dropped == 1
