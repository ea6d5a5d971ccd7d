"""The frozen content of an advisory at publication: what every format is rendered from.

Built once by `advisories.freezing.build_snapshot` when the case is published, stored as JSON
on the Advisory row (`to_json` / `from_json` round-trip exactly), and rendered by the pure
functions in `advisories.formats`. Nothing here reads the database or the clock. Snapshots
stored before ranges were OSV events hold `{"introduced", "fixed"|"last_affected"}` ranges:
`parse_affected` reads those as the same one-interval ECOSYSTEM ranges, so they are not
rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lockstep.cases.affected import AffectedPackage, affected_to_json, parse_affected
from lockstep.cases.vulndata import (
    Credit,
    Reference,
    credits_to_json,
    parse_credits,
    parse_references,
    references_to_json,
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # aware UTC
    text: str


@dataclass(frozen=True)
class VulnSnapshot:
    """One vulnerability of the advisory; `osv_id` is its id in OSV output (e.g. x_LOCKSTEP-…)."""

    osv_id: str
    title: str
    description: str
    cve_id: str = ""  # "CVE-2026-12345", or "" when none was assigned
    cwe: str = ""  # "CWE-787" or ""
    cvss3_vector: str = ""
    cvss3_score: float | None = None
    cvss4_vector: str = ""
    cvss4_score: float | None = None
    affected: tuple[AffectedPackage, ...] = ()
    references: tuple[Reference, ...] = ()
    credits: tuple[Credit, ...] = ()


@dataclass(frozen=True)
class AdvisorySnapshot:
    id: str  # "LOCKSTEP-2026-0001": this instance's advisory id
    title: str
    summary: str  # one paragraph
    details: str  # the full details, plain text (may be long)
    project_name: str
    published: datetime  # aware UTC: the moment of publication (the CRD, or when the embargo ended)
    modified: datetime  # aware UTC
    url: str  # the advisory page, absolute
    publisher_name: str  # who publishes (the instance's operator), for CSAF/CVE metadata
    publisher_url: str  # the instance's base URL, absolute (CSAF publisher namespace)
    vulnerabilities: tuple[VulnSnapshot, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    embargo_broken: bool = False  # published early because the embargo ended (leak, public fix)
    extra: dict[str, str] = field(default_factory=dict)  # reserved for later fields

    @property
    def cve_ids(self) -> tuple[str, ...]:
        return tuple(v.cve_id for v in self.vulnerabilities if v.cve_id)


def _when(value: datetime) -> str:
    return value.isoformat()


def to_json(snapshot: AdvisorySnapshot) -> dict[str, Any]:
    """Plain JSON-able data that `from_json` turns back into an equal snapshot."""
    return {
        "id": snapshot.id,
        "title": snapshot.title,
        "summary": snapshot.summary,
        "details": snapshot.details,
        "project_name": snapshot.project_name,
        "published": _when(snapshot.published),
        "modified": _when(snapshot.modified),
        "url": snapshot.url,
        "publisher_name": snapshot.publisher_name,
        "publisher_url": snapshot.publisher_url,
        "embargo_broken": snapshot.embargo_broken,
        "extra": dict(snapshot.extra),
        "timeline": [{"at": _when(e.at), "text": e.text} for e in snapshot.timeline],
        "vulnerabilities": [
            {
                "osv_id": v.osv_id,
                "title": v.title,
                "description": v.description,
                "cve_id": v.cve_id,
                "cwe": v.cwe,
                "cvss3_vector": v.cvss3_vector,
                "cvss3_score": v.cvss3_score,
                "cvss4_vector": v.cvss4_vector,
                "cvss4_score": v.cvss4_score,
                "affected": affected_to_json(v.affected),
                "references": references_to_json(v.references),
                "credits": credits_to_json(v.credits),
            }
            for v in snapshot.vulnerabilities
        ],
    }


def from_json(data: dict[str, Any]) -> AdvisorySnapshot:
    return AdvisorySnapshot(
        id=data["id"],
        title=data["title"],
        summary=data["summary"],
        details=data["details"],
        project_name=data["project_name"],
        published=datetime.fromisoformat(data["published"]),
        modified=datetime.fromisoformat(data["modified"]),
        url=data["url"],
        publisher_name=data["publisher_name"],
        publisher_url=data["publisher_url"],
        embargo_broken=bool(data.get("embargo_broken", False)),
        extra=dict(data.get("extra", {})),
        timeline=tuple(
            TimelineEntry(datetime.fromisoformat(e["at"]), e["text"]) for e in data["timeline"]
        ),
        vulnerabilities=tuple(
            VulnSnapshot(
                osv_id=v["osv_id"],
                title=v["title"],
                description=v["description"],
                cve_id=v["cve_id"],
                cwe=v["cwe"],
                cvss3_vector=v["cvss3_vector"],
                cvss3_score=v["cvss3_score"],
                cvss4_vector=v["cvss4_vector"],
                cvss4_score=v["cvss4_score"],
                affected=parse_affected(v["affected"]),
                references=parse_references(v["references"]),
                credits=parse_credits(v["credits"]),
            )
            for v in data["vulnerabilities"]
        ),
    )
