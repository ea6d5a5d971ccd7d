"""Reserving CVE IDs (local block or CVE Services) and assigning them to vulnerabilities."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from lockstep.audit.tags import CveTag
from lockstep.cases.actions.common import require_lead
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import CaseAccess
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound
from lockstep.cve.actions.common import (
    NO_BLOCK,
    audit_cve,
    check_vulnerability,
    in_case,
    require_outside_transaction,
)
from lockstep.cve.client import (
    get_cve_authority,
)
from lockstep.cve.models import CveId, CveSource, CveState
from lockstep.cve.policy import (
    MAX_BLOCK_NUMBER,
    BlockRange,
    CveIdParts,
    allocation_order,
    first_free,
    parse_block,
    parse_cve_id,
)


def reserve_cve(
    access: CaseAccess, vulnerability: Vulnerability | None = None, *, actor: Actor
) -> CveId:
    """Service: reserve a new CVE ID for the case, assigned to `vulnerability` if given.

    Leads only. Local mode allocates from the block in one transaction; services mode asks
    CVE Services first, outside any transaction, then records the ID it got.
    """
    require_lead(access)
    check_vulnerability(access, vulnerability)  # before an ID is spent on a refusal
    authority = get_cve_authority()
    if authority is None:
        return do_reserve_cve_from_block(access, vulnerability, actor=actor)
    require_outside_transaction("reserve_cve")
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


_ALLOCATION_TRIES = 5
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
            check_vulnerability(access, vulnerability)  # it may have got an ID meanwhile
    msg = "Other reservations kept taking the same CVE ID; try again."
    raise Conflict(msg)


def _reserved(cve: CveId, actor: Actor) -> CveId:
    """Audit a newly reserved ID (from the block or from CVE Services) and return it."""
    audit_cve(
        CveTag.RESERVED,
        cve,
        actor=actor,
        data={"source": cve.source, "vulnerability": cve.vulnerability_id},
    )
    return cve


@transaction.atomic
def do_reserve_cve_from_block(
    access: CaseAccess, vulnerability: Vulnerability | None = None, *, actor: Actor
) -> CveId:
    """Take the next free ID of this instance's block (`LOCKSTEP_CVE_BLOCK`). Leads only."""
    require_lead(access)
    check_vulnerability(access, vulnerability)
    cve = _allocate(access, vulnerability, now=clock.now())
    return _reserved(cve, actor)


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
    return _reserved(cve, actor)


@transaction.atomic
def do_assign_cve(
    access: CaseAccess, cve: CveId, vulnerability: Vulnerability, *, actor: Actor
) -> CveId:
    """Give a reserved, unassigned ID of the case to one of its vulnerabilities. Leads only."""
    require_lead(access)
    row = in_case(access, cve, lock=True)
    check_vulnerability(access, vulnerability)
    if row.state != CveState.RESERVED:
        msg = f"{row.cve_id} is {row.state}: only a reserved ID can be assigned."
        raise Conflict(msg)
    if row.vulnerability_id is not None:
        msg = f"{row.cve_id} is already assigned to another vulnerability."
        raise Conflict(msg)
    row.vulnerability = vulnerability
    row.assigned_at = clock.now()
    row.save(update_fields=["vulnerability", "assigned_at"])
    audit_cve(CveTag.ASSIGNED, row, actor=actor, data={"vulnerability": vulnerability.pk})
    return row


# Holding and publishing records ----------------------------------------------------------------
