"""Reports: public submission, the reporter's token view, and the maintainers' triage."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema

from lockstep.advisories.actions.reporter_post import do_reporter_posted
from lockstep.api.auth import actor_of
from lockstep.api.openapi import answers
from lockstep.api.params import Id
from lockstep.channels.public import public_url
from lockstep.channels.queries import access_routing_channel_by_slug
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import ValidationError
from lockstep.core.links import tracking_url
from lockstep.core.uploads import UploadedFile
from lockstep.embargo.routing import Route
from lockstep.intake.actions import (
    Acceptance,
    ReportInput,
    do_accept_report,
    do_add_report_message,
    do_decline_report,
    do_mark_duplicate,
    do_mark_spam,
    do_submit_report,
)
from lockstep.intake.models import Report
from lockstep.intake.queries import access_report_by_id, access_report_by_token, list_inbox_for
from lockstep.mailin.floods import may_acknowledge
from lockstep.ops.client import client_address
from lockstep.ops.ratelimit import check_rate
from lockstep.projects.queries import access_project_by_slug

router = Router(tags=["reports"])
HOUR = 3600


class FileIn(Schema):
    filename: str = Field(max_length=255)
    content_type: str = Field("application/octet-stream", max_length=100)
    content_base64: str


class ReportIn(Schema):
    project: str = Field(description="The project's short name (slug).")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1)
    affected_versions: str = ""
    proof_of_concept: str = ""
    already_public: bool = False
    public_url: str = ""
    proposed_disclosure_at: datetime | None = Field(None, description="RFC 3339 with zone.")
    credit_as: str = ""
    reporter_name: str = ""
    reporter_email: str = Field(
        "", description="Receives a receipt with the tracking link, and news of the report."
    )
    reporter_key: str = Field(
        "", description="ASCII-armoured OpenPGP public key: mail to the reporter is encrypted."
    )
    attachments: list[FileIn] = []


class SubmittedOut(Schema):
    id: int
    status: str
    token: str = Field(description="The reporter's private key to the report; shown once.")
    tracking_url: str


class MessageOut(Schema):
    kind: str
    body: str
    created_at: datetime


class ReportOut(Schema):
    id: int
    project: str
    title: str
    status: str
    submitted_at: datetime
    already_public: bool
    case_id: int | None


class ReportDetailOut(ReportOut):
    description: str
    affected_versions: str
    proof_of_concept: str
    public_url: str
    proposed_disclosure_at: datetime | None
    credit_as: str
    reporter_name: str
    reporter_email: str
    decision_reason: str
    messages: list[MessageOut]


class MessageIn(Schema):
    body: str = Field(min_length=1, max_length=20_000)


class AcceptIn(Schema):
    route: Route | None = Field(None, description="Leave out to follow Lockstep's decision.")
    override_reason: str = ""
    channel: str | None = Field(None, description="Private list slug, for private routes.")
    disclosure_at: datetime | None = None


class DeclineIn(Schema):
    reason: str = Field(min_length=1)


class DuplicateIn(Schema):
    original: Id


class AcceptedOut(Schema):
    case_id: int
    route: str
    disclosure_at: datetime | None


def _decode(files: list[FileIn]) -> list[UploadedFile]:
    try:
        return [
            UploadedFile(
                f.filename, f.content_type, base64.b64decode(f.content_base64, validate=True)
            )
            for f in files
        ]
    except (binascii.Error, ValueError):
        raise ValidationError("An attachment is not valid base64.", field="attachments") from None


def _summary(report: Report) -> ReportOut:
    return ReportOut(
        id=report.pk,
        project=report.project.slug,
        title=report.title,
        status=report.status,
        submitted_at=report.submitted_at,
        already_public=report.already_public,
        case_id=report.case_id,
    )


def _detail(report: Report) -> ReportDetailOut:
    messages = [
        MessageOut(kind=m.kind, body=m.body, created_at=m.created_at)
        for m in report.messages.order_by("created_at", "id")
    ]
    return ReportDetailOut(
        **_summary(report).dict(),
        description=report.description,
        affected_versions=report.affected_versions,
        proof_of_concept=report.proof_of_concept,
        public_url=report.public_url,
        proposed_disclosure_at=report.proposed_disclosure_at,
        credit_as=report.credit_as,
        reporter_name=report.reporter_name,
        reporter_email=report.reporter_email,
        decision_reason=report.decision_reason,
        messages=messages,
    )


@router.post(
    "/reports",
    auth=None,
    response={201: SubmittedOut},
    summary="Submit a report",
    # Public, but a credential sent is checked (bad token: 401; session without CSRF: 403);
    # the project is named in the body; reports per client address are limited.
    openapi_extra=answers(401, 403, 404, 429),
)
def submit(request: HttpRequest, data: ReportIn) -> SubmittedOut:
    actor = actor_of(request)
    project = access_project_by_slug(actor, data.project)
    key = f"report:{client_address(request)}"
    check_rate(key, limit=settings.LOCKSTEP_REPORT_RATE, window_seconds=HOUR, now=clock.now())
    fields = data.dict(exclude={"project", "attachments"})
    email = data.reporter_email.strip()
    submitted = do_submit_report(
        project,
        ReportInput(**fields),
        files=_decode(data.attachments),
        submitted_by=actor.user_id,
        receipt=bool(email) and may_acknowledge(email, now=clock.now()),
        actor=actor,
    )
    return SubmittedOut(
        id=submitted.report.pk,
        status=submitted.report.status,
        token=submitted.token,
        tracking_url=tracking_url(submitted.token),
    )


@router.get("/track/{token}", auth=None, response=ReportDetailOut, summary="Reporter's view")
def track(request: HttpRequest, token: str) -> ReportDetailOut:
    return _detail(access_report_by_token(token))


@router.post("/track/{token}/messages", auth=None, response={201: MessageOut})
def reporter_message(request: HttpRequest, token: str, data: MessageIn) -> MessageOut:
    report = access_report_by_token(token)
    message = do_add_report_message(
        report, body=data.body, from_reporter=True, actor=Actor.reporter(report.pk)
    )
    return MessageOut(kind=message.kind, body=message.body, created_at=message.created_at)


class PublicPostIn(Schema):
    url: str = Field("", description="Link to your post; empty: Lockstep posts it now for you")


class PublicPostOut(Schema):
    advisory: str
    posted_by: str = Field(description="reporter (at url) or lockstep (on the public list)")
    url: str


@router.post(
    "/track/{token}/public-post",
    auth=None,
    response=PublicPostOut,
    summary="Reporter: I posted the details publicly (or: post them for me now)",
    openapi_extra=answers(409),  # nothing to post yet, or posted already
)
def reporter_public_post(request: HttpRequest, token: str, data: PublicPostIn) -> PublicPostOut:
    report = access_report_by_token(token)
    advisory = do_reporter_posted(report, url=data.url, actor=Actor.reporter(report.pk))
    if advisory.reporter_posted_url:
        return PublicPostOut(
            advisory=advisory.public_id, posted_by="reporter", url=advisory.reporter_posted_url
        )
    post = advisory.public_post
    url = public_url(post) if post is not None else ""
    return PublicPostOut(advisory=advisory.public_id, posted_by="lockstep", url=url)


@router.get("/reports", response=list[ReportOut], summary="Triage inbox (my projects)")
def inbox(request: HttpRequest, status: str = "new") -> list[ReportOut]:
    reports = list_inbox_for(actor_of(request), status=status or None)
    return [_summary(report) for report in reports[:500]]


@router.get("/reports/{report_id}", response=ReportDetailOut)
def report_detail(request: HttpRequest, report_id: Id) -> ReportDetailOut:
    return _detail(access_report_by_id(actor_of(request), report_id))


@router.post("/reports/{report_id}/messages", response={201: MessageOut})
def maintainer_message(request: HttpRequest, report_id: Id, data: MessageIn) -> MessageOut:
    actor = actor_of(request)
    report = access_report_by_id(actor, report_id)
    message = do_add_report_message(report, body=data.body, from_reporter=False, actor=actor)
    return MessageOut(kind=message.kind, body=message.body, created_at=message.created_at)


@router.post("/reports/{report_id}/accept", response={201: AcceptedOut})
def accept(request: HttpRequest, report_id: Id, data: AcceptIn) -> AcceptedOut:
    actor = actor_of(request)
    report = access_report_by_id(actor, report_id)
    channel = access_routing_channel_by_slug(data.channel) if data.channel else None
    case = do_accept_report(
        report,
        Acceptance(
            route=data.route,
            override_reason=data.override_reason,
            channel=channel,
            disclosure_at=data.disclosure_at,
        ),
        actor=actor,
    )
    return AcceptedOut(case_id=case.pk, route=case.route, disclosure_at=case.disclosure_at)


@router.post("/reports/{report_id}/decline", response=ReportOut)
def decline(request: HttpRequest, report_id: Id, data: DeclineIn) -> ReportOut:
    actor = actor_of(request)
    report = access_report_by_id(actor, report_id)
    return _summary(do_decline_report(report, reason=data.reason, actor=actor))


@router.post("/reports/{report_id}/duplicate", response=ReportOut)
def duplicate(request: HttpRequest, report_id: Id, data: DuplicateIn) -> ReportOut:
    actor = actor_of(request)
    report = access_report_by_id(actor, report_id)
    original = access_report_by_id(actor, data.original)
    return _summary(do_mark_duplicate(report, original=original, actor=actor))


@router.post("/reports/{report_id}/spam", response=ReportOut)
def spam(request: HttpRequest, report_id: Id) -> ReportOut:
    actor = actor_of(request)
    return _summary(do_mark_spam(access_report_by_id(actor, report_id), actor=actor))
