"""The maintainers' inbox: accept (with the routing decision), decline, duplicate, spam."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lockstep.channels.queries import access_routing_channel_by_slug, list_routing_channels
from lockstep.core.actor import from_request
from lockstep.core.errors import LockstepError
from lockstep.embargo.routing import Route
from lockstep.intake.actions import (
    Acceptance,
    do_accept_report,
    do_add_report_message,
    do_decline_report,
    do_mark_duplicate,
    do_mark_spam,
)
from lockstep.intake.models import ReportStatus
from lockstep.intake.queries import (
    access_report_by_id,
    inbox_counts_for,
    list_inbox_for,
    mail_origin_of,
    route_advice_for,
)
from lockstep.web.errors import domain_errors
from lockstep.web.intake_forms import AcceptForm, DeclineForm, DuplicateForm, MessageForm


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    status = request.GET.get("status", ReportStatus.NEW)
    if status not in ReportStatus.values:
        status = ReportStatus.NEW
    project = request.GET.get("project", "")
    reports = list_inbox_for(actor, status=status, project_slug=project or None)
    context = {
        "reports": reports,
        "project": project,
        "counts": inbox_counts_for(actor),
        "status": status,
        "statuses": ReportStatus.choices,
    }
    return render(request, "web/triage/inbox.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    actor = from_request(request)
    report = access_report_by_id(actor, report_id)
    advice = route_advice_for(report)
    private_channels = list(list_routing_channels())
    message_form = MessageForm(request.POST if "message" in request.POST else None)
    if message_form.is_bound and message_form.is_valid():
        do_add_report_message(
            report, body=message_form.cleaned_data["body"], from_reporter=False, actor=actor
        )
        return redirect("web:triage-report", report_id=report.pk)
    context = {
        "report": report,
        "advice": advice,
        "accept_form": AcceptForm(
            initial={
                "route": advice.route.value,
                "disclosure_at": report.proposed_disclosure_at,
                "channel": private_channels[0].slug if private_channels else "",
            }
        ),
        "private_channels": private_channels,
        "message_form": message_form,
        "messages_list": report.messages.order_by("created_at", "id"),
        "attachments": report.attachments.defer("content"),
        "origin": mail_origin_of(report),
    }
    return render(request, "web/triage/report.html", context)


def _back_with_error(request: HttpRequest, report_id: int, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("web:triage-report", report_id=report_id)


@login_required
@require_POST
@domain_errors
def accept(request: HttpRequest, report_id: int) -> HttpResponse:
    actor = from_request(request)
    report = access_report_by_id(actor, report_id)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return _back_with_error(request, report.pk, "Check the route and the date.")
    data = form.cleaned_data
    try:
        channel = access_routing_channel_by_slug(data["channel"]) if data["channel"] else None
        case = do_accept_report(
            report,
            Acceptance(
                route=Route(data["route"]),
                override_reason=data["override_reason"],
                channel=channel,
                disclosure_at=data["disclosure_at"],
            ),
            actor=actor,
        )
    except LockstepError as exc:
        return _back_with_error(request, report.pk, exc.message)
    messages.success(request, "Accepted: the case is open.")
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
@domain_errors
def decline(request: HttpRequest, report_id: int) -> HttpResponse:
    actor = from_request(request)
    report = access_report_by_id(actor, report_id)
    form = DeclineForm(request.POST)
    try:
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        do_decline_report(report, reason=reason, actor=actor)
    except LockstepError as exc:
        return _back_with_error(request, report.pk, exc.message)
    messages.success(request, "Declined; the reporter sees your reason.")
    return redirect("web:triage")


@login_required
@require_POST
@domain_errors
def duplicate(request: HttpRequest, report_id: int) -> HttpResponse:
    actor = from_request(request)
    report = access_report_by_id(actor, report_id)
    form = DuplicateForm(request.POST)
    try:
        if not form.is_valid():
            return _back_with_error(request, report.pk, "Give the original report's number.")
        original = access_report_by_id(actor, form.cleaned_data["original"])
        do_mark_duplicate(report, original=original, actor=actor)
    except LockstepError as exc:
        return _back_with_error(request, report.pk, exc.message)
    messages.success(request, "Marked as a duplicate.")
    return redirect("web:triage")


@login_required
@require_POST
@domain_errors
def spam(request: HttpRequest, report_id: int) -> HttpResponse:
    actor = from_request(request)
    report = access_report_by_id(actor, report_id)
    try:
        do_mark_spam(report, actor=actor)
    except LockstepError as exc:
        return _back_with_error(request, report.pk, exc.message)
    messages.success(request, "Marked as spam.")
    return redirect("web:triage")
