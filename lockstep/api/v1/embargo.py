"""The embargo of a case: agreeing the date, extensions, breaches, early releases, the
advisory draft and publication. Same actions as the case room's embargo section.

The operations that end or shorten the embargo or publish say `auth=PUBLISHING`: a token needs
the `publish` scope for them (api/auth.py)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from lockstep.advisories.actions.breach import do_confirm_breach
from lockstep.advisories.actions.publication import do_publish_now
from lockstep.api.auth import PUBLISHING, actor_of, require_recent_proof
from lockstep.api.params import Id
from lockstep.api.v1.cases import DateOut, date_out
from lockstep.cases.actions.embargo import (
    do_agree_date,
    do_confirm_date,
    do_decide_extension,
    do_dismiss_breach,
    do_edit_advisory_draft,
    do_record_early_release,
    do_report_breach,
    do_request_extension,
)
from lockstep.cases.actions.opening import do_allow_short_embargo
from lockstep.cases.models import EmbargoBreach, ExtensionRequest
from lockstep.cases.queries import (
    CaseAccess,
    access_case_by_id,
    access_vulnerability,
    embargo_view,
)
from lockstep.core.actor import Actor
from lockstep.cve.actions.rejecting import reject_cve
from lockstep.cve.actions.reserving import do_assign_cve, reserve_cve
from lockstep.cve.models import CveId
from lockstep.cve.queries import access_cve, cves_of_case

router = Router(tags=["embargo"])


class ExtensionIn(Schema):
    requested: datetime = Field(description="The new disclosure date-time, with a time zone")
    reason: str = Field(min_length=1, max_length=5000)


class ShortEmbargoIn(Schema):
    disclosure_at: datetime = Field(description="The disclosure date-time, with a time zone")
    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Why the embargo cannot wait (for example: exploited in the wild). "
        "Every participant reads it.",
    )


class DecisionIn(Schema):
    grant: bool
    note: str = ""


class ExtensionOut(Schema):
    id: int
    state: str
    org: str | None
    requested_date: datetime
    current_date: datetime
    reason: str
    new_date: datetime | None
    decision_reasons: list[str]


class BreachIn(Schema):
    evidence_url: str = ""
    evidence_text: str = ""


class NoteIn(Schema):
    note: str = ""


class BreachOut(Schema):
    id: int
    state: str
    org: str | None
    evidence_url: str
    evidence_text: str
    decision_note: str


class EarlyIn(Schema):
    option: str = Field(description="without_fix, or silent_fix (discouraged)")
    version: str


class EarlyOut(Schema):
    option: str
    version: str
    changelog: str


class DraftIn(Schema):
    summary: str = ""
    details: str = ""
    release_version: str = ""
    reporter_posts: bool = False


class PublishedOut(Schema):
    advisory: str
    url: str


class EmbargoOut(Schema):
    disclosure_at: datetime | None
    agreed_at: datetime | None
    agreed_by: list[str]
    published_at: datetime | None
    end_reason: str
    extension_requests: list[ExtensionOut]
    breaches: list[BreachOut]


def _ctx(request: HttpRequest, case_id: Id) -> tuple[Actor, CaseAccess]:
    actor = actor_of(request)
    return actor, access_case_by_id(actor, case_id)


def _ext(r: ExtensionRequest) -> ExtensionOut:
    return ExtensionOut(
        id=r.pk,
        state=r.state,
        org=r.requested_by_org.slug if r.requested_by_org else None,
        requested_date=r.requested_date,
        current_date=r.current_date,
        reason=r.reason,
        new_date=r.new_date,
        decision_reasons=list(r.decision_reasons),
    )


def _breach(b: EmbargoBreach) -> BreachOut:
    return BreachOut(
        id=b.pk,
        state=b.state,
        org=b.reported_by_org.slug if b.reported_by_org else None,
        evidence_url=b.evidence_url,
        evidence_text=b.evidence_text,
        decision_note=b.decision_note,
    )


@router.get("/cases/{case_id}/embargo", response=EmbargoOut)
def embargo(request: HttpRequest, case_id: Id) -> EmbargoOut:
    case = access_case_by_id(actor_of(request), case_id).case
    view = embargo_view(case)
    return EmbargoOut(
        disclosure_at=case.disclosure_at,
        agreed_at=case.disclosure_agreed_at,
        agreed_by=[a.org.slug for a in view.agreements],
        published_at=case.published_at,
        end_reason=case.end_reason,
        extension_requests=[_ext(r) for r in view.extension_requests],
        breaches=[_breach(b) for b in view.breaches],
    )


@router.post("/cases/{case_id}/disclosure-date/agree", response={204: None})
def agree(request: HttpRequest, case_id: Id) -> None:
    actor, access = _ctx(request, case_id)
    do_agree_date(access, actor=actor)


@router.post("/cases/{case_id}/disclosure-date/confirm", response={204: None})
def confirm(request: HttpRequest, case_id: Id) -> None:
    actor, access = _ctx(request, case_id)
    do_confirm_date(access, actor=actor)


# PUBLISHING: the date may come sooner than the list's minimum notice: it shortens the embargo.
@router.post(
    "/cases/{case_id}/disclosure-date/short-embargo",
    response=DateOut,
    auth=PUBLISHING,
    summary="Allow a short embargo (the coordinator's override)",
    description=(
        "Sets a disclosure date inside the private list's minimum notice, for an extreme case "
        "such as an issue exploited in the wild. Only the list's coordinator may (403 for "
        "anyone else in the case). The date must still be in the future and within the "
        "policy's maximum. The reason is kept in the audit trail and announced to every "
        "participant with the new date."
    ),
)
def allow_short_embargo(request: HttpRequest, case_id: Id, data: ShortEmbargoIn) -> DateOut:
    actor, access = _ctx(request, case_id)
    decision = do_allow_short_embargo(
        access, requested=data.disclosure_at, reason=data.reason, actor=actor
    )
    return date_out(decision)


@router.post("/cases/{case_id}/extensions", response={201: ExtensionOut})
def request_extension(request: HttpRequest, case_id: Id, data: ExtensionIn) -> ExtensionOut:
    actor, access = _ctx(request, case_id)
    made = do_request_extension(access, requested=data.requested, reason=data.reason, actor=actor)
    return _ext(made)


@router.post("/cases/{case_id}/extensions/{request_id}/decision", response=ExtensionOut)
def decide_extension(
    request: HttpRequest, case_id: Id, request_id: Id, data: DecisionIn
) -> ExtensionOut:
    if data.grant:  # a grant moves the date everybody agreed to: a session proves itself anew
        require_recent_proof(request)
    actor, access = _ctx(request, case_id)
    done = do_decide_extension(access, request_id, grant=data.grant, note=data.note, actor=actor)
    return _ext(done)


@router.post("/cases/{case_id}/breaches", response={201: BreachOut})
def report_breach(request: HttpRequest, case_id: Id, data: BreachIn) -> BreachOut:
    actor, access = _ctx(request, case_id)
    made = do_report_breach(
        access, evidence_url=data.evidence_url, evidence_text=data.evidence_text, actor=actor
    )
    return _breach(made)


# PUBLISHING: a confirmed breach ends the embargo and publishes the advisory.
@router.post(
    "/cases/{case_id}/breaches/{breach_id}/confirm", response=PublishedOut, auth=PUBLISHING
)
def confirm_breach(request: HttpRequest, case_id: Id, breach_id: Id, data: NoteIn) -> PublishedOut:
    actor, access = _ctx(request, case_id)
    advisory = do_confirm_breach(access, breach_id, note=data.note, actor=actor)
    return PublishedOut(advisory=advisory.public_id, url=str(advisory.snapshot["url"]))


@router.post("/cases/{case_id}/breaches/{breach_id}/dismiss", response=BreachOut)
def dismiss_breach(request: HttpRequest, case_id: Id, breach_id: Id, data: NoteIn) -> BreachOut:
    actor, access = _ctx(request, case_id)
    return _breach(do_dismiss_breach(access, breach_id, note=data.note, actor=actor))


# PUBLISHING: a release before the date makes the fix, and so the issue, public early.
@router.post("/cases/{case_id}/early-release", response={201: EarlyOut}, auth=PUBLISHING)
def early_release(request: HttpRequest, case_id: Id, data: EarlyIn) -> EarlyOut:
    actor, access = _ctx(request, case_id)
    made = do_record_early_release(access, option=data.option, version=data.version, actor=actor)
    return EarlyOut(option=made.option, version=made.version, changelog=made.changelog)


@router.put("/cases/{case_id}/advisory-draft", response={204: None})
def advisory_draft(request: HttpRequest, case_id: Id, data: DraftIn) -> None:
    actor, access = _ctx(request, case_id)
    do_edit_advisory_draft(
        access,
        summary=data.summary,
        details=data.details,
        release_version=data.release_version,
        reporter_posts=data.reporter_posts,
        actor=actor,
    )


# PUBLISHING: publishes the advisory (exports, the public list, CVE records).
@router.post("/cases/{case_id}/publish", response=PublishedOut, auth=PUBLISHING)
def publish(request: HttpRequest, case_id: Id) -> PublishedOut:
    actor, access = _ctx(request, case_id)
    advisory = do_publish_now(access, actor=actor)
    return PublishedOut(advisory=advisory.public_id, url=str(advisory.snapshot["url"]))


class CveOut(Schema):
    cve_id: str
    state: str
    vulnerability_id: int | None
    reserved_at: datetime
    published_at: datetime | None
    last_error: str


def _cve(row: CveId) -> CveOut:
    return CveOut(
        cve_id=row.cve_id,
        state=row.state,
        vulnerability_id=row.vulnerability_id,
        reserved_at=row.reserved_at,
        published_at=row.published_at,
        last_error=row.last_error,
    )


@router.get("/cases/{case_id}/cves", response=list[CveOut], summary="The case's CVE IDs")
def cves(request: HttpRequest, case_id: Id) -> list[CveOut]:
    access = access_case_by_id(actor_of(request), case_id)
    return [_cve(row) for row in cves_of_case(access.case)]


@router.post(
    "/cases/{case_id}/vulnerabilities/{vuln_id}/cve",
    response={201: CveOut},
    summary="Reserve a CVE ID for a vulnerability (local block or CVE Services)",
)
def reserve(request: HttpRequest, case_id: Id, vuln_id: Id) -> CveOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    return _cve(reserve_cve(access, access_vulnerability(access, vuln_id), actor=actor))


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class AssignIn(Schema):
    vulnerability_id: Id


# PUBLISHING: CVE Services publishes the rejection, with its reason, on cve.org.
@router.post(
    "/cases/{case_id}/cves/{cve_id}/reject",
    response=CveOut,
    summary="Reject a CVE ID",
    auth=PUBLISHING,
)
def reject(request: HttpRequest, case_id: Id, cve_id: str, data: RejectIn) -> CveOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    cve = access_cve(access, cve_id)
    return _cve(reject_cve(access, cve, reason=data.reason, actor=actor))


@router.post(
    "/cases/{case_id}/cves/{cve_id}/assign",
    response=CveOut,
    summary="Give a reserved, unassigned CVE ID to a vulnerability",
)
def assign(request: HttpRequest, case_id: Id, cve_id: str, data: AssignIn) -> CveOut:
    actor = actor_of(request)
    access = access_case_by_id(actor, case_id)
    cve = access_cve(access, cve_id)
    vulnerability = access_vulnerability(access, data.vulnerability_id)
    return _cve(do_assign_cve(access, cve, vulnerability, actor=actor))
