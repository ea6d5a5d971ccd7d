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
from lockstep.cases.actions.posts import add_post
from lockstep.cases.models import Case, Post
from lockstep.channels.models import Channel
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, ValidationError
from lockstep.core.uploads import UploadedFile, check_uploads, stored_file_fields
from lockstep.embargo.routing import Route
from lockstep.intake.emails import report_received
from lockstep.intake.models import (
    MessageKind,
    Report,
    ReportAttachment,
    ReportMessage,
    ReportStatus,
)
from lockstep.intake.news import reporter_recipient, send_news, tell_reporter
from lockstep.intake.queries import hash_token, route_advice_for
from lockstep.mailgw.crypto.base import KeyRejected, get_openpgp
from lockstep.mailgw.outbound.outbox import fan_out
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
    reporter_key: str = ""  # an ASCII-armoured OpenPGP public key: mail to them is encrypted


@dataclass(frozen=True)
class Submitted:
    report: Report
    token: str  # shown once to the reporter; only its hash is stored


def _record(tag: ReportTag, report: Report, *, actor: Actor, data: dict[str, object]) -> None:
    record(tag, actor=actor, object_type="report", object_id=report.pk, data=data)


def _notice(report: Report, body: str) -> ReportMessage:
    return ReportMessage.objects.create(
        report=report, kind=MessageKind.SYSTEM, body=body, created_at=clock.now()
    )


def _checked_key(armored: str) -> str:
    """The reporter's key, checked and re-armoured; "" if they gave none."""
    if not armored.strip():
        return ""
    try:
        return get_openpgp().inspect_public_key(armored, now=clock.now()).armored
    except KeyRejected as exc:
        raise ValidationError(exc.message, field="reporter_key") from None


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


def _store(
    project: Project, data: ReportInput, *, token: str, key: str, submitted_by: int | None
) -> Report:
    return Report.objects.create(
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
        reporter_key=key,
        submitted_by_id=submitted_by,
        token_hash=hash_token(token),
        submitted_at=clock.now(),
    )


def _send_receipt(report: Report, token: str) -> bool:
    """The receipt, with the tracking link: encrypted to the reporter's key if there is one,
    else in clear (the form says so next to the address)."""
    recipient = reporter_recipient(report)
    if recipient is None:
        return False
    spec = report_received(
        report, token=token, link=True, encrypted=bool(recipient.key), tells_news=True
    )
    fan_out(spec, [recipient])
    return True


@transaction.atomic
def do_submit_report(  # noqa: PLR0913 - the report, its files, and who sent it how
    project: Project,
    data: ReportInput,
    *,
    files: Sequence[UploadedFile] = (),
    submitted_by: int | None = None,
    receipt: bool = False,
    actor: Actor,
) -> Submitted:
    """Store a report (and its files) before anything else happens; acknowledge it.

    `receipt`: mail the reporter (if they gave an address) a receipt with their link. The web
    form and the API ask for it while the address may get one more this hour; the mail
    intake acknowledges a report by mail itself (`mailin.pipeline`)."""
    _check(data)
    check_uploads(files)
    key = _checked_key(data.reporter_key)
    token = secrets.token_urlsafe(32)
    report = _store(project, data, token=token, key=key, submitted_by=submitted_by)
    ReportAttachment.objects.bulk_create(
        ReportAttachment(report=report, **stored_file_fields(upload)) for upload in files
    )
    welcome = _notice(
        report,
        f"Thank you. Your report was received by the {project.name} maintainers on "
        f"{report.submitted_at:%Y-%m-%d %H:%M} UTC. They will answer here.",
    )
    report.news_message_id = welcome.pk  # the reporter sees it at once: it is no news
    report.save(update_fields=["news_message_id"])
    mailed = _send_receipt(report, token) if receipt else False
    _record(
        ReportTag.SUBMITTED,
        report,
        actor=actor,
        data={
            "project": project.slug,
            "already_public": data.already_public,
            "files": len(files),
            "reporter_key": bool(key),
            "receipt_mailed": mailed,
        },
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
    if not from_reporter:
        tell_reporter(report, now=message.created_at)
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
    tell_reporter(declined, now=clock.now())
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
    tell_reporter(marked, now=clock.now())
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
    """Accept: open the case on the routing decision (or an override), copy the report in.

    The reporter's files stay with the report, one copy: the case's participants get them
    from the case room, the reporter from the tracking page (`intake.queries`)."""
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
    files = list(accepted.attachments.values_list("filename", flat=True))
    copied = _copy_into_case(accepted, case, files=files, actor=actor)
    accepted.case, accepted.news_post_id = case, copied.pk
    accepted.save(update_fields=["case", "news_post_id"])
    _notice(accepted, f"The maintainers accepted this report ({route.label.lower()}).")
    _record(
        ReportTag.ACCEPTED,
        accepted,
        actor=actor,
        data={
            "case": case.pk,
            "route": route.value,
            "overridden": choice.overridden,
            "files": files,
        },
    )
    tell_reporter(accepted, now=clock.now())
    return case


def _copy_into_case(report: Report, case: Case, *, files: list[str], actor: Actor) -> Post:
    parts = [f"**Report: {report.title}**", report.description]
    if report.affected_versions:
        parts.append(f"Affected versions: {report.affected_versions}")
    if report.proof_of_concept:
        parts.append(f"Proof of concept:\n\n```\n{report.proof_of_concept}\n```")
    if files:
        parts.append(f"Files sent with the report (in the case room): {', '.join(files)}")
    # The reporter's own words: no news to them (nor in the next news mail: the cursor moves).
    return add_post(
        case,
        body="\n\n".join(parts),
        author_id=None,
        author_org=None,
        actor=actor,
        tells_reporter=False,
    )


@transaction.atomic
def do_add_reporter_post(
    report: Report, *, body: str, files: Sequence[UploadedFile] = (), actor: Actor
) -> None:
    """The reporter writes in the case through the tracking link (no account needed)."""
    if report.case is None:
        msg = "This report has no case yet; write to the maintainers on the tracking page."
        raise Conflict(msg)
    add_post(report.case, body=body, files=files, author_id=None, author_org=None, actor=actor)


@transaction.atomic
def do_mail_reporter_news(report_id: int, *, actor: Actor) -> bool:
    """Send the batched news mail that `intake.news.tell_reporter` deferred to the end of its
    window; idempotent: False when none is waiting (sent already, or nothing new)."""
    report = (
        Report.objects.select_for_update(of=("self",))
        .select_related("project", "case")
        .filter(pk=report_id, news_due_at__isnull=False)
        .first()
    )
    if report is None:
        return False
    recipient = reporter_recipient(report)
    sent = False
    if recipient is None:
        report.news_due_at = None
        report.save(update_fields=["news_due_at"])
    else:
        sent = send_news(report, recipient, now=clock.now())
    _record(
        ReportTag.NEWS_MAILED,
        report,
        actor=actor,
        data={"mailed": sent, "encrypted": bool(recipient and recipient.key)},
    )
    return sent
