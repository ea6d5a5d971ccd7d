"""Vulnerabilities inside a case: checked CVSS, CWE, affected ranges, references, credits."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case, require_lead
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import CaseAccess
from lockstep.cases.vulndata import (
    affected_to_json,
    credits_to_json,
    normalise_cwe,
    parse_affected,
    parse_credits,
    parse_cvss,
    parse_references,
    references_to_json,
)
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound, ValidationError


@dataclass(frozen=True)
class VulnerabilityInput:
    title: str
    description: str = ""
    cwe: str = ""
    cvss3: str = ""
    cvss4: str = ""
    affected: Any = field(default_factory=list)
    references: Any = field(default_factory=list)
    credits: Any = field(default_factory=list)


def _checked(data: VulnerabilityInput) -> dict[str, Any]:
    """The fields to store, every one validated; the first problem raises ValidationError."""
    title = data.title.strip()
    if not title:
        raise ValidationError("A vulnerability needs a title.", field="title")
    values: dict[str, Any] = {
        "title": title[:200],
        "description": data.description.strip(),
        "cwe": normalise_cwe(data.cwe) if data.cwe.strip() else "",
        "cvss3_vector": "",
        "cvss3_score": None,
        "cvss4_vector": "",
        "cvss4_score": None,
        "affected": affected_to_json(parse_affected(data.affected)),
        "references": references_to_json(parse_references(data.references)),
        "credits": credits_to_json(parse_credits(data.credits)),
    }
    for raw, version, prefix in ((data.cvss3, "3.1", "cvss3"), (data.cvss4, "4.0", "cvss4")):
        if not raw.strip():
            continue
        severity = parse_cvss(raw, field=prefix)
        if severity.version != version:
            msg = f"Give a CVSS {version} vector here (this one is CVSS {severity.version})."
            raise ValidationError(msg, field=prefix)
        values[f"{prefix}_vector"] = severity.vector
        values[f"{prefix}_score"] = Decimal(str(severity.base_score))
    return values


@transaction.atomic
def do_add_vulnerability(
    access: CaseAccess, data: VulnerabilityInput, *, actor: Actor
) -> Vulnerability:
    require_lead(access)
    values = _checked(data)
    now = clock.now()
    vulnerability = Vulnerability.objects.create(
        case=access.case, created_at=now, updated_at=now, **values
    )
    record_case(
        CaseTag.VULNERABILITY_ADDED,
        access.case,
        actor=actor,
        data={"vulnerability": vulnerability.pk, "title": vulnerability.title},
    )
    return vulnerability


@transaction.atomic
def do_change_vulnerability(
    access: CaseAccess, vulnerability_id: int, data: VulnerabilityInput, *, actor: Actor
) -> Vulnerability:
    require_lead(access)
    vulnerability = (
        Vulnerability.objects.select_for_update()
        .filter(case=access.case, pk=vulnerability_id)
        .first()
    )
    if vulnerability is None:
        raise NotFound("No such vulnerability.")
    values = _checked(data)
    changed = sorted(k for k, v in values.items() if getattr(vulnerability, k) != v)
    for name, value in values.items():
        setattr(vulnerability, name, value)
    vulnerability.updated_at = clock.now()
    vulnerability.save(update_fields=[*values, "updated_at"])
    record_case(
        CaseTag.VULNERABILITY_CHANGED,
        access.case,
        actor=actor,
        data={"vulnerability": vulnerability.pk, "changed": changed},
    )
    return vulnerability
