"""CVE writes. `do_*` functions are the transactions; plain verbs are services that may call CVE
Services, always outside any transaction, and then record the outcome with a `do_*`.

Services (entry points):
- `reserve_cve`: a new ID for a case (and one of its vulnerabilities), from this instance's
  block (local mode) or from CVE Services.
- `publish_due_records`: pushes held records whose time has come (called by the task).
- `reject_cve`, `update_cve_record`: change a reserved or published ID, remotely first.

Actions: `do_reserve_cve_from_block`, `do_record_reserved_cve`, `do_assign_cve`,
`do_hold_cve_record`, `do_mark_cve_published`, `do_record_cve_publish_failure`,
`do_record_cve_rejected`, `do_record_cve_updated`. Each state change writes one audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from lockstep.audit.record import record as audit
from lockstep.audit.tags import CveTag
from lockstep.cases.actions.common import require_lead
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import CaseAccess
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound
from lockstep.cve.client import (
    CveAuthorityError,
    check_cve_record,
    get_cve_authority,
    services_authority,
)
from lockstep.cve.models import CveId, CveSource, CveState
from lockstep.cve.policy import (
    MAX_BLOCK_NUMBER,
    BlockRange,
    CveIdParts,
    allocation_order,
    check_record,
    check_reject_reason,
    check_transition,
    first_free,
    parse_block,
    parse_cve_id,
    retry_delay,
)

PUBLISHER = Actor.system("cve-publisher")
# A worker's hold on a record while it pushes it; cvelib waits at most 60 s per request.
LEASE = timedelta(minutes=10)
_ALLOCATION_TRIES = 5
_MAX_ERROR = 2000
NO_SUCH_CVE = "No such CVE ID."
NO_BLOCK = (
    "This instance has no block of CVE IDs to reserve from. The operator sets "
    "LOCKSTEP_CVE_BLOCK (for example CVE-2026-50000..CVE-2026-50999), or "
    "LOCKSTEP_CVE_MODE=services to reserve through CVE Services."
)


def _audit(tag: CveTag, cve: CveId, *, actor: Actor, data: dict[str, Any] | None = None) -> None:
    """One event per change, on the case's timeline (or the ID's own, if it has no case)."""
    payload = {"cve_id": cve.cve_id, **(data or {})}
    if cve.case_id is not None:
        audit(tag, actor=actor, object_type="case", object_id=cve.case_id, data=payload)
    else:
        audit(tag, actor=actor, object_type="cve", object_id=cve.cve_id, data=payload)


def _require_outside_transaction(what: str) -> None:
    """A call to CVE Services inside a transaction would hold locks for the length of a
    network round trip, and a rollback would forget what the service did. (Django's own
    `durable` check: a test case's wrapping transaction does not count.)"""
    blocks = transaction.get_connection().atomic_blocks
    if blocks and not getattr(blocks[-1], "_from_testcase", False):
        msg = f"{what} calls CVE Services: it must not run inside a transaction"
        raise RuntimeError(msg)


def _check_vulnerability(access: CaseAccess, vulnerability: Vulnerability | None) -> None:
    if vulnerability is None:
        return
    if vulnerability.case_id != access.case.pk:
        raise NotFound("No such vulnerability.")
    existing = CveId.objects.filter(vulnerability=vulnerability).first()
    if existing is not None:
        msg = (
            f"{vulnerability.title!r} already has {existing.cve_id}: one CVE ID per vulnerability."
        )
        raise Conflict(msg)


def _in_case(access: CaseAccess, cve: CveId, *, lock: bool = False) -> CveId:
    rows = CveId.objects.select_for_update() if lock else CveId.objects.all()
    found = rows.filter(pk=cve.pk, case=access.case).first()
    if found is None:
        raise NotFound(NO_SUCH_CVE)
    return found


def _check_not_claimed(cve: CveId, now: datetime) -> None:
    if cve.claimed_until is not None and cve.claimed_until > now:
        msg = f"{cve.cve_id}'s record is being sent to CVE Services right now; try again shortly."
        raise Conflict(msg)


# Reservation ---------------------------------------------------------------------------------


def reserve_cve(
    access: CaseAccess, vulnerability: Vulnerability | None = None, *, actor: Actor
) -> CveId:
    """Service: reserve a new CVE ID for the case, assigned to `vulnerability` if given.

    Leads only. Local mode allocates from the block in one transaction; services mode asks
    CVE Services first, outside any transaction, then records the ID it got.
    """
    require_lead(access)
    _check_vulnerability(access, vulnerability)  # before an ID is spent on a refusal
    authority = get_cve_authority()
    if authority is None:
        return do_reserve_cve_from_block(access, vulnerability, actor=actor)
    _require_outside_transaction("reserve_cve")
    cve_id = authority.reserve(clock.now().year)
    return do_record_reserved_cve(access, vulnerability, cve_id, actor=actor)


def _used_numbers(block: BlockRange) -> list[int]:
    numbers = CveId.objects.filter(
        year=block.year, number__gte=block.first, number__lte=block.last
    ).values_list("number", flat=True)
    return [number for number in numbers if number is not None]


def _next_free(ranges: tuple[BlockRange, ...], year: int) -> CveIdParts | None:
    for block in allocation_order(ranges, year):
        number = first_free(block, _used_numbers(block))
        if number is not None:
            return CveIdParts(block.year, number)
    return None


def _exhausted(ranges: tuple[BlockRange, ...]) -> Conflict:
    total = sum(block.size for block in ranges)
    listed = ", ".join(block.text for block in ranges)
    msg = (
        f"The block of CVE IDs is used up: all {total} IDs of {listed} are taken. The operator "
        "adds a new range to LOCKSTEP_CVE_BLOCK (comma-separated FIRST..LAST ranges)."
    )
    return Conflict(msg)


# Any fixed number: the key of the PostgreSQL advisory lock that queues local allocations.
_ALLOCATION_LOCK = 0x4C4B5354  # "LKST"


def _serialize_allocations() -> None:
    """On PostgreSQL, allocations queue on a transaction-scoped advisory lock: under heavy
    contention, retrying on the unique key alone can starve. SQLite already runs one write
    transaction at a time (BEGIN IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ALLOCATION_LOCK])


def _allocate(access: CaseAccess, vulnerability: Vulnerability | None, *, now: datetime) -> CveId:
    """The lowest free ID of the block. The unique (year, number) key settles a race with
    another process: the loser's savepoint rolls back and it takes the next free one."""
    ranges = parse_block(str(getattr(settings, "LOCKSTEP_CVE_BLOCK", "") or ""))
    if not ranges:
        raise Conflict(NO_BLOCK)
    _serialize_allocations()
    for _ in range(_ALLOCATION_TRIES):
        parts = _next_free(ranges, now.year)
        if parts is None:
            raise _exhausted(ranges)
        try:
            with transaction.atomic():
                return CveId.objects.create(
                    cve_id=parts.text,
                    year=parts.year,
                    number=parts.number,
                    source=CveSource.LOCAL,
                    case=access.case,
                    vulnerability=vulnerability,
                    reserved_at=now,
                    assigned_at=now if vulnerability is not None else None,
                )
        except IntegrityError:
            _check_vulnerability(access, vulnerability)  # it may have got an ID meanwhile
    msg = "Other reservations kept taking the same CVE ID; try again."
    raise Conflict(msg)


@transaction.atomic
def do_reserve_cve_from_block(
    access: CaseAccess, vulnerability: Vulnerability | None = None, *, actor: Actor
) -> CveId:
    """Take the next free ID of this instance's block (`LOCKSTEP_CVE_BLOCK`). Leads only."""
    require_lead(access)
    _check_vulnerability(access, vulnerability)
    cve = _allocate(access, vulnerability, now=clock.now())
    _audit(
        CveTag.RESERVED,
        cve,
        actor=actor,
        data={"source": cve.source, "vulnerability": cve.vulnerability_id},
    )
    return cve


@transaction.atomic
def do_record_reserved_cve(
    access: CaseAccess, vulnerability: Vulnerability | None, cve_id: str, *, actor: Actor
) -> CveId:
    """Record an ID CVE Services reserved for this case. If `vulnerability` got an ID in the
    meantime, the new one is kept for the case unassigned (to assign or reject): it is never
    forgotten, since CVE Services has already handed it out."""
    require_lead(access)
    if vulnerability is not None and vulnerability.case_id != access.case.pk:
        raise NotFound("No such vulnerability.")
    parts = parse_cve_id(cve_id)
    if CveId.objects.filter(cve_id=parts.text).exists():
        msg = f"{parts.text} is already recorded here."
        raise Conflict(msg)
    if vulnerability is not None and CveId.objects.filter(vulnerability=vulnerability).exists():
        vulnerability = None
    now = clock.now()
    cve = CveId.objects.create(
        cve_id=parts.text,
        year=parts.year,
        number=parts.number if parts.number <= MAX_BLOCK_NUMBER else None,
        source=CveSource.SERVICES,
        case=access.case,
        vulnerability=vulnerability,
        reserved_at=now,
        assigned_at=now if vulnerability is not None else None,
    )
    _audit(
        CveTag.RESERVED,
        cve,
        actor=actor,
        data={"source": cve.source, "vulnerability": cve.vulnerability_id},
    )
    return cve


@transaction.atomic
def do_assign_cve(
    access: CaseAccess, cve: CveId, vulnerability: Vulnerability, *, actor: Actor
) -> CveId:
    """Give a reserved, unassigned ID of the case to one of its vulnerabilities. Leads only."""
    require_lead(access)
    row = _in_case(access, cve, lock=True)
    _check_vulnerability(access, vulnerability)
    if row.state != CveState.RESERVED:
        msg = f"{row.cve_id} is {row.state}: only a reserved ID can be assigned."
        raise Conflict(msg)
    if row.vulnerability_id is not None:
        msg = f"{row.cve_id} is already assigned to another vulnerability."
        raise Conflict(msg)
    row.vulnerability = vulnerability
    row.assigned_at = clock.now()
    row.save(update_fields=["vulnerability", "assigned_at"])
    _audit(CveTag.ASSIGNED, row, actor=actor, data={"vulnerability": vulnerability.pk})
    return row


# Holding and publishing records ----------------------------------------------------------------


def _schedule_publication(due_at: datetime) -> None:
    from lockstep.cve.tasks import publish_cve_records  # noqa: PLC0415 - tasks import this module

    publish_cve_records.using(run_after=due_at).enqueue()


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
    _check_not_claimed(row, clock.now())
    replaced = row.record is not None
    row.record = record
    row.publish_due_at = due
    row.next_attempt_at = due
    row.attempts = 0
    row.last_error = ""
    row.save(
        update_fields=["record", "publish_due_at", "next_attempt_at", "attempts", "last_error"]
    )
    _audit(CveTag.RECORD_HELD, row, actor=actor, data={"due_at": due, "replaced": replaced})
    transaction.on_commit(partial(_schedule_publication, due))
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
        _require_outside_transaction("publish_due_records")
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
    _audit(
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
    row.last_error = error.message[:_MAX_ERROR]
    row.next_attempt_at = now + retry_delay(row.attempts) if error.retryable else None
    row.claimed_until = None
    row.save(update_fields=["attempts", "last_error", "next_attempt_at", "claimed_until"])
    _audit(
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


def reject_cve(access: CaseAccess, cve: CveId, *, reason: str, actor: Actor) -> CveId:
    """Service: reject a reserved or published ID (at CVE Services first, if it came from
    there), then record it. Leads only. A rejected ID stays rejected."""
    require_lead(access)
    row = _in_case(access, cve)
    text = check_reject_reason(reason)
    check_transition(row.cve_id, row.state, CveState.REJECTED)
    _check_not_claimed(row, clock.now())
    if row.source == CveSource.SERVICES:
        _require_outside_transaction("reject_cve")
        services_authority().reject(row.cve_id, text)
    return do_record_cve_rejected(access, row, reason=text, actor=actor)


@transaction.atomic
def do_record_cve_rejected(access: CaseAccess, cve: CveId, *, reason: str, actor: Actor) -> CveId:
    """Record that the ID is rejected (for a CVE Services ID: after `reject_cve` told them)."""
    require_lead(access)
    row = _in_case(access, cve, lock=True)
    text = check_reject_reason(reason)
    before = row.state
    check_transition(row.cve_id, before, CveState.REJECTED)
    row.state = CveState.REJECTED
    row.rejected_at = clock.now()
    row.reject_reason = text
    row.next_attempt_at = None
    row.claimed_until = None
    row.save(
        update_fields=["state", "rejected_at", "reject_reason", "next_attempt_at", "claimed_until"]
    )
    _audit(CveTag.REJECTED, row, actor=actor, data={"reason": text, "was": before})
    return row


def _check_published(cve: CveId) -> None:
    if cve.state == CveState.PUBLISHED:
        return
    msg = f"{cve.cve_id} is {cve.state}: only a published record can be updated."
    if cve.state == CveState.RESERVED:
        msg += " Hold the new record instead: it goes out at its date."
    raise Conflict(msg)


def update_cve_record(
    access: CaseAccess, cve: CveId, record: dict[str, Any], *, actor: Actor
) -> CveId:
    """Service: replace the record of a published ID (at CVE Services first, if it came from
    there), then record it. Leads only."""
    require_lead(access)
    row = _in_case(access, cve)
    _check_published(row)
    check_record(record, due_at=clock.now())
    check_cve_record(record)
    if row.source == CveSource.SERVICES:
        _require_outside_transaction("update_cve_record")
        services_authority().update(row.cve_id, record)
    return do_record_cve_updated(access, row, record, actor=actor)


@transaction.atomic
def do_record_cve_updated(
    access: CaseAccess, cve: CveId, record: dict[str, Any], *, actor: Actor
) -> CveId:
    """Record the new record of a published ID (after `update_cve_record` sent it)."""
    require_lead(access)
    row = _in_case(access, cve, lock=True)
    _check_published(row)
    row.record = record
    row.save(update_fields=["record"])
    _audit(CveTag.RECORD_UPDATED, row, actor=actor)
    return row
