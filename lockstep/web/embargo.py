"""The embargo section of the case room: one POST endpoint, one action per button."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lockstep.accounts.models import User
from lockstep.advisories.actions.breach import do_confirm_breach
from lockstep.advisories.actions.publication import do_publish_now
from lockstep.advisories.freezing import build_snapshot
from lockstep.advisories.rendering import render_all
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
from lockstep.cases.queries import CaseAccess, access_case_by_id, access_vulnerability
from lockstep.core import clock
from lockstep.core.actor import Actor, from_request
from lockstep.core.errors import Conflict, ValidationError
from lockstep.core.paging import ID_MAX
from lockstep.cve.actions.rejecting import reject_cve
from lockstep.cve.actions.reserving import reserve_cve
from lockstep.cve.client import CveAuthorityError
from lockstep.cve.queries import access_cve
from lockstep.embargo.policy import NoticeCode
from lockstep.signin.second_factor import reauthenticate, recently_proven
from lockstep.web.errors import domain_errors
from lockstep.web.intake_forms import DateForm

Handler = Callable[[HttpRequest, CaseAccess, Actor], str]
PREVIEW_ID = "LOCKSTEP-PREVIEW"


def _id(request: HttpRequest, name: str) -> int:
    raw = request.POST.get(name, "")
    if not (raw.isascii() and raw.isdigit()) or int(raw) > ID_MAX:
        raise ValidationError("Pick an item first.", field=name)
    return int(raw)


def _date(request: HttpRequest, name: str) -> datetime:
    form = DateForm({"disclosure_at": request.POST.get(name, "")})
    if not form.is_valid():
        raise ValidationError("Give a date and a time (UTC).", field=name)
    value: datetime = form.cleaned_data["disclosure_at"]
    return value


def _agree(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    do_agree_date(access, actor=actor, org_slug=request.POST.get("org") or None)
    return "You agreed to the date."


def _allow_short(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    requested = _date(request, "requested")
    reason = request.POST.get("reason", "")
    decision = do_allow_short_embargo(access, requested=requested, reason=reason, actor=actor)
    for notice in decision.warnings:
        messages.warning(request, notice.message)
    when = f"Disclosure set to {decision.decided:%Y-%m-%d %H:%M} UTC"
    if any(notice.code == NoticeCode.SHORT_NOTICE for notice in decision.warnings):
        return f"{when}; participants were told why."
    return f"{when}: it gives the list's usual notice, so no override was needed."


def _confirm(_request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    do_confirm_date(access, actor=actor)
    return "The date is agreed; participants were told."


def _extend(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    requested = _date(request, "requested")
    reason = request.POST.get("reason", "")
    do_request_extension(access, requested=requested, reason=reason, actor=actor)
    return "Extension requested; the case's leads decide."


def _decide(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    grant = request.POST.get("decision") == "grant"
    done = do_decide_extension(
        access,
        _id(request, "request"),
        grant=grant,
        note=request.POST.get("note", ""),
        actor=actor,
    )
    return " ".join(done.decision_reasons) or "Decided."


def _breach(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    do_report_breach(
        access,
        evidence_url=request.POST.get("evidence_url", ""),
        evidence_text=request.POST.get("evidence_text", ""),
        actor=actor,
    )
    return "Reported; the upstream or the coordinator will confirm or dismiss it."


def _confirm_breach(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    note = request.POST.get("note", "")
    advisory = do_confirm_breach(access, _id(request, "breach"), note=note, actor=actor)
    return f"The embargo is over. {advisory.public_id} is public."


def _dismiss_breach(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    note = request.POST.get("note", "")
    do_dismiss_breach(access, _id(request, "breach"), note=note, actor=actor)
    return "Dismissed; the embargo stands."


def _early(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    do_record_early_release(
        access,
        option=request.POST.get("option", ""),
        version=request.POST.get("version", ""),
        actor=actor,
    )
    return "Recorded; participants were warned. The changelog text is below."


def _draft(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    do_edit_advisory_draft(
        access,
        summary=request.POST.get("summary", ""),
        details=request.POST.get("details", ""),
        release_version=request.POST.get("release_version", ""),
        reporter_posts=request.POST.get("reporter_posts") == "on",
        actor=actor,
    )
    return "Advisory draft saved."


def _reserve_cve(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    vulnerability = access_vulnerability(access, request.POST.get("vulnerability", ""))
    cve = reserve_cve(access, vulnerability, actor=actor)
    return f"{cve.cve_id} is reserved for “{vulnerability.title}”."


def _reject_cve(request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    cve = access_cve(access, request.POST.get("cve", ""))
    reason = request.POST.get("reason", "").strip()
    if not reason:
        raise ValidationError("Say why the ID is rejected (it is public).", field="reason")
    reject_cve(access, cve, reason=reason, actor=actor)
    return f"{cve.cve_id} is rejected."


def _publish(_request: HttpRequest, access: CaseAccess, actor: Actor) -> str:
    advisory = do_publish_now(access, actor=actor)
    return f"{advisory.public_id} is public."


def _unknown(_request: HttpRequest, _access: CaseAccess, _actor: Actor) -> str:
    raise ValidationError("Unknown action.")


HANDLERS: dict[str, Handler] = {
    "agree": _agree,
    "confirm-date": _confirm,
    "allow-short": _allow_short,
    "request-extension": _extend,
    "decide-extension": _decide,
    "report-breach": _breach,
    "confirm-breach": _confirm_breach,
    "dismiss-breach": _dismiss_breach,
    "early-release": _early,
    "draft": _draft,
    "publish-now": _publish,
    "reserve-cve": _reserve_cve,
    "reject-cve": _reject_cve,
}


# The weightiest acts ask for a recent second factor (lockstep.signin.second_factor): each
# makes embargoed details public, or ends, shortens or moves an embargo.
WEIGHTY = frozenset({"confirm-breach", "early-release", "publish-now", "allow-short"})


def is_weighty(post: QueryDict) -> bool:
    action = post.get("action", "")
    return action in WEIGHTY or (action == "decide-extension" and post.get("decision") == "grant")


@login_required
@require_POST
@domain_errors
def embargo_action(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    user = request.user
    if is_weighty(request.POST) and isinstance(user, User) and not recently_proven(request, user):
        return reauthenticate(request, user)
    handler = HANDLERS.get(request.POST.get("action", ""), _unknown)
    try:
        messages.success(request, handler(request, access, actor))
    except (ValidationError, Conflict, CveAuthorityError) as exc:
        messages.error(request, exc.message)
    return redirect(f"/cases/{case_id}/#embargo")


@login_required
@require_GET
@domain_errors
def advisory_preview(request: HttpRequest, case_id: int) -> HttpResponse:
    """What publication will produce, from the case as it stands (participants only)."""
    access = access_case_by_id(from_request(request), case_id)
    case = access.case
    when = case.published_at or case.disclosure_at or clock.now()
    snapshot = build_snapshot(case, public_id=PREVIEW_ID, published=when)
    out = render_all(snapshot, version=case.release_version or "the next release")

    def pretty(data: object) -> str:
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)

    context = {
        "case": case,
        "snapshot": snapshot,
        "out": out,
        "documents": [
            ("OSV", pretty(out.osv)),
            ("CVE JSON 5", pretty(list(out.cve_records.values()))),
            ("CSAF 2.0", pretty(out.csaf)),
        ],
    }
    return render(request, "web/cases/advisory_preview.html", context)
