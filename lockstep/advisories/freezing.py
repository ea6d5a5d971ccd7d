"""Freezing a case into its advisory snapshot (`snapshot.AdvisorySnapshot`), reads only: the
words, the vulnerabilities with their CVE IDs, the timeline. Publication stores the result;
the case room's preview renders it without storing."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from lockstep.advisories.snapshot import AdvisorySnapshot, TimelineEntry, VulnSnapshot
from lockstep.cases.affected import parse_affected
from lockstep.cases.models import Case, EndReason, Vulnerability
from lockstep.cases.vulndata import parse_credits, parse_references
from lockstep.core.links import advisory_url, base_url
from lockstep.cve.models import CveId
from lockstep.intake.models import Report


def osv_id(public_id: str, position: int, count: int) -> str:
    """`x_` marks a local database in OSV ids; several vulnerabilities get -1, -2, …"""
    return f"x_{public_id}" if count == 1 else f"x_{public_id}-{position + 1}"


def _cve_ids(vulnerabilities: list[Vulnerability]) -> dict[int, str]:
    rows = CveId.objects.filter(vulnerability__in=vulnerabilities).exclude(state="REJECTED")
    return dict(rows.values_list("vulnerability_id", "cve_id"))


def _vuln(v: Vulnerability, *, oid: str, cve_id: str) -> VulnSnapshot:
    return VulnSnapshot(
        osv_id=oid,
        title=v.title,
        description=v.description,
        cve_id=cve_id,
        cwe=v.cwe,
        cvss3_vector=v.cvss3_vector,
        cvss3_score=float(v.cvss3_score) if v.cvss3_score is not None else None,
        cvss4_vector=v.cvss4_vector,
        cvss4_score=float(v.cvss4_score) if v.cvss4_score is not None else None,
        affected=parse_affected(v.affected),
        references=parse_references(v.references),
        credits=parse_credits(v.credits),
    )


def _timeline(case: Case, published: datetime, *, broken: bool) -> tuple[TimelineEntry, ...]:
    entries: list[TimelineEntry] = []
    report = Report.objects.filter(case=case).only("submitted_at").first()
    if report is not None:
        entries.append(TimelineEntry(report.submitted_at, f"Reported to {case.project.name}."))
    entries.append(TimelineEntry(case.created_at, "Coordination started."))
    if case.embargo_started_at and case.channel:
        entries.append(
            TimelineEntry(
                case.embargo_started_at, f"Shared under embargo with {case.channel.name}."
            )
        )
    if broken:
        entries.append(
            TimelineEntry(published, "The embargo ended early: the issue became public.")
        )
    entries.append(TimelineEntry(published, "Public disclosure."))
    return tuple(sorted(entries, key=lambda e: e.at))


def _fallback_details(case: Case, vulns: tuple[VulnSnapshot, ...]) -> str:
    parts = [f"{v.title}\n\n{v.description}".strip() for v in vulns]
    return "\n\n".join(parts) or case.title


def build_snapshot(case: Case, *, public_id: str, published: datetime) -> AdvisorySnapshot:
    vulnerabilities = list(case.vulnerabilities.order_by("id"))
    cves = _cve_ids(vulnerabilities)
    count = len(vulnerabilities)
    vulns = tuple(
        _vuln(v, oid=osv_id(public_id, n, count), cve_id=cves.get(v.pk, ""))
        for n, v in enumerate(vulnerabilities)
    )
    if not vulns:
        # Nobody recorded a vulnerability: the case itself describes the one issue, so the
        # advisory still appears at the date (with no package data to match on).
        text = case.advisory_details.strip() or case.advisory_summary.strip() or case.title
        vulns = (VulnSnapshot(osv_id=osv_id(public_id, 0, 1), title=case.title, description=text),)
    broken = case.end_reason == EndReason.BROKEN
    summary = case.advisory_summary.strip() or case.title
    return AdvisorySnapshot(
        id=public_id,
        title=case.title,
        summary=summary,
        details=case.advisory_details.strip() or _fallback_details(case, vulns),
        project_name=case.project.name,
        published=published,
        modified=published,
        url=advisory_url(public_id),
        publisher_name=settings.LOCKSTEP_PUBLISHER_NAME,
        publisher_url=base_url(),
        vulnerabilities=vulns,
        timeline=_timeline(case, published, broken=broken),
        embargo_broken=broken,
    )
