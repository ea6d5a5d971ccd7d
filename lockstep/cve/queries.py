"""Reads of CVE IDs, always through a case the caller may see, or scoped to the cases they lead."""

from __future__ import annotations

from datetime import datetime

from lockstep.cases.models import Case, Participant, Vulnerability
from lockstep.cases.policy import LEADING_ROLES
from lockstep.cases.queries import CaseAccess
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound
from lockstep.cve.models import CveId, CveState
from lockstep.cve.policy import STALE_AFTER, is_cve_id
from lockstep.orgs.queries import org_ids_of

NOT_FOUND = "No such CVE ID."


def cves_of_case(case: Case) -> list[CveId]:
    """The case's CVE IDs in ID order, each with its vulnerability (one query)."""
    return list(
        CveId.objects.filter(case=case)
        .select_related("vulnerability")
        .order_by("year", "number", "cve_id")
    )


def cve_of_vulnerability(vulnerability: Vulnerability) -> CveId | None:
    return CveId.objects.filter(vulnerability=vulnerability).first()


def access_cve(access: CaseAccess, cve_id: str) -> CveId:
    """A CVE ID of the case the caller may see; NotFound for any other (or a malformed one)."""
    text = cve_id.strip().upper()
    if not is_cve_id(text):
        raise NotFound(NOT_FOUND)
    found = (
        CveId.objects.filter(case=access.case, cve_id=text).select_related("vulnerability").first()
    )
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def stale_reserved_for(actor: Actor, now: datetime) -> list[CveId]:
    """IDs still RESERVED more than 72 hours after their case went public (the CNA rule is to
    publish within 72 hours), in the cases the actor leads; operators see every case's."""
    rows = CveId.objects.filter(
        state=CveState.RESERVED, case__published_at__lt=now - STALE_AFTER
    ).select_related("case", "vulnerability")
    if not actor.is_privileged:
        led = Participant.objects.filter(
            org_id__in=org_ids_of(actor), role__in=LEADING_ROLES
        ).values("case_id")
        rows = rows.filter(case_id__in=led)
    return list(rows.order_by("case__published_at", "cve_id"))
