"""Public pages of advisories: the page, its exports, per-CVE URLs, search and Atom feeds.

No login. Every read goes through `advisories.queries` / `channels.archive`, which show only
what is public at this moment.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_GET

from lockstep.advisories.models import Advisory
from lockstep.advisories.queries import (
    access_public_advisory,
    access_public_alias,
    public_advisories,
    snapshot_of,
)
from lockstep.channels.archive import search, visible
from lockstep.channels.models import ArchiveEntry, ArchiveKind
from lockstep.core import clock
from lockstep.core.links import absolute
from lockstep.web.errors import domain_errors
from lockstep.web.paging import page_number

PAGE = 50
FEED_SIZE = 50
SEARCH_PAGE = 20


def _json(data: Any, *, filename: str) -> HttpResponse:  # noqa: ANN401 - any JSON value
    body = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _unavailable(what: str) -> HttpResponse:
    """The export could not be built from this advisory's data (the case's leads were told)."""
    return JsonResponse({"detail": f"No {what} document for this advisory."}, status=404)


@require_GET
def advisory_list(request: HttpRequest) -> HttpResponse:
    page = page_number(request, per_page=PAGE)
    rows = list(public_advisories(clock.now())[(page - 1) * PAGE : page * PAGE + 1])
    return render(
        request,
        "web/advisories/list.html",
        {"advisories": rows[:PAGE], "page": page, "more": len(rows) > PAGE},
    )


@require_GET
@domain_errors
def advisory_page(request: HttpRequest, public_id: str) -> HttpResponse:
    advisory = access_public_advisory(public_id, now=clock.now())
    context = {"advisory": advisory, "snapshot": snapshot_of(advisory)}
    return render(request, "web/advisories/detail.html", context)


def _export(advisory: Advisory, fmt: str) -> Any:  # noqa: ANN401 - a JSON document or None
    """The document of one format, or None when this advisory has none."""
    if fmt == "osv":
        osv = advisory.osv
        return (osv[0] if len(osv) == 1 else {"vulns": osv}) if osv else None
    if fmt == "csaf":
        return advisory.csaf or None
    records = list(advisory.cve_records.values())
    return (records[0] if len(records) == 1 else records) if records else None


@require_GET
@domain_errors
def advisory_export(_request: HttpRequest, public_id: str, fmt: str) -> HttpResponse:
    advisory = access_public_advisory(public_id, now=clock.now())
    if fmt == "txt":
        text = f"Subject: {advisory.post_subject}\n\n{advisory.post_body}"
        return HttpResponse(text, content_type="text/plain; charset=utf-8")
    document = _export(advisory, fmt)
    if document is None:
        return _unavailable({"osv": "OSV", "csaf": "CSAF", "cve": "CVE"}[fmt])
    return _json(document, filename=f"{advisory.public_id}.{fmt}.json")


@require_GET
@domain_errors
def cve_page(_request: HttpRequest, cve_id: str) -> HttpResponse:
    advisory, _ = access_public_alias(cve_id, now=clock.now())
    return redirect("web:advisory", public_id=advisory.public_id)


@require_GET
@domain_errors
def cve_export(_request: HttpRequest, cve_id: str, fmt: str | None = None) -> HttpResponse:
    advisory, position = access_public_alias(cve_id, now=clock.now())
    name = cve_id.upper()
    if fmt == "osv":
        if position >= len(advisory.osv):
            return _unavailable("OSV")
        return _json(advisory.osv[position], filename=f"{name}.osv.json")
    record = advisory.cve_records.get(name)
    if record is None:
        return _unavailable("CVE")
    return _json(record, filename=f"{name}.json")


@require_GET
def archive_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    page = page_number(request, per_page=SEARCH_PAGE)
    found = search(query, now=clock.now(), limit=SEARCH_PAGE, offset=(page - 1) * SEARCH_PAGE)
    return render(
        request,
        "web/advisories/search.html",
        {
            "query": found.query,
            "entries": found.entries,
            "page": page,
            "more": found.has_more,
            "total": found.total,
            "total_capped": found.total_capped,
        },
    )


def _feed(request: HttpRequest, entries: list[ArchiveEntry], *, title: str) -> HttpResponse:
    feed = Atom1Feed(
        title=title,
        link=absolute("/"),
        description=title,
        feed_url=absolute(request.path),
        language="en",
    )
    for entry in entries:
        feed.add_item(
            title=entry.title,
            link=absolute(entry.url),
            description=entry.text[:2000],
            unique_id=absolute(entry.url),
            pubdate=entry.published_at,
            updateddate=entry.published_at,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


@require_GET
def archive_feed(request: HttpRequest) -> HttpResponse:
    entries = list(visible(clock.now())[:FEED_SIZE])
    return _feed(request, entries, title=f"{settings.LOCKSTEP_PUBLISHER_NAME}: public archive")


@require_GET
def advisory_feed(request: HttpRequest) -> HttpResponse:
    entries = list(visible(clock.now(), ArchiveKind.ADVISORY)[:FEED_SIZE])
    return _feed(request, entries, title=f"{settings.LOCKSTEP_PUBLISHER_NAME}: advisories")
