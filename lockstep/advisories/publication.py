"""Publication: the moment a case goes public. Exactly once, whatever calls it.

`publish_locked` runs inside the caller's transaction with the case row locked
(`select_for_update`): a second caller waits for the first, then sees `published_at` set and
does nothing. On PostgreSQL that row lock is what keeps two workers from publishing twice; on
SQLite every write transaction is serialized (BEGIN IMMEDIATE, see settings). The one-to-one
`Advisory.case` is the last guard: a second advisory for a case cannot be stored.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from lockstep.accounts.models import User
from lockstep.advisories.formats.csaf import render_csaf
from lockstep.advisories.formats.cve5 import render_cve5
from lockstep.advisories.formats.osv import render_osv
from lockstep.advisories.formats.text import (
    render_announcement,
    render_changelog,
    render_public_post,
)
from lockstep.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage, AdvisorySequence
from lockstep.advisories.snapshot import AdvisorySnapshot, to_json
from lockstep.advisories.snapshots import build_snapshot
from lockstep.advisories.versions import package_key
from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case, require_lead
from lockstep.cases.actions.embargo import announce, lock_pending_breach
from lockstep.cases.models import Case, EmbargoBreach, EndReason, RequestState
from lockstep.cases.queries import CaseAccess
from lockstep.channels.archive import index_entry
from lockstep.channels.models import ArchiveKind, Channel, ChannelKind, PublicPost
from lockstep.channels.public import do_post_public
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, LockstepError, ValidationError
from lockstep.cve.actions.records import do_hold_cve_record
from lockstep.cve.models import CveId
from lockstep.intake.models import MessageKind, Report, ReportMessage
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out

T = TypeVar("T")

EXPLOITS_NOTE = (
    "Exploits and proofs of concept shared in this case must be made public within 7 days "
    "of today (the list's policy)."
)


def _next_public_id(year: int) -> str:
    sequence, _ = AdvisorySequence.objects.select_for_update().get_or_create(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"LOCKSTEP-{year}-{sequence.last:04d}"


def _search_text(snapshot: AdvisorySnapshot, subject: str, body: str) -> str:
    parts = [snapshot.id, snapshot.title, snapshot.project_name, *snapshot.cve_ids, subject, body]
    for vuln in snapshot.vulnerabilities:
        parts += [vuln.cwe, *(p.purl for p in vuln.affected)]
    return "\n".join(part for part in parts if part)


def assigner_org_id() -> str:
    """The CNA's UUID (LOCKSTEP_CVE_ORG_ID). Unset (a local CNA that never talks to CVE
    Services), a stable UUID derived from this instance's address stands in so that the
    records are well-formed; an instance publishing to CVE Services must set its own."""
    configured: str = settings.LOCKSTEP_CVE_ORG_ID
    if configured:
        return configured
    digest = hashlib.sha256(settings.LOCKSTEP_BASE_URL.encode()).digest()
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


def render_all(snapshot: AdvisorySnapshot, *, version: str) -> Rendered:
    problems: list[str] = []

    def attempt(name: str, make: Callable[[], T], empty: T) -> T:
        try:
            return make()
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            return empty

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
    subject, body = render_public_post(snapshot)
    no_osv: list[dict[str, Any]] = []
    return Rendered(
        subject=subject,
        body=body,
        osv=attempt("OSV", partial(render_osv, snapshot), no_osv),
        csaf=attempt("CSAF", partial(render_csaf, snapshot), no_record),
        cve_records=records,
        changelog=render_changelog(snapshot, version=version),
        announcement=render_announcement(snapshot, version=version),
        problems=tuple(problems),
    )


def public_channel() -> Channel | None:
    """Where advisories are posted: the configured public list, or the only one there is."""
    lists = Channel.objects.filter(kind=ChannelKind.PUBLIC)
    if settings.LOCKSTEP_PUBLIC_CHANNEL:
        return lists.filter(slug=settings.LOCKSTEP_PUBLIC_CHANNEL).first()
    found = list(lists[:2])
    return found[0] if len(found) == 1 else None


def _post_to_list(advisory: Advisory, *, actor: Actor) -> PublicPost | None:
    channel = public_channel()
    if channel is None:
        return None
    # Lockstep itself posts (the actor who triggered it is in the case's audit trail).
    post = do_post_public(
        channel,
        subject=advisory.post_subject,
        body=advisory.post_body,
        actor=Actor.system("publication") if not actor.is_system else actor,
    )
    advisory.public_post = post
    advisory.save(update_fields=["public_post"])
    return post


def _ask_reporter(advisory: Advisory, report: Report, *, now: datetime) -> None:
    """The reporter is to post the details: give them the text, and a deadline after which
    Lockstep posts it for them."""
    grace = timedelta(minutes=settings.LOCKSTEP_REPORTER_POST_GRACE_MINUTES)
    advisory.reporter_post_due_at = now + grace
    advisory.save(update_fields=["reporter_post_due_at"])
    text = (
        f"The embargo is over and the advisory is public: {advisory.snapshot['url']}\n\n"
        "Please post the full details to the public list now (the text below is ready to "
        "send), then confirm on your tracking page. If you have not confirmed by "
        f"{advisory.reporter_post_due_at:%Y-%m-%d %H:%M} UTC, Lockstep posts it for you.\n\n"
        f"Subject: {advisory.post_subject}\n\n{advisory.post_body}"
    )
    ReportMessage.objects.create(report=report, kind=MessageKind.SYSTEM, body=text, created_at=now)
    if report.reporter_email:
        spec = MailSpec(
            subject=f"Please post: {advisory.post_subject}", body=text, confidential=False
        )
        fan_out(spec, [Recipient(report.reporter_email)])


def _announce_publication(case: Case, advisory: Advisory, *, reason: str, actor: Actor) -> None:
    why = (
        "The embargo is over: the disclosure date has come."
        if case.end_reason == EndReason.DATE
        else f"The embargo is over early: {reason}"
    )
    announce(
        case,
        f"{why}\n\nThe advisory is public: {advisory.snapshot['url']}\n"
        "Publish your fixed packages and advisories now.\n\n" + EXPLOITS_NOTE,
        actor=actor,
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


def publish_locked(
    case: Case, *, now: datetime, end: EndReason, reason: str, actor: Actor
) -> Advisory:
    """Publish `case`, which the caller has locked and checked unpublished."""
    case.published_at, case.end_reason = now, end
    case.save(update_fields=["published_at", "end_reason"])
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
        search_text=_search_text(snapshot, out.subject, out.body),
    )
    if out.problems:
        announce(
            case,
            "Some machine-readable exports could not be built; the advisory and the post are "
            "public. Fix the data and tell the operator:\n- " + "\n- ".join(out.problems),
            actor=actor,
        )
    index_entry(
        kind=ArchiveKind.ADVISORY,
        ref=public_id,
        title=f"{public_id}: {advisory.title}"[:300],
        url=f"/advisories/{public_id}/",
        text=advisory.search_text,
        published_at=now,
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
    record_case(
        CaseTag.PUBLISHED,
        case,
        actor=actor,
        data={"advisory": public_id, "reason": end.value, "late_by_seconds": _late(case, now)},
    )
    report = Report.objects.filter(case=case).first()
    if case.reporter_posts and report is not None:
        _ask_reporter(advisory, report, now=now)
    else:
        _post_to_list(advisory, actor=actor)
    _hold_cve_records(case, advisory, now=now, actor=actor)
    _announce_publication(case, advisory, reason=reason, actor=actor)
    transaction.on_commit(partial(_after_publication, advisory.pk))
    return advisory


def _late(case: Case, now: datetime) -> float | None:
    if case.disclosure_at is None:
        return None
    return round((now - case.disclosure_at).total_seconds(), 3)


def _after_publication(advisory_id: int) -> None:
    from lockstep.advisories.tasks import after_publication  # noqa: PLC0415 - tasks import us

    after_publication.enqueue(advisory_id)


def _lock(case_id: int) -> Case:
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
    case = _lock(case_id)
    now = clock.now()
    if case.published_at is not None or case.disclosure_at is None or case.disclosure_at > now:
        return None
    if not case.is_embargoed:
        return None
    return publish_locked(case, now=now, end=EndReason.DATE, reason="", actor=actor)


@transaction.atomic
def do_confirm_breach(
    access: CaseAccess, breach_id: int, user: User, *, note: str, actor: Actor
) -> Advisory:
    """A lead confirms the leak or public fix: the embargo ends now and publication starts."""
    case, breach = lock_pending_breach(access, breach_id)
    now = clock.now()
    breach.state = RequestState.CONFIRMED
    breach.decided_by, breach.decided_at, breach.decision_note = user, now, note.strip()[:5000]
    breach.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    record_case(CaseTag.BREACH_CONFIRMED, case, actor=actor, data={"breach": breach.pk})
    return publish_locked(
        case, now=now, end=EndReason.BROKEN, reason=_evidence(breach), actor=actor
    )


def _evidence(breach: EmbargoBreach) -> str:
    seen = breach.evidence_url or breach.evidence_text
    note = f" ({breach.decision_note})" if breach.decision_note else ""
    return f"the issue is already public{note}. Evidence: {seen}"


@transaction.atomic
def do_publish_now(access: CaseAccess, *, actor: Actor) -> Advisory:
    """Publish a case that was never under embargo (direct release, public list) at once."""
    require_lead(access)
    case = _lock(access.case.pk)
    if case.published_at is not None:
        raise Conflict("This case is public already.")
    if case.is_embargoed:
        msg = (
            "This case is under embargo: it is published at its disclosure date, or at once "
            "when a lead confirms that the embargo is broken."
        )
        raise ValidationError(msg)
    return publish_locked(case, now=clock.now(), end=EndReason.DATE, reason="", actor=actor)


@transaction.atomic
def do_post_for_silent_reporter(advisory_id: int, *, actor: Actor) -> PublicPost | None:
    """The reporter was to post the details and has not confirmed in time: Lockstep posts."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory_id)
    due = advisory.reporter_post_due_at
    if advisory.public_post_id or advisory.reporter_posted_url or due is None or due > clock.now():
        return None
    post = _post_to_list(advisory, actor=actor)
    case = Case.objects.get(pk=advisory.case_id)
    announce(
        case, "The reporter did not post the details in time; Lockstep posted them.", actor=actor
    )
    return post


@transaction.atomic
def do_reporter_posted(report: Report, *, url: str, actor: Actor) -> Advisory:
    """The reporter confirms: they posted the details at `url`, or (no url) Lockstep should
    post them now in their name."""
    advisory = (
        Advisory.objects.select_for_update().filter(case_id=report.case_id).first()
        if report.case_id is not None
        else None
    )
    if advisory is None or advisory.reporter_post_due_at is None:
        raise Conflict("There is nothing for you to post yet.")
    if advisory.public_post_id or advisory.reporter_posted_url:
        raise Conflict("The details are posted already.")
    link = url.strip()
    if link and not link.startswith(("http://", "https://")):
        raise ValidationError("Give the http(s) link to your post.", field="url")
    if link:
        advisory.reporter_posted_url = link[:2048]
        advisory.save(update_fields=["reporter_posted_url"])
    else:
        _post_to_list(advisory, actor=actor)
    record_case(CaseTag.REPORTER_POSTED, advisory.case, actor=actor, data={"url": link or None})
    return advisory
