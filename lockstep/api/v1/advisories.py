"""Public advisories (no token needed) and the OSV-style query."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from lockstep.advisories.models import Advisory
from lockstep.advisories.queries import access_public_advisory, matching_osv, public_advisories
from lockstep.advisories.versions import parse_query
from lockstep.api.params import Offset
from lockstep.channels.archive import search
from lockstep.core import clock
from lockstep.core.links import absolute

router = Router(tags=["advisories"])
PAGE_MAX = 200


class AdvisoryOut(Schema):
    id: str
    title: str
    summary: str
    project: str
    published_at: datetime
    embargo_broken: bool
    aliases: list[str]
    url: str
    osv_url: str
    csaf_url: str


class AdvisoryDetailOut(AdvisoryOut):
    details: str
    osv: list[dict[str, Any]]
    cve_records: dict[str, Any]
    changelog: str
    announcement: str


class PackageIn(Schema):
    ecosystem: str | None = None
    name: str | None = None
    purl: str | None = None


class QueryIn(Schema):
    package: PackageIn
    version: str | None = None


class QueryOut(Schema):
    vulns: list[dict[str, Any]] = Field(description="OSV documents, as OSV's own API answers")


def _out(advisory: Advisory) -> dict[str, Any]:
    url = str(advisory.snapshot["url"])
    base = url.rstrip("/")
    return {
        "id": advisory.public_id,
        "title": advisory.title,
        "summary": advisory.summary,
        "project": advisory.project_name,
        "published_at": advisory.published_at,
        "embargo_broken": advisory.embargo_broken,
        "aliases": [a.alias for a in advisory.aliases.all()],
        "url": url,
        "osv_url": f"{base}.osv.json",
        "csaf_url": f"{base}.csaf.json",
    }


@router.get("/advisories", response=list[AdvisoryOut], auth=None, summary="Public advisories")
def advisories(request: HttpRequest, offset: Offset = 0, limit: int = 50) -> list[dict[str, Any]]:
    start = max(offset, 0)
    rows = public_advisories(clock.now()).prefetch_related("aliases")
    return [_out(a) for a in rows[start : start + min(max(limit, 1), PAGE_MAX)]]


@router.get("/advisories/{public_id}", response=AdvisoryDetailOut, auth=None)
def advisory(request: HttpRequest, public_id: str) -> dict[str, Any]:
    found = access_public_advisory(public_id, now=clock.now())
    return {
        **_out(found),
        "details": found.snapshot["details"],
        "osv": found.osv,
        "cve_records": found.cve_records,
        "changelog": found.changelog,
        "announcement": found.announcement,
    }


@router.post(
    "/query",
    response=QueryOut,
    auth=None,
    summary="Advisories affecting a package version (OSV's query API)",
)
def query(request: HttpRequest, data: QueryIn) -> dict[str, Any]:
    wanted = parse_query(data.dict(exclude_none=True))
    return {"vulns": matching_osv(wanted, now=clock.now())}


class ArchiveHitOut(Schema):
    kind: str = Field(description="post or advisory")
    title: str
    url: str
    published_at: datetime


class SearchOut(Schema):
    query: str
    results: list[ArchiveHitOut]
    more: bool


@router.get("/search", response=SearchOut, auth=None, summary="Search the public archive")
def archive_search(
    request: HttpRequest, q: str = "", offset: Offset = 0, limit: int = 20
) -> SearchOut:
    found = search(q, now=clock.now(), limit=min(max(limit, 1), PAGE_MAX), offset=max(offset, 0))
    return SearchOut(
        query=found.query,
        results=[
            ArchiveHitOut(
                kind=e.kind, title=e.title, url=absolute(e.url), published_at=e.published_at
            )
            for e in found.entries
        ],
        more=found.has_more,
    )
