"""Holding CVE records until the disclosure date, and publishing them when due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db import transaction
from django.db.models import Q

from lockstep.audit.tags import CveTag
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.txn import on_commit_enqueue
from lockstep.cve.actions.common import (
    LEASE,
    MAX_ERROR,
    PUBLISHER,
    audit_cve,
    check_not_claimed,
    require_outside_transaction,
)
from lockstep.cve.client import (
    CveAuthorityError,
    check_cve_record,
    services_authority,
)
from lockstep.cve.models import CveId, CveSource, CveState
from lockstep.cve.policy import (
    check_record,
    check_transition,
    retry_delay,
)


@transaction.atomic
def do_hold_cve_record(
    cve: CveId, record: dict[str, Any], *, due_at: datetime, actor: Actor
) -> CveId:
    """Keep the CVE JSON 5 record of a reserved ID, to publish at `due_at` (the disclosure
    date; a past time means "at the next run"). Holding again replaces the record, the date,
    and any earlier failure. The caller has checked the actor's right to publish."""
    due = clock.require_aware(due_at, name="due_at")
    check_record(record, due_at=due)
    check_cve_record(record)
    row = CveId.objects.select_for_update().get(pk=cve.pk)
    check_transition(row.cve_id, row.state, CveState.PUBLISHED)
    check_not_claimed(row, clock.now())
    replaced = row.record is not None
    row.record = record
    row.publish_due_at = due
    row.next_attempt_at = due
    row.attempts = 0
    row.last_error = ""
    row.save(
        update_fields=["record", "publish_due_at", "next_attempt_at", "attempts", "last_error"]
    )
    audit_cve(CveTag.RECORD_HELD, row, actor=actor, data={"due_at": due, "replaced": replaced})
    on_commit_enqueue("lockstep.cve.tasks.publish_cve_records", run_after=due)
    return row


@dataclass
class PublishSummary:
    published: int = 0
    retrying: int = 0  # failed, to be tried again after a delay
    stopped: int = 0  # refused in a way retrying cannot cure: a person must look
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.published + self.retrying + self.stopped

    def as_dict(self) -> dict[str, int]:
        return {"published": self.published, "retrying": self.retrying, "stopped": self.stopped}


def _due(now: datetime) -> Q:
    return (
        Q(state=CveState.RESERVED, record__isnull=False)
        & Q(publish_due_at__lte=now, next_attempt_at__lte=now)
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )


def claim_due_records(now: datetime, *, batch: int) -> list[CveId]:
    """Take up to `batch` due records for this worker. Other workers skip locked rows (SKIP
    LOCKED on PostgreSQL; SQLite runs one writer at a time) and then see the lease."""
    with transaction.atomic():
        rows = list(
            CveId.objects.select_for_update(skip_locked=True)
            .filter(_due(now))
            .order_by("publish_due_at", "id")[:batch]
        )
        CveId.objects.filter(pk__in=[row.pk for row in rows]).update(claimed_until=now + LEASE)
    return rows


def _push(cve: CveId) -> None:
    """Publish remotely if the ID came from CVE Services; a local ID is ours to publish."""
    if cve.source == CveSource.SERVICES:
        require_outside_transaction("publish_due_records")
        services_authority().publish(cve.cve_id, cast("dict[str, Any]", cve.record))


def publish_due_records(
    now: datetime, *, batch: int = 50, actor: Actor = PUBLISHER
) -> PublishSummary:
    """Service: publish one batch of held records whose time has come (never earlier).

    Each push happens outside any transaction, then its outcome is recorded in its own:
    PUBLISHED, or a failure retried after 1 min, 5 min, 30 min, 2 h… (network, 5xx), or a
    refusal (4xx, an invalid record) kept with its reason until the record is held again.
    """
    summary = PublishSummary()
    for cve in claim_due_records(now, batch=batch):
        try:
            _push(cve)
        except CveAuthorityError as exc:
            do_record_cve_publish_failure(cve, exc, now=now, actor=actor)
            summary.errors.append(f"{cve.cve_id}: {exc.message}")
            if exc.retryable:
                summary.retrying += 1
            else:
                summary.stopped += 1
        else:
            summary.published += int(do_mark_cve_published(cve, now=now, actor=actor))
    return summary


def _release_if_not_held(row: CveId) -> bool:
    """The ID changed while its record was being pushed (it was rejected): drop the claim."""
    if row.held:
        return False
    row.claimed_until = None
    row.save(update_fields=["claimed_until"])
    return True


@transaction.atomic
def do_mark_cve_published(cve: CveId, *, now: datetime, actor: Actor) -> bool:
    """The held record is out (or, for a local ID, is now public): PUBLISHED."""
    row = CveId.objects.select_for_update().get(pk=cve.pk)
    if _release_if_not_held(row):
        return False
    row.state = CveState.PUBLISHED
    row.published_at = now
    row.attempts += 1
    row.last_error = ""
    row.next_attempt_at = None
    row.claimed_until = None
    row.save(
        update_fields=[
            "state",
            "published_at",
            "attempts",
            "last_error",
            "next_attempt_at",
            "claimed_until",
        ]
    )
    audit_cve(
        CveTag.PUBLISHED,
        row,
        actor=actor,
        data={"source": row.source, "due_at": row.publish_due_at, "attempts": row.attempts},
    )
    return True


@transaction.atomic
def do_record_cve_publish_failure(
    cve: CveId, error: CveAuthorityError, *, now: datetime, actor: Actor
) -> bool:
    """A push failed: try again later if that may help, otherwise keep the reason for a person."""
    row = CveId.objects.select_for_update().get(pk=cve.pk)
    if _release_if_not_held(row):
        return False
    row.attempts += 1
    row.last_error = error.message[:MAX_ERROR]
    row.next_attempt_at = now + retry_delay(row.attempts) if error.retryable else None
    row.claimed_until = None
    row.save(update_fields=["attempts", "last_error", "next_attempt_at", "claimed_until"])
    audit_cve(
        CveTag.PUBLISH_FAILED,
        row,
        actor=actor,
        data={
            "error": row.last_error,
            "retryable": error.retryable,
            "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at,
        },
    )
    return True


# Rejecting and updating ----------------------------------------------------------------------
