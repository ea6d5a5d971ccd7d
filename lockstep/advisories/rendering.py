"""Every output of one advisory snapshot: the public post, OSV, CSAF, the CVE records, the
changelog and the announcement. Pure over the snapshot and the instance's settings: the
publication stores what this returns, the case room's preview shows it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.conf import settings

from lockstep.advisories.formats.csaf import render_csaf
from lockstep.advisories.formats.cve5 import render_cve5
from lockstep.advisories.formats.osv import render_osv
from lockstep.advisories.formats.text import (
    render_announcement,
    render_changelog,
    render_public_post,
)
from lockstep.advisories.snapshot import AdvisorySnapshot
from lockstep.core.links import base_url

T = TypeVar("T")


def assigner_org_id() -> str:
    """The CNA's UUID (LOCKSTEP_CVE_ORG_ID). Unset (a local CNA that never talks to CVE
    Services), a stable UUID derived from this instance's address stands in so that the
    records are well-formed; an instance publishing to CVE Services must set its own."""
    configured: str = settings.LOCKSTEP_CVE_ORG_ID
    if configured:
        return configured
    digest = hashlib.sha256(base_url().encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))  # the schema wants a version-4 UUID


@dataclass(frozen=True)
class Rendered:
    """Every output of one snapshot. A renderer that refuses the data (ValueError) leaves its
    output empty and says why in `problems`: at the date the advisory must still appear."""

    subject: str
    body: str
    osv: list[dict[str, Any]]
    csaf: dict[str, Any]
    cve_records: dict[str, dict[str, Any]]
    changelog: str
    announcement: str
    problems: tuple[str, ...]


class _Attempts:
    """Runs each renderer; one that refuses the data gives `empty` and notes the problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, name: str, make: Callable[[], T], empty: T) -> T:
        try:
            return make()
        except ValueError as exc:
            self.problems.append(f"{name}: {exc}")
            return empty


def _cve_records(snapshot: AdvisorySnapshot, attempt: _Attempts) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    no_record: dict[str, Any] = {}
    for vuln in snapshot.vulnerabilities:
        if vuln.cve_id:
            record: dict[str, Any] = attempt(
                f"CVE record {vuln.cve_id}",
                partial(
                    render_cve5,
                    snapshot,
                    vuln,
                    assigner_org_id=assigner_org_id(),
                    assigner_short_name=settings.LOCKSTEP_CVE_ORG
                    or settings.LOCKSTEP_PUBLISHER_NAME,
                ),
                no_record,
            )
            if record:
                records[vuln.cve_id] = record
    return records


def render_all(snapshot: AdvisorySnapshot, *, version: str) -> Rendered:
    attempt = _Attempts()
    records = _cve_records(snapshot, attempt)
    subject, body = render_public_post(snapshot)
    no_osv: list[dict[str, Any]] = []
    no_csaf: dict[str, Any] = {}
    return Rendered(
        subject=subject,
        body=body,
        osv=attempt("OSV", partial(render_osv, snapshot), no_osv),
        csaf=attempt("CSAF", partial(render_csaf, snapshot), no_csaf),
        cve_records=records,
        changelog=render_changelog(snapshot, version=version),
        announcement=render_announcement(snapshot, version=version),
        problems=tuple(attempt.problems),
    )


def search_text(snapshot: AdvisorySnapshot, subject: str, body: str) -> str:
    """All the text a search of the archive should find the advisory by."""
    parts = [snapshot.id, snapshot.title, snapshot.project_name, *snapshot.cve_ids, subject, body]
    for vuln in snapshot.vulnerabilities:
        parts += [vuln.cwe, *(p.purl for p in vuln.affected)]
    return "\n".join(part for part in parts if part)
