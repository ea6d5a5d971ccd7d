"""The case room: participants, the disclosure date, statuses, vulnerabilities, posts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lockstep.cases.actions.opening import do_set_disclosure_date
from lockstep.cases.actions.participants import (
    do_add_participant,
    do_invite_channel,
    do_mark_seen,
    do_remove_participant,
    do_set_status,
)
from lockstep.cases.actions.posts import do_add_post, do_edit_post
from lockstep.cases.models import Case, DateAgreement, Status, Vulnerability
from lockstep.cases.queries import (
    CaseAccess,
    access_attachment,
    access_candidate_vendor,
    access_case_by_id,
    access_participant,
    access_vulnerability,
    candidate_vendors,
    embargo_view,
    list_vulnerabilities,
    not_responded,
    own_statuses,
    participant_count,
    recent_posts,
    seat_of,
    status_matrix,
    status_summary,
    timeline,
    waiting_dashboard_for,
)
from lockstep.cases.search import CaseFilters, search_cases_for
from lockstep.cases.timeline import describe
from lockstep.core import clock
from lockstep.core.actor import from_request
from lockstep.core.errors import Conflict, LockstepError, ValidationError
from lockstep.cve.models import CveId
from lockstep.cve.queries import cves_of_case, stale_reserved_for
from lockstep.embargo import early
from lockstep.embargo.policy import DateDecision, DateOutcome
from lockstep.intake.queries import list_case_report_files
from lockstep.web.downloads import content_disposition
from lockstep.web.errors import domain_errors
from lockstep.web.intake_forms import CasePostForm, DateForm
from lockstep.web.paging import page_number
from lockstep.web.uploads import read_uploads

# Mistakes the user can fix are shown on the page; NotFound and PermissionDenied propagate
# to `domain_errors` (404 / 403), so a forbidden write never looks like a success.
USER_ERRORS = (ValidationError, Conflict)


CASES_PER_PAGE = 50


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    filters = CaseFilters.parse(request.GET.dict())
    page = page_number(request, per_page=CASES_PER_PAGE)
    start = (page - 1) * CASES_PER_PAGE
    window = list(search_cases_for(actor, filters)[start : start + CASES_PER_PAGE + 1])
    kept = request.GET.copy()
    kept.pop("page", None)
    context = {
        "cases": window[:CASES_PER_PAGE],
        "more": len(window) > CASES_PER_PAGE,
        "page": page,
        "filters": filters,
        "kept": kept.urlencode(),
        "stale_cves": stale_reserved_for(actor, clock.now()),
    }
    return render(request, "web/cases/list.html", context)


# The first screen stays light at any size (about 40 KB at 1,000 organisations): a page of
# the status matrix, the newest posts, the latest events; the rest is a click away.
ROWS_PER_PAGE = 20
POSTS_PER_PAGE = 20
TIMELINE_EVENTS = 30


@login_required
@require_GET
def waiting_dashboard(request: HttpRequest) -> HttpResponse:
    """For upstream teams and coordinators: who has not answered, across their open cases."""
    entries = waiting_dashboard_for(from_request(request))
    return render(request, "web/cases/waiting.html", {"entries": entries})


@login_required
@require_GET
@domain_errors
def case_room(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    do_mark_seen(access, actor=actor)
    return render(request, "web/cases/room.html", _room(request, access))


def _room(request: HttpRequest, access: CaseAccess) -> dict[str, object]:
    case = access.case
    vulnerabilities = list_vulnerabilities(case)
    page = page_number(request, per_page=ROWS_PER_PAGE)
    waiting_only = request.GET.get("waiting") == "1"
    posts_page = page_number(request, per_page=POSTS_PER_PAGE, name="posts")
    embargo = embargo_view(case)
    return {
        "access": access,
        "case": case,
        "vulnerabilities": vulnerabilities,
        "summary": status_summary(case, vulnerabilities),
        "rows": status_matrix(
            case,
            vulnerabilities,
            offset=(page - 1) * ROWS_PER_PAGE,
            limit=ROWS_PER_PAGE,
            waiting_only=waiting_only,
        ),
        "page": page,
        "waiting_only": waiting_only,
        "participant_total": participant_count(case),
        "waiting": not_responded(case, len(vulnerabilities))[:ROWS_PER_PAGE],
        **recent_posts(case, page=posts_page, per_page=POSTS_PER_PAGE),
        "report_files": list_case_report_files(access),
        "timeline": describe(timeline(case, last=TIMELINE_EVENTS)),
        "rows_per_page": ROWS_PER_PAGE,
        "statuses": Status.choices,
        "own_statuses": own_statuses(access, vulnerabilities),
        "post_form": CasePostForm(),
        "date_form": DateForm(initial={"disclosure_at": case.disclosure_at}),
        "candidates": candidate_vendors(access) if access.can_lead else [],
        "embargo": embargo,
        "agreed": _my_agreement(access, embargo.agreements),
        "vuln_rows": _with_cves(case, vulnerabilities),
        "early_options": early.OPTIONS,
    }


def _my_agreement(access: CaseAccess, agreements: list[DateAgreement]) -> DateAgreement | None:
    """The viewer's agreement to the current date, once every one of their organisations
    agreed (then the page says so instead of offering the button again)."""
    mine = [a for a in agreements if a.org_id in {seat.org_id for seat in access.seats}]
    return mine[-1] if mine and len(mine) >= len(access.seats) else None


def _with_cves(
    case: Case, vulnerabilities: list[Vulnerability]
) -> list[tuple[Vulnerability, CveId | None]]:
    by_vulnerability = {cve.vulnerability_id: cve for cve in cves_of_case(case)}
    return [(v, by_vulnerability.get(v.pk)) for v in vulnerabilities]


def _done(request: HttpRequest, case_id: int, error: LockstepError | None, ok: str) -> HttpResponse:
    if error is None:
        messages.success(request, ok)
    else:
        messages.error(request, error.message)
    return redirect("web:case", case_id=case_id)


@login_required
@require_POST
@domain_errors
def add_post(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    form = CasePostForm(request.POST, request.FILES)
    if not form.is_valid():
        return _done(request, case_id, LockstepError("Write something first."), "")
    participants_only = form.cleaned_data["participants_only"]
    try:
        do_add_post(
            access,
            body=form.cleaned_data["body"],
            files=read_uploads(form.cleaned_data["attachments"]),
            participants_only=participants_only,
            actor=actor,
        )
    except USER_ERRORS as exc:
        return _done(request, case_id, exc, "")
    return _done(
        request, case_id, None, "Posted for participants only." if participants_only else "Posted."
    )


@login_required
@require_POST
@domain_errors
def edit_post(request: HttpRequest, case_id: int, post_id: int) -> HttpResponse:
    """The author corrects their post (not mailed again: cases/actions/posts.do_edit_post)."""
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    try:
        do_edit_post(access, post_id, body=request.POST.get("body", ""), actor=actor)
    except USER_ERRORS as exc:
        return _done(request, case_id, exc, "")
    return _done(request, case_id, None, "Post edited. It was not mailed again.")


@login_required
@require_POST
@domain_errors
def set_status(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    try:
        seat = seat_of(access, request.POST.get("org") or None)
        vulnerability = access_vulnerability(access, request.POST.get("vulnerability", ""))
        do_set_status(
            access,
            seat,
            vulnerability,
            status=_status(request.POST.get("status", "")),
            statement=request.POST.get("statement", ""),
            actor=actor,
        )
    except USER_ERRORS as exc:
        return _done(request, case_id, exc, "")
    return _done(request, case_id, None, "Status saved.")


@login_required
@require_POST
@domain_errors
def set_date(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    form = DateForm(request.POST)
    if not form.is_valid():
        return _done(request, case_id, LockstepError("Give a date and a time (UTC)."), "")
    try:
        decision = do_set_disclosure_date(
            access, requested=form.cleaned_data["disclosure_at"], actor=actor
        )
    except USER_ERRORS as exc:
        return _done(request, case_id, exc, "")
    tell_decision(request, decision)
    return _done(
        request, case_id, None, f"Disclosure set to {decision.decided:%Y-%m-%d %H:%M} UTC."
    )


def tell_decision(request: HttpRequest, decision: DateDecision) -> None:
    """Why the date is what it is: a note when it was accepted as asked; a warning only when
    something needs attention (cut back to the maximum, a weekend, the night, short notice)."""
    shortened = decision.outcome == DateOutcome.SHORTENED
    for reason in decision.reasons:
        (messages.warning if shortened else messages.info)(request, reason)
    for notice in decision.warnings:
        messages.warning(request, notice.message)


@login_required
@require_POST
@domain_errors
def participants(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    action = request.POST.get("action", "")
    try:
        if action == "add":
            org = access_candidate_vendor(access, request.POST.get("org", ""))
            do_add_participant(access, org, actor=actor)
        elif action == "remove":
            seat = access_participant(access, request.POST.get("participant", ""))
            do_remove_participant(access, seat, actor=actor)
        elif action == "invite-channel":
            do_invite_channel(access, actor=actor)
        else:
            raise ValidationError("Unknown action.")
    except USER_ERRORS as exc:
        return _done(request, case_id, exc, "")
    return _done(request, case_id, None, "Participants updated.")


@login_required
@require_GET
@domain_errors
def attachment(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponse:
    access = access_case_by_id(from_request(request), case_id)
    found = access_attachment(access, attachment_id)
    response = HttpResponse(bytes(found.content), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition(found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _status(raw: str) -> Status:
    if raw not in Status.values:
        raise ValidationError("Pick a status.", field="status")
    return Status(raw)
