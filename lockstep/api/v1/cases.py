"""Cases: the room, its participants, date, vulnerabilities, statuses and posts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from lockstep.api.auth import PUBLISHING, actor_of
from lockstep.api.params import Id, Offset
from lockstep.api.v1.affected_schema import AFFECTED_IN, AFFECTED_OUT, CREDIT, REFERENCE, array_of
from lockstep.cases.actions.opening import do_set_disclosure_date
from lockstep.cases.actions.participants import (
    do_add_participant,
    do_invite_channel,
    do_mark_seen,
    do_remove_participant,
    do_set_status,
)
from lockstep.cases.actions.posts import do_add_post, do_edit_post
from lockstep.cases.actions.vulns import (
    VulnerabilityInput,
    do_add_vulnerability,
    do_change_vulnerability,
    do_delete_vulnerability,
)
from lockstep.cases.models import Case, Post, Status, Vulnerability
from lockstep.cases.queries import (
    CaseAccess,
    access_candidate_vendor,
    access_case_by_id,
    access_participant,
    access_vulnerability,
    list_cases_for,
    list_posts,
    list_vulnerabilities,
    participant_count,
    seat_of,
    status_matrix,
    status_summary,
)
from lockstep.embargo.policy import DateDecision

router = Router(tags=["cases"])
PAGE_MAX = 200


class CaseOut(Schema):
    id: int
    title: str
    project: str
    route: str
    state: str  # "open", or "published" once the advisory is public
    channel: str | None
    disclosure_at: datetime | None
    created_at: datetime


class StatusOut(Schema):
    vulnerability_id: int
    status: str | None = Field(description="null: no response yet (not the same as not_affected)")
    statement: str


class ParticipantOut(Schema):
    id: int
    org: str
    name: str
    role: str
    notified_at: datetime | None
    first_seen_at: datetime | None
    statuses: list[StatusOut]


class VulnerabilityIn(Schema):
    """A vulnerability, whole (PUT replaces every field). Mistakes are a 400 `invalid` whose
    `errors` list every one with its path, e.g. `affected[0].ranges[1].events[2].fixed`."""

    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    cwe: str = Field("", description="CWE-787, or just 787")
    cvss3: str = Field("", description="CVSS:3.1/… vector")
    cvss4: str = Field("", description="CVSS:4.0/… vector")
    affected: list[dict[str, Any]] = Field(
        [],
        description="Affected packages, with OSV ranges (type and events) and/or versions.",
        json_schema_extra=array_of(AFFECTED_IN),
    )
    references: list[dict[str, Any]] = Field([], json_schema_extra=array_of(REFERENCE))
    credits: list[dict[str, Any]] = Field([], json_schema_extra=array_of(CREDIT))


class VulnerabilityOut(Schema):
    id: int
    title: str
    description: str
    cwe: str
    cvss3_vector: str
    cvss3_score: Decimal | None
    cvss4_vector: str
    cvss4_score: Decimal | None
    affected: list[dict[str, Any]] = Field(json_schema_extra=array_of(AFFECTED_OUT))
    references: list[dict[str, Any]] = Field(json_schema_extra=array_of(REFERENCE))
    credits: list[dict[str, Any]] = Field(json_schema_extra=array_of(CREDIT))


class SummaryOut(Schema):
    vulnerability_id: int
    counts: dict[str, int] = Field(description="status -> organisations; 'none': no response yet")


class CaseDetailOut(CaseOut):
    my_roles: list[str]
    participant_count: int = Field(description="Page through them at …/participants.")
    summary: list[SummaryOut]
    vulnerabilities: list[VulnerabilityOut]


class PostIn(Schema):
    body: str = Field(min_length=1, max_length=100_000)
    participants_only: bool = Field(
        default=False,
        description="The reporter reads every post on their tracking page, but not this one.",
    )


class PostEditIn(Schema):
    body: str = Field(min_length=1, max_length=100_000)


class PostOut(Schema):
    id: int
    author: str
    org: str | None
    body: str
    body_html: str
    participants_only: bool
    created_at: datetime
    edited_at: datetime | None = Field(None, description="null: never edited")


class DateIn(Schema):
    disclosure_at: datetime


class DateOut(Schema):
    disclosure_at: datetime
    outcome: str
    reasons: list[str]
    warnings: list[str]


class ParticipantIn(Schema):
    org: str = Field(description="Slug of a vendor on the case's private list.")


class StatusIn(Schema):
    status: Status
    statement: str = Field("", max_length=5000)
    org: str | None = Field(None, description="Which of your organisations (if several).")


def _case(case: Case) -> CaseOut:
    return CaseOut(
        id=case.pk,
        title=case.title,
        project=case.project.slug,
        route=case.route,
        state="published" if case.published_at else "open",
        channel=case.channel.slug if case.channel else None,
        disclosure_at=case.disclosure_at,
        created_at=case.created_at,
    )


def _vuln(v: Vulnerability) -> VulnerabilityOut:
    return VulnerabilityOut.from_orm(v)


def _detail(access: CaseAccess) -> CaseDetailOut:
    vulns = list_vulnerabilities(access.case)
    return CaseDetailOut(
        **_case(access.case).dict(),
        my_roles=sorted(access.roles),
        participant_count=participant_count(access.case),
        summary=[
            SummaryOut(vulnerability_id=item.vulnerability.pk, counts=item.counts)
            for item in status_summary(access.case, vulns)
        ],
        vulnerabilities=[_vuln(v) for v in vulns],
    )


def _rows(access: CaseAccess, *, offset: int, limit: int, waiting: bool) -> list[ParticipantOut]:
    vulns = list_vulnerabilities(access.case)
    rows = status_matrix(access.case, vulns, offset=offset, limit=limit, waiting_only=waiting)
    return [
        ParticipantOut(
            id=row.participant.pk,
            org=row.participant.org.slug,
            name=row.participant.org.name,
            role=row.participant.role,
            notified_at=row.participant.notified_at,
            first_seen_at=row.participant.first_seen_at,
            statuses=[
                StatusOut(vulnerability_id=v.pk, status=c.status, statement=c.statement)
                for v, c in zip(vulns, row.cells, strict=True)
            ],
        )
        for row in rows
    ]


def _post(post: Post) -> PostOut:
    return PostOut(
        id=post.pk,
        author=post.author_label,
        org=post.author_org.slug if post.author_org else None,
        body=post.body,
        body_html=post.body_html,
        participants_only=post.participants_only,
        created_at=post.created_at,
        edited_at=post.edited_at,
    )


def _vuln_input(data: VulnerabilityIn) -> VulnerabilityInput:
    return VulnerabilityInput(**data.dict())


@router.get("/cases", response=list[CaseOut], summary="The cases I take part in")
def cases(request: HttpRequest) -> list[CaseOut]:
    return [_case(case) for case in list_cases_for(actor_of(request))[:500]]


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="A case (marks it seen)")
def case_detail(request: HttpRequest, case_id: Id) -> CaseDetailOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    do_mark_seen(access, actor=actor)
    return _detail(access)


@router.get("/cases/{case_id}/participants", response=list[ParticipantOut])
def participants(
    request: HttpRequest,
    case_id: Id,
    offset: Offset = 0,
    limit: int = 100,
    waiting: bool = False,  # noqa: FBT001, FBT002 - a query parameter
) -> list[ParticipantOut]:
    """Organisations with their statuses; `waiting=true`: vendors still to answer."""
    access = access_case_by_id(actor_of(request), case_id)
    size = min(max(limit, 1), PAGE_MAX)
    return _rows(access, offset=max(offset, 0), limit=size, waiting=waiting)


@router.get("/cases/{case_id}/posts", response=list[PostOut])
def posts(request: HttpRequest, case_id: Id, offset: Offset = 0, limit: int = 100) -> list[PostOut]:
    access = access_case_by_id(actor_of(request), case_id)
    window = list_posts(access.case).select_related("author_org")
    start = max(offset, 0)
    return [_post(p) for p in window[start : start + min(max(limit, 1), PAGE_MAX)]]


@router.post("/cases/{case_id}/posts", response={201: PostOut})
def add_post(request: HttpRequest, case_id: Id, data: PostIn) -> PostOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    post = do_add_post(
        access, body=data.body, participants_only=data.participants_only, actor=actor
    )
    return _post(post)


@router.put(
    "/cases/{case_id}/posts/{post_id}",
    response=PostOut,
    summary="Edit your own post",
    description=(
        "Only its author may (403 for anyone else in the case). The old text is kept in the "
        "audit trail; the post says when it was edited. The edit is not mailed again."
    ),
)
def edit_post(request: HttpRequest, case_id: Id, post_id: Id, data: PostEditIn) -> PostOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    return _post(do_edit_post(access, post_id, body=data.body, actor=actor))


# PUBLISHING: a new date can be earlier than the current one, and so shorten the embargo.
@router.post("/cases/{case_id}/disclosure-date", response=DateOut, auth=PUBLISHING)
def set_date(request: HttpRequest, case_id: Id, data: DateIn) -> DateOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    decision = do_set_disclosure_date(access, requested=data.disclosure_at, actor=actor)
    return date_out(decision)


def date_out(decision: DateDecision) -> DateOut:
    return DateOut(
        disclosure_at=decision.decided,
        outcome=decision.outcome,
        reasons=list(decision.reasons),
        warnings=[notice.message for notice in decision.warnings],
    )


@router.post("/cases/{case_id}/participants", response={201: ParticipantOut})
def add_participant(request: HttpRequest, case_id: Id, data: ParticipantIn) -> ParticipantOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    seat = do_add_participant(access, access_candidate_vendor(access, data.org), actor=actor)
    return ParticipantOut(
        id=seat.pk,
        org=seat.org.slug,
        name=seat.org.name,
        role=seat.role,
        notified_at=seat.notified_at,
        first_seen_at=None,
        statuses=[],
    )


@router.delete("/cases/{case_id}/participants/{participant_id}", response={204: None})
def remove_participant(request: HttpRequest, case_id: Id, participant_id: Id) -> None:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    do_remove_participant(access, access_participant(access, participant_id), actor=actor)


@router.post("/cases/{case_id}/invite-channel", response=list[str])
def invite_channel(request: HttpRequest, case_id: Id) -> list[str]:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    return [str(seat.org_id) for seat in do_invite_channel(access, actor=actor)]


@router.post("/cases/{case_id}/vulnerabilities", response={201: VulnerabilityOut})
def add_vulnerability(request: HttpRequest, case_id: Id, data: VulnerabilityIn) -> VulnerabilityOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    return _vuln(do_add_vulnerability(access, _vuln_input(data), actor=actor))


@router.put("/cases/{case_id}/vulnerabilities/{vuln_id}", response=VulnerabilityOut)
def change_vulnerability(
    request: HttpRequest, case_id: Id, vuln_id: Id, data: VulnerabilityIn
) -> VulnerabilityOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    return _vuln(do_change_vulnerability(access, vuln_id, _vuln_input(data), actor=actor))


@router.delete("/cases/{case_id}/vulnerabilities/{vuln_id}", response={204: None})
def delete_vulnerability(request: HttpRequest, case_id: Id, vuln_id: Id) -> None:
    """Deletes it and the statuses given for it (409 while it holds a CVE ID not rejected)."""
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    do_delete_vulnerability(access, vuln_id, actor=actor)


@router.put("/cases/{case_id}/vulnerabilities/{vuln_id}/status", response=StatusOut)
def set_status(request: HttpRequest, case_id: Id, vuln_id: Id, data: StatusIn) -> StatusOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    row = do_set_status(
        access,
        seat_of(access, data.org),
        access_vulnerability(access, vuln_id),
        status=data.status,
        statement=data.statement,
        actor=actor,
    )
    return StatusOut(vulnerability_id=vuln_id, status=row.status, statement=row.statement)
