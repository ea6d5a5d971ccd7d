"""Appending to and verifying the audit chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from lockstep.audit.chain import GENESIS, EventFields, compute_hash, normalise_data
from lockstep.audit.models import AuditChainHead, AuditEvent
from lockstep.audit.tags import AuditTag
from lockstep.core import clock
from lockstep.core.actor import Actor


def record(  # noqa: PLR0913 - every field of an event is a separate, named fact
    tag: AuditTag,
    *,
    actor: Actor,
    object_type: str,
    object_id: int | str,
    org_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction (the action's)."""
    if not transaction.get_connection().in_atomic_block:
        msg = "audit.record() must run inside the transaction of the change it records"
        raise RuntimeError(msg)
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    fields = EventFields(
        seq=head.last_seq + 1,
        at=clock.now(),
        actor_kind=actor.kind.value,
        actor_label=actor.label,
        actor_user_id=actor.user_id,
        tag=tag.value,
        object_type=object_type,
        object_id=str(object_id),
        org_id=org_id,
        data=normalise_data(data or {}),
    )
    digest = compute_hash(fields, head.last_hash or GENESIS)
    event = AuditEvent.objects.create(
        seq=fields.seq,
        at=fields.at,
        actor_kind=fields.actor_kind,
        actor_label=fields.actor_label,
        actor_user_id=fields.actor_user_id,
        tag=fields.tag,
        object_type=fields.object_type,
        object_id=fields.object_id,
        org_id=fields.org_id,
        data=fields.data,
        prev_hash=head.last_hash or GENESIS,
        hash=digest,
    )
    head.last_seq = fields.seq
    head.last_hash = digest
    head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(*, limit_problems: int = 20) -> VerifyReport:
    """Recompute the whole chain; report edited, inserted, reordered or deleted rows."""
    report = VerifyReport()
    expected_prev = GENESIS
    expected_seq = 1
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        report.checked += 1
        if event.seq != expected_seq:
            report.problems.append(
                f"event #{expected_seq} is missing (next row is #{event.seq}): rows were deleted"
            )
        if event.prev_hash != expected_prev:
            report.problems.append(
                f"event #{event.seq} does not follow the row before it: rows were removed, "
                "inserted or reordered"
            )
        fields = EventFields(
            seq=event.seq,
            at=event.at,
            actor_kind=event.actor_kind,
            actor_label=event.actor_label,
            actor_user_id=event.actor_user_id,
            tag=event.tag,
            object_type=event.object_type,
            object_id=event.object_id,
            org_id=event.org_id,
            data=event.data,
        )
        if compute_hash(fields, event.prev_hash) != event.hash:
            report.problems.append(f"event #{event.seq} ({event.tag}) was changed after writing")
        expected_prev = event.hash
        expected_seq = event.seq + 1
        if len(report.problems) >= limit_problems:
            return report
    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None or head.last_seq != last_seq or (last_seq and head.last_hash != expected_prev):
        claimed = head.last_seq if head else "nothing"
        report.problems.append(
            f"the log ends at #{last_seq} but its head records #{claimed}: "
            "the newest rows were deleted or the head was altered"
        )
    return report
