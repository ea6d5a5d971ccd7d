"""Publication: the moment a case goes public. Exactly once, whatever calls it.

`publish_locked` runs inside the caller's transaction with the case row locked
(`select_for_update`): a second caller waits for the first, then sees `published_at` set and
does nothing. On PostgreSQL that row lock is what keeps two workers from publishing twice; on
SQLite every write transaction is serialized (BEGIN IMMEDIATE, see settings). The one-to-one
`Advisory.case` is the last guard: a second advisory for a case cannot be stored.

In order, publication: marks the case public; freezes and renders the advisory and stores it
with every export (`_store`); files it in the archive (`_index`); records it; hands the public
post to the reporter or posts it to the list; queues the CVE records; tells the participants;
and, after the commit, starts what follows (`tasks.after_publication`).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from lockstep.advisories.actions.announcement import (
    announce_export_problems,
    announce_publication,
    post_to_list,
)
from lockstep.advisories.actions.reporter_post import ask_reporter
from lockstep.advisories.freezing import build_snapshot
from lockstep.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage, AdvisorySequence
from lockstep.advisories.rendering import Rendered, render_all, search_text
from lockstep.advisories.snapshot import AdvisorySnapshot, to_json
from lockstep.advisories.versions import package_key
from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case, require_lead
from lockstep.cases.actions.posts import announce
from lockstep.cases.models import Case, EndReason
from lockstep.cases.queries import CaseAccess
from lockstep.channels.archive import index_entry
from lockstep.channels.models import ArchiveKind
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, LockstepError, ValidationError
from lockstep.core.links import advisory_path
from lockstep.core.txn import on_commit_enqueue
from lockstep.cve.actions.records import do_hold_cve_record
from lockstep.cve.models import CveId
from lockstep.intake.models import Report


def _next_public_id(year: int) -> str:
    sequence, _ = AdvisorySequence.objects.select_for_update().get_or_create(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"LOCKSTEP-{year}-{sequence.last:04d}"


def _store(case: Case, *, now: datetime) -> tuple[Advisory, AdvisorySnapshot, Rendered]:
    """Freeze the case, render every output, and store the advisory with all of it."""
    public_id = _next_public_id(now.year)
    snapshot = build_snapshot(case, public_id=public_id, published=now)
    out = render_all(snapshot, version=case.release_version or "the next release")
    advisory = Advisory.objects.create(
        case=case,
        public_id=public_id,
        title=snapshot.title[:300],
        summary=snapshot.summary,
        project_name=snapshot.project_name[:200],
        published_at=now,
        modified_at=now,
        embargo_broken=snapshot.embargo_broken,
        snapshot=to_json(snapshot),
        osv=out.osv,
        csaf=out.csaf,
        cve_records=out.cve_records,
        post_subject=out.subject[:300],
        post_body=out.body,
        changelog=out.changelog,
        announcement=out.announcement,
        search_text=search_text(snapshot, out.subject, out.body),
    )
    return advisory, snapshot, out


def _index(advisory: Advisory, snapshot: AdvisorySnapshot) -> None:
    """The archive's entry, and the rows per-CVE URLs and package queries look up."""
    index_entry(
        kind=ArchiveKind.ADVISORY,
        ref=advisory.public_id,
        title=f"{advisory.public_id}: {advisory.title}"[:300],
        url=advisory_path(advisory.public_id),
        text=advisory.search_text,
        published_at=advisory.published_at,
    )
    AdvisoryAlias.objects.bulk_create(
        AdvisoryAlias(advisory=advisory, alias=v.cve_id, position=n)
        for n, v in enumerate(snapshot.vulnerabilities)
        if v.cve_id
    )
    AdvisoryPackage.objects.bulk_create(
        AdvisoryPackage(advisory=advisory, purl=package_key(p.purl), position=n)
        for n, v in enumerate(snapshot.vulnerabilities)
        for p in v.affected
    )


def _hold_cve_records(case: Case, advisory: Advisory, *, now: datetime, actor: Actor) -> None:
    """Queue each CVE record for CVE Services (or the local CNA's books). A record that cannot
    be held must not stop the publication: the case's leads are told why, to fix it by hand."""
    rows = CveId.objects.filter(cve_id__in=list(advisory.cve_records), vulnerability__case=case)
    for row in rows:
        try:
            do_hold_cve_record(row, advisory.cve_records[row.cve_id], due_at=now, actor=actor)
        except (LockstepError, ValueError) as exc:
            announce(
                case,
                f"The CVE record of {row.cve_id} was not queued for publication: {exc}. "
                "Publish it by hand, or fix the vulnerability's data and hold it again.",
                actor=actor,
            )


def _late(case: Case, now: datetime) -> float | None:
    if case.disclosure_at is None:
        return None
    return round((now - case.disclosure_at).total_seconds(), 3)


def publish_locked(
    case: Case, *, now: datetime, end: EndReason, reason: str, actor: Actor
) -> Advisory:
    """Publish `case`, which the caller has locked and checked unpublished."""
    case.published_at, case.end_reason = now, end
    case.save(update_fields=["published_at", "end_reason"])
    advisory, snapshot, out = _store(case, now=now)
    announce_export_problems(case, out.problems, actor=actor)
    _index(advisory, snapshot)
    record_case(
        CaseTag.PUBLISHED,
        case,
        actor=actor,
        data={
            "advisory": advisory.public_id,
            "reason": end.value,
            "late_by_seconds": _late(case, now),
        },
    )
    report = Report.objects.filter(case=case).first()
    if case.reporter_posts and report is not None:
        ask_reporter(advisory, report, now=now)
    else:
        post_to_list(advisory, actor=actor)
    _hold_cve_records(case, advisory, now=now, actor=actor)
    announce_publication(case, advisory, reason=reason, actor=actor)
    on_commit_enqueue("lockstep.advisories.tasks.after_publication", advisory.pk)
    return advisory


def lock_case(case_id: int) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("project", "channel")
        .get(pk=case_id)
    )


@transaction.atomic
def do_publish_due(case_id: int, *, actor: Actor) -> Advisory | None:
    """Publish the case if its date has come and it is not public yet; else do nothing.

    The worker's task calls this at the date; calling it again, early, or from several
    workers at once is safe: only the first call at or after the date publishes.
    """
    case = lock_case(case_id)
    now = clock.now()
    if case.published_at is not None or case.disclosure_at is None or case.disclosure_at > now:
        return None
    if not case.is_embargoed:
        return None
    return publish_locked(case, now=now, end=EndReason.DATE, reason="", actor=actor)


@transaction.atomic
def do_publish_now(access: CaseAccess, *, actor: Actor) -> Advisory:
    """Publish a case that was never under embargo (direct release, public list) at once."""
    require_lead(access)
    case = lock_case(access.case.pk)
    if case.published_at is not None:
        raise Conflict("This case is public already.")
    if case.is_embargoed:
        msg = (
            "This case is under embargo: it is published at its disclosure date, or at once "
            "when a lead confirms that the embargo is broken."
        )
        raise ValidationError(msg)
    return publish_locked(case, now=clock.now(), end=EndReason.DATE, reason="", actor=actor)
