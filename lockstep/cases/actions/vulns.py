"""Vulnerabilities inside a case: checked CVSS, CWE, affected ranges, references, credits.

Only the case's leads (the upstream team, the coordinator) add, change or delete them. Every
mistake in the input is reported at once (InvalidFields, each error with its field path);
nothing is stored until all is well. Changing and deleting stay possible after publication,
as adding does, but do not change the published advisory: it was frozen when it went out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case, require_lead
from lockstep.cases.affected import affected_to_json
from lockstep.cases.affected_policy import check_affected
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import CaseAccess
from lockstep.cases.vulndata import (
    credits_to_json,
    normalise_cwe,
    parse_credits,
    parse_cvss,
    parse_references,
    references_to_json,
)
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, ErrorList, NotFound, ValidationError
from lockstep.projects.queries import package_purls

MAX_TITLE = 200
# CveState.REJECTED: cve sits above cases, so its state is named by value here.
_CVE_REJECTED = "rejected"


@dataclass(frozen=True)
class VulnerabilityInput:
    title: str
    description: str = ""
    cwe: str = ""
    cvss3: str = ""
    cvss4: str = ""
    # OSV-style (cases.affected); an entry may say "outside_project": true (affected_policy).
    affected: Any = field(default_factory=list)
    references: Any = field(default_factory=list)
    credits: Any = field(default_factory=list)


def _title(data: VulnerabilityInput, errors: ErrorList) -> str:
    title = data.title.strip()
    if not title:
        errors.add("title", "A vulnerability needs a title.")
    elif len(title) > MAX_TITLE:
        errors.add("title", f"At most {MAX_TITLE} characters.")
    return title


def _severities(data: VulnerabilityInput, errors: ErrorList) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for raw, version, prefix in ((data.cvss3, "3.1", "cvss3"), (data.cvss4, "4.0", "cvss4")):
        values[f"{prefix}_vector"], values[f"{prefix}_score"] = "", None
        if not raw.strip():
            continue
        try:
            severity = parse_cvss(raw, field=prefix)
        except ValidationError as exc:
            errors.take(exc)
            continue
        if severity.version != version:
            msg = f"Give a CVSS {version} vector here (this one is CVSS {severity.version})."
            errors.add(prefix, msg)
            continue
        values[f"{prefix}_vector"] = severity.vector
        values[f"{prefix}_score"] = Decimal(str(severity.base_score))
    return values


def _lists(data: VulnerabilityInput, errors: ErrorList) -> dict[str, Any]:
    values: dict[str, Any] = {}
    try:
        values["references"] = references_to_json(parse_references(data.references))
    except ValidationError as exc:
        errors.take(exc)
    try:
        values["credits"] = credits_to_json(parse_credits(data.credits))
    except ValidationError as exc:
        errors.take(exc)
    return values


def _checked(access: CaseAccess, data: VulnerabilityInput) -> dict[str, Any]:
    """The fields to store, every one validated; InvalidFields names every problem at once."""
    errors = ErrorList()
    values: dict[str, Any] = {
        "title": _title(data, errors),
        "description": data.description.strip(),
    }
    values["cwe"] = ""
    if data.cwe.strip():
        try:
            values["cwe"] = normalise_cwe(data.cwe)
        except ValidationError as exc:
            errors.take(exc)
    values.update(_severities(data, errors))
    project = access.case.project
    affected = check_affected(
        data.affected,
        project_name=project.name,
        project_purls=package_purls(project.pk),
        errors=errors,
    )
    values["affected"] = affected_to_json(affected)
    values.update(_lists(data, errors))
    errors.raise_if_any()
    return values


def _locked(access: CaseAccess, vulnerability_id: int) -> Vulnerability:
    vulnerability = (
        Vulnerability.objects.select_for_update()
        .filter(case=access.case, pk=vulnerability_id)
        .first()
    )
    if vulnerability is None:
        raise NotFound("No such vulnerability.")
    return vulnerability


@transaction.atomic
def do_add_vulnerability(
    access: CaseAccess, data: VulnerabilityInput, *, actor: Actor
) -> Vulnerability:
    require_lead(access)
    values = _checked(access, data)
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
    vulnerability = _locked(access, vulnerability_id)
    values = _checked(access, data)
    changed = sorted(k for k, v in values.items() if getattr(vulnerability, k) != v)
    for name, value in values.items():
        setattr(vulnerability, name, value)
    vulnerability.updated_at = clock.now()
    vulnerability.save(update_fields=[*values, "updated_at"])
    record_case(
        CaseTag.VULNERABILITY_CHANGED,
        access.case,
        actor=actor,
        data={"vulnerability": vulnerability.pk, "title": vulnerability.title, "changed": changed},
    )
    return vulnerability


@transaction.atomic
def do_delete_vulnerability(access: CaseAccess, vulnerability_id: int, *, actor: Actor) -> None:
    """Deletes a vulnerability with the statuses given for it; the audit event keeps what it
    said. Refused while it holds a CVE ID that is not rejected: reject that first."""
    require_lead(access)
    vulnerability = _locked(access, vulnerability_id)
    cve_id = (
        Vulnerability.objects.filter(pk=vulnerability.pk, cve__isnull=False)
        .exclude(cve__state=_CVE_REJECTED)
        .values_list("cve__cve_id", flat=True)
        .first()
    )
    if cve_id:
        msg = f"“{vulnerability.title}” holds {cve_id}: reject that CVE ID first."
        raise Conflict(msg)
    statuses = vulnerability.statuses.count()
    kept = {
        name: getattr(vulnerability, name)
        for name in ("title", "description", "cwe", "cvss3_vector", "cvss4_vector")
    }
    kept.update(
        affected=vulnerability.affected,
        references=vulnerability.references,
        credits=vulnerability.credits,
    )
    vulnerability.delete()
    record_case(
        CaseTag.VULNERABILITY_DELETED,
        access.case,
        actor=actor,
        data={"vulnerability": vulnerability_id, "statuses_removed": statuses, **kept},
    )
