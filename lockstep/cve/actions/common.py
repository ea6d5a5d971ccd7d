"""Helpers and constants shared by the CVE actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from lockstep.audit.record import record as audit
from lockstep.audit.tags import CveTag
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import CaseAccess
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound
from lockstep.cve.models import CveId

PUBLISHER = Actor.system("cve-publisher")
# A worker's hold on a record while it pushes it; cvelib waits at most 60 s per request.
LEASE = timedelta(minutes=10)
MAX_ERROR = 2000
NO_SUCH_CVE = "No such CVE ID."
NO_BLOCK = (
    "This instance has no block of CVE IDs to reserve from. The operator sets "
    "LOCKSTEP_CVE_BLOCK (for example CVE-2026-50000..CVE-2026-50999), or "
    "LOCKSTEP_CVE_MODE=services to reserve through CVE Services."
)


def audit_cve(tag: CveTag, cve: CveId, *, actor: Actor, data: dict[str, Any] | None = None) -> None:
    """One event per change, on the case's timeline (or the ID's own, if it has no case)."""
    payload = {"cve_id": cve.cve_id, **(data or {})}
    if cve.case_id is not None:
        audit(tag, actor=actor, object_type="case", object_id=cve.case_id, data=payload)
    else:
        audit(tag, actor=actor, object_type="cve", object_id=cve.cve_id, data=payload)


def require_outside_transaction(what: str) -> None:
    """A call to CVE Services inside a transaction would hold locks for the length of a
    network round trip, and a rollback would forget what the service did. (Django's own
    `durable` check: a test case's wrapping transaction does not count.)"""
    blocks = transaction.get_connection().atomic_blocks
    if blocks and not getattr(blocks[-1], "_from_testcase", False):
        msg = f"{what} calls CVE Services: it must not run inside a transaction"
        raise RuntimeError(msg)


def check_vulnerability(access: CaseAccess, vulnerability: Vulnerability | None) -> None:
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


def in_case(access: CaseAccess, cve: CveId, *, lock: bool = False) -> CveId:
    rows = CveId.objects.select_for_update() if lock else CveId.objects.all()
    found = rows.filter(pk=cve.pk, case=access.case).first()
    if found is None:
        raise NotFound(NO_SUCH_CVE)
    return found


def check_not_claimed(cve: CveId, now: datetime) -> None:
    if cve.claimed_until is not None and cve.claimed_until > now:
        msg = f"{cve.cve_id}'s record is being sent to CVE Services right now; try again shortly."
        raise Conflict(msg)


# Reservation ---------------------------------------------------------------------------------
