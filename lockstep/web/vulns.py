"""A case's vulnerabilities: add, edit and delete, for the case's leads (web/vuln_form.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from lockstep.advisories.formats.cwe import CWE_NAMES
from lockstep.advisories.versions import ECOSYSTEMS
from lockstep.cases.actions.vulns import (
    do_add_vulnerability,
    do_change_vulnerability,
    do_delete_vulnerability,
)
from lockstep.cases.affected import EventKind, RangeType
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import CaseAccess, access_case_by_id, access_vulnerability
from lockstep.cases.vulndata import CreditType, ReferenceType
from lockstep.core.actor import from_request
from lockstep.core.errors import Conflict, PermissionDenied, ValidationError
from lockstep.projects.queries import package_purls
from lockstep.web.errors import domain_errors
from lockstep.web.vuln_form import PURL, VulnForm

EVENT_LABELS = {
    EventKind.INTRODUCED: "introduced",
    EventKind.FIXED: "fixed",
    EventKind.LAST_AFFECTED: "last affected",
    EventKind.LIMIT: "limit",
}
RANGE_LABELS = {
    RangeType.ECOSYSTEM: "The package's own version order",
    RangeType.SEMVER: "SemVer 2.0 (no leading v)",
    RangeType.GIT: "Git commits (full hashes)",
}


def _label(value: str) -> str:
    """ "REMEDIATION_DEVELOPER" -> "Remediation developer"."""
    return value.replace("_", " ").capitalize()


def _lead(request: HttpRequest, case_id: int) -> CaseAccess:
    access = access_case_by_id(from_request(request), case_id)
    if not access.can_lead:
        msg = "Only the upstream team or the coordinator can do this in a case."
        raise PermissionDenied(msg)
    return access


def _room(case_id: int) -> HttpResponse:
    return redirect(reverse("web:case", args=[case_id]) + "#vulnerabilities")


def _page(
    request: HttpRequest, access: CaseAccess, form: VulnForm, vulnerability: Vulnerability | None
) -> HttpResponse:
    context = {
        "case": access.case,
        "form": form,
        "vulnerability": vulnerability,
        "ecosystems": [eco.osv for eco in ECOSYSTEMS],
        "purl_choice": PURL,
        "event_kinds": list(EVENT_LABELS.items()),
        "range_types": list(RANGE_LABELS.items()),
        "reference_types": [(t.value, _label(t.value)) for t in ReferenceType],
        "credit_types": [(t.value, _label(t.value)) for t in CreditType],
        "cwes": sorted(CWE_NAMES.items(), key=lambda item: int(item[0][4:])),
    }
    return render(request, "web/cases/vulnerability_form.html", context)


def _posted(request: HttpRequest, access: CaseAccess) -> tuple[VulnForm, bool]:
    """The form as posted; True if a `more` button asked for another row (nothing to save)."""
    form = VulnForm.from_post(request.POST, package_purls(access.case.project_id))
    more = request.POST.get("more", "")
    if more:
        form.add_row(more)
    return form, bool(more)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def add_vulnerability(request: HttpRequest, case_id: int) -> HttpResponse:
    access = _lead(request, case_id)
    if request.method == "GET":
        return _page(request, access, VulnForm.blank(package_purls(access.case.project_id)), None)
    form, more = _posted(request, access)
    if more:
        return _page(request, access, form, None)
    try:
        do_add_vulnerability(access, form.to_input(), actor=from_request(request))
    except (ValidationError, Conflict) as exc:
        form.show_errors(exc)
        return _page(request, access, form, None)
    messages.success(request, "Vulnerability added.")
    return _room(case_id)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def edit_vulnerability(request: HttpRequest, case_id: int, vuln_id: int) -> HttpResponse:
    access = _lead(request, case_id)
    vulnerability = access_vulnerability(access, vuln_id)
    if request.method == "GET":
        form = VulnForm.of(vulnerability, package_purls(access.case.project_id))
        return _page(request, access, form, vulnerability)
    form, more = _posted(request, access)
    if more:
        return _page(request, access, form, vulnerability)
    try:
        do_change_vulnerability(access, vuln_id, form.to_input(), actor=from_request(request))
    except (ValidationError, Conflict) as exc:
        form.show_errors(exc)
        return _page(request, access, form, vulnerability)
    messages.success(request, "Vulnerability saved.")
    return _room(case_id)


@login_required
@require_POST
@domain_errors
def delete_vulnerability(request: HttpRequest, case_id: int, vuln_id: int) -> HttpResponse:
    actor = from_request(request)
    access = access_case_by_id(actor, case_id)
    try:
        do_delete_vulnerability(access, vuln_id, actor=actor)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Vulnerability deleted.")
    return _room(case_id)
