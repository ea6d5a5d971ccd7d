"""Public reads of advisories. Every one filters on `published_at <= now`: nothing shows
before its time, whichever path asks (page, API, feed, search, export, OSV query)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from lockstep.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage
from lockstep.advisories.snapshot import AdvisorySnapshot, from_json
from lockstep.advisories.versions import PackageQuery, affects
from lockstep.channels.models import Channel, ChannelKind
from lockstep.core.errors import NotFound
from lockstep.intake.models import Report

NOT_FOUND = "No such advisory."


def public_advisories(now: datetime) -> QuerySet[Advisory]:
    return Advisory.objects.filter(published_at__lte=now)


def access_public_advisory(public_id: str, *, now: datetime) -> Advisory:
    if "\x00" in public_id:  # no advisory has one, and PostgreSQL refuses to compare it
        raise NotFound(NOT_FOUND)
    found = public_advisories(now).filter(public_id=public_id.upper()).first()
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def access_public_alias(alias: str, *, now: datetime) -> tuple[Advisory, int]:
    """The advisory naming `alias` (a CVE ID), and which of its vulnerabilities it is."""
    row = (
        AdvisoryAlias.objects.filter(alias=alias.upper(), advisory__published_at__lte=now)
        .select_related("advisory")
        .order_by("-advisory__published_at")
        .first()
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row.advisory, row.position


def snapshot_of(advisory: Advisory) -> AdvisorySnapshot:
    return from_json(advisory.snapshot)


def matching_osv(query: PackageQuery, *, now: datetime) -> list[dict[str, Any]]:
    """OSV documents of the public advisories whose affected ranges include the version.

    Candidates come from the package index (exact canonical purl), then each vulnerability's
    ranges are compared with the ecosystem's own version ordering.
    """
    candidates = (
        AdvisoryPackage.objects.filter(purl=query.purl, advisory__published_at__lte=now)
        .values_list("advisory_id", flat=True)
        .distinct()
    )
    found: list[dict[str, Any]] = []
    rows = Advisory.objects.filter(pk__in=list(candidates)).only("published_at", "snapshot", "osv")
    for advisory in rows.order_by("-published_at"):
        snapshot = snapshot_of(advisory)
        for position, vuln in enumerate(snapshot.vulnerabilities):
            if position < len(advisory.osv) and affects(query, vuln.affected):
                found.append(advisory.osv[position])
    return found


def reporter_duty(report: Report) -> Advisory | None:
    """The advisory the reporter is asked to post to the public list, while still open."""
    if report.case_id is None:
        return None
    return Advisory.objects.filter(
        case_id=report.case_id,
        reporter_post_due_at__isnull=False,
        public_post__isnull=True,
        reporter_posted_url="",
    ).first()


def public_channel() -> Channel | None:
    """Where advisories are posted: the configured public list, or the only one there is."""
    lists = Channel.objects.filter(kind=ChannelKind.PUBLIC)
    if settings.LOCKSTEP_PUBLIC_CHANNEL:
        return lists.filter(slug=settings.LOCKSTEP_PUBLIC_CHANNEL).first()
    found = list(lists[:2])
    return found[0] if len(found) == 1 else None
