"""The only write path for reports: submission, the conversation, and triage decisions."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from lockstep.audit.record import record
from lockstep.audit.tags import ReportTag
from lockstep.cases.actions.opening import RouteChoice, do_open_case
from lockstep.cases.actions.posts import add_post, store_attachments
from lockstep.cases.models import Case
from lockstep.channels.models import Channel
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, ValidationError
from lockstep.core.uploads import UploadedFile, check_uploads, stored_file_fields
from lockstep.embargo.routing import Route
from lockstep.intake.models import (
    MessageKind,
    Report,
    ReportAttachment,
    ReportMessage,
    ReportStatus,
)
from lockstep.intake.queries import hash_token, route_advice_for
from lockstep.projects.models import Project

MESSAGE_MAX = 20_000


@dataclass(frozen=True)
class ReportInput:
    title: str
    description: str
    affected_versions: str = ""
    proof_of_concept: str = ""
    already_public: bool = False
    public_url: str = ""
    proposed_disclosure_at: datetime | None = None
    credit_as: str = ""
    reporter_name: str = ""
    reporter_email: str = ""


@dataclass(frozen=True)
class Submitted:
    report: Report
    token: str  # shown once to the reporter; only its hash is stored


def _record(tag: ReportTag, report: Report, *, actor: Actor, data: dict[str, object]) -> None:
    record(tag, actor=actor, object_type="report", object_id=report.pk, data=data)


def _notice(report: Report, body: str) -> None:
    ReportMessage.objects.create(
        report=report, kind=MessageKind.SYSTEM, body=body, created_at=clock.now()
    )


def _check(data: ReportInput) -> None:
    if not data.title.strip():
        raise ValidationError("Give the report a short title.", field="title")
    if not data.description.strip():
        raise ValidationError("Describe the vulnerability.", field="description")
    if data.already_public and not data.public_url.strip():
        msg = "Say where the issue is already public (a URL), so maintainers can judge it."
        raise ValidationError(msg, field="public_url")
    when = data.proposed_disclosure_at
    if when is not None and (when.tzinfo is None or when <= clock.now()):
        msg = "A proposed disclosure date must be in the future, with its time zone."
        raise ValidationError(msg, field="proposed_disclosure_at")


@transaction.atomic
def do_submit_report(
    project: Project,
    data: ReportInput,
    *,
    files: Sequence[UploadedFile] = (),
    submitted_by: int | None = None,
    actor: Actor,
) -> Submitted:
    """Store a report (and its files) before anything else happens; acknowledge it."""
    _check(data)
    check_uploads(files)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    report = Report.objects.create(
        project=project,
        title=data.title.strip()[:200],
        description=data.description.strip(),
        affected_versions=data.affected_versions.strip()[:500],
        proof_of_concept=data.proof_of_concept.strip(),
        already_public=data.already_public,
        public_url=data.public_url.strip(),
        proposed_disclosure_at=data.proposed_disclosure_at,
        credit_as=data.credit_as.strip()[:200],
        reporter_name=data.reporter_name.strip()[:200],
        reporter_email=data.reporter_email.strip(),
        submitted_by_id=submitted_by,
        token_hash=hash_token(token),
        submitted_at=now,
    )
    ReportAttachment.objects.bulk_create(
        ReportAttachment(report=report, **stored_file_fields(upload)) for upload in files
    )
    _notice(
        report,
        f"Thank you. Your report was received by the {project.name} maintainers on "
        f"{now:%Y-%m-%d %H:%M} UTC. They will answer here.",
    )
    _record(
        ReportTag.SUBMITTED,
        report,
        actor=actor,
        data={"project": project.slug, "already_public": data.already_public, "files": len(files)},
    )
    return Submitted(report=report, token=token)


@transaction.atomic
def do_add_report_message(
    report: Report, *, body: str, from_reporter: bool, actor: Actor
) -> ReportMessage:
    text = body.strip()
    if not text:
        raise ValidationError("Write something first.", field="body")
    if len(text) > MESSAGE_MAX:
        msg = f"A message may be at most {MESSAGE_MAX} characters."
        raise ValidationError(msg, field="body")
    message = ReportMessage.objects.create(
        report=report,
        kind=MessageKind.REPORTER if from_reporter else MessageKind.MAINTAINER,
        author_id=actor.user_id,
        body=text,
        created_at=clock.now(),
    )
    _record(ReportTag.MESSAGE_ADDED, report, actor=actor, data={"kind": message.kind})
    return message


def _decide(report: Report, status: ReportStatus, reason: str) -> Report:
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.NEW:
        msg = f"This report was already triaged ({locked.get_status_display().lower()})."
        raise Conflict(msg)
    locked.status = status
    locked.decision_reason = reason
    locked.decided_at = clock.now()
    locked.save(update_fields=["status", "decision_reason", "decided_at"])
    return locked


@transaction.atomic
def do_decline_report(report: Report, *, reason: str, actor: Actor) -> Report:
    if not reason.strip():
        msg = "Say why: the reason is sent to the reporter."
        raise ValidationError(msg, field="reason")
    declined = _decide(report, ReportStatus.DECLINED, reason.strip())
    _notice(declined, f"The maintainers declined this report. Their reason: {reason.strip()}")
    _record(ReportTag.DECLINED, declined, actor=actor, data={"reason": reason.strip()})
    return declined


@transaction.atomic
def do_mark_duplicate(report: Report, *, original: Report, actor: Actor) -> Report:
    if original.pk == report.pk or original.project_id != report.project_id:
        msg = "Pick another report of the same project as the original."
        raise ValidationError(msg, field="original")
    marked = _decide(report, ReportStatus.DUPLICATE, f"Duplicate of report {original.pk}")
    marked.duplicate_of = original
    marked.save(update_fields=["duplicate_of"])
    _notice(marked, "The maintainers found that this issue was already reported. Thank you.")
    _record(ReportTag.DUPLICATE, marked, actor=actor, data={"original": original.pk})
    return marked


@transaction.atomic
def do_mark_spam(report: Report, *, actor: Actor) -> Report:
    marked = _decide(report, ReportStatus.SPAM, "spam")
    _record(ReportTag.SPAM, marked, actor=actor, data={})
    return marked


@dataclass(frozen=True)
class Acceptance:
    route: Route | None = None  # None: take Lockstep's routing decision as it is
    override_reason: str = ""
    channel: Channel | None = None
    disclosure_at: datetime | None = None
    title: str = ""


@transaction.atomic
def do_accept_report(report: Report, decision: Acceptance, *, actor: Actor) -> Case:
    """Accept: open the case on the routing decision (or an override), copy the report in."""
    advised = route_advice_for(report)
    route = Route(decision.route) if decision.route else advised.route
    choice = RouteChoice(
        route=route,
        reasons=advised.reasons,
        overridden=route is not advised.route,
        override_reason=decision.override_reason,
    )
    accepted = _decide(report, ReportStatus.ACCEPTED, "")
    case = do_open_case(
        report.project,
        title=decision.title or report.title,
        choice=choice,
        channel=decision.channel,
        disclosure_at=decision.disclosure_at or report.proposed_disclosure_at,
        actor=actor,
    )
    accepted.case = case
    accepted.save(update_fields=["case"])
    _copy_into_case(accepted, case, actor=actor)
    _notice(accepted, f"The maintainers accepted this report ({route.label.lower()}).")
    _record(
        ReportTag.ACCEPTED,
        accepted,
        actor=actor,
        data={"case": case.pk, "route": route.value, "overridden": choice.overridden},
    )
    return case


def _copy_into_case(report: Report, case: Case, *, actor: Actor) -> None:
    parts = [f"**Report: {report.title}**", report.description]
    if report.affected_versions:
        parts.append(f"Affected versions: {report.affected_versions}")
    if report.proof_of_concept:
        parts.append(f"Proof of concept:\n\n```\n{report.proof_of_concept}\n```")
    add_post(case, body="\n\n".join(parts), author_id=None, author_org=None, actor=actor)
    files = [
        UploadedFile(a.filename, a.content_type, bytes(a.content)) for a in report.attachments.all()
    ]
    store_attachments(case, None, files)


@transaction.atomic
def do_add_reporter_post(
    report: Report, *, body: str, files: Sequence[UploadedFile] = (), actor: Actor
) -> None:
    """The reporter writes in the case through the tracking link (no account needed)."""
    if report.case is None:
        msg = "This report has no case yet; write to the maintainers on the tracking page."
        raise Conflict(msg)
    add_post(report.case, body=body, files=files, author_id=None, author_org=None, actor=actor)
