"""Rejecting CVE IDs and updating published records (CVE Services first, if from there)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from lockstep.audit.tags import CveTag
from lockstep.cases.actions.common import require_lead
from lockstep.cases.queries import CaseAccess
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict
from lockstep.cve.actions.common import (
    audit_cve,
    check_not_claimed,
    in_case,
    require_outside_transaction,
)
from lockstep.cve.client import (
    check_cve_record,
    services_authority,
)
from lockstep.cve.models import CveId, CveSource, CveState
from lockstep.cve.policy import (
    check_record,
    check_reject_reason,
    check_transition,
)


def reject_cve(access: CaseAccess, cve: CveId, *, reason: str, actor: Actor) -> CveId:
    """Service: reject a reserved or published ID (at CVE Services first, if it came from
    there), then record it. Leads only. A rejected ID stays rejected."""
    require_lead(access)
    row = in_case(access, cve)
    text = check_reject_reason(reason)
    check_transition(row.cve_id, row.state, CveState.REJECTED)
    check_not_claimed(row, clock.now())
    if row.source == CveSource.SERVICES:
        require_outside_transaction("reject_cve")
        services_authority().reject(row.cve_id, text)
    return do_record_cve_rejected(access, row, reason=text, actor=actor)


@transaction.atomic
def do_record_cve_rejected(access: CaseAccess, cve: CveId, *, reason: str, actor: Actor) -> CveId:
    """Record that the ID is rejected (for a CVE Services ID: after `reject_cve` told them)."""
    require_lead(access)
    row = in_case(access, cve, lock=True)
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
    audit_cve(CveTag.REJECTED, row, actor=actor, data={"reason": text, "was": before})
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
    row = in_case(access, cve)
    _check_published(row)
    check_record(record, due_at=clock.now())
    check_cve_record(record)
    if row.source == CveSource.SERVICES:
        require_outside_transaction("update_cve_record")
        services_authority().update(row.cve_id, record)
    return do_record_cve_updated(access, row, record, actor=actor)


@transaction.atomic
def do_record_cve_updated(
    access: CaseAccess, cve: CveId, record: dict[str, Any], *, actor: Actor
) -> CveId:
    """Record the new record of a published ID (after `update_cve_record` sent it)."""
    require_lead(access)
    row = in_case(access, cve, lock=True)
    _check_published(row)
    row.record = record
    row.save(update_fields=["record"])
    audit_cve(CveTag.RECORD_UPDATED, row, actor=actor)
    return row
