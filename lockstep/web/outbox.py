"""The mail page: the history of case mail sent (each person the copies their access allows:
cases/mail_queries.list_case_mail_for), copies waiting for their next attempt (with the last
error, to send now), held copies to retry or drop, held inbound mail to let through or
discard; in the embedded mode, for operators, what was written to the outbox folder."""

from __future__ import annotations

from email import message_from_binary_file
from email.policy import default
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lockstep.cases.mail_queries import (
    access_held_inbound,
    access_held_mail,
    access_waiting_mail,
    case_ids_seen_by,
    led_case_ids,
    list_case_mail_for,
    list_held_inbound,
    list_mail_for,
    maintained_project_ids,
)
from lockstep.core import clock
from lockstep.core.actor import Actor, from_request
from lockstep.core.errors import Conflict, PermissionDenied
from lockstep.mailgw.models import OutboxStatus
from lockstep.mailgw.outbound.holds import do_drop_held, do_retry_held, do_retry_now
from lockstep.mailin.holds import can_release_held, do_discard_inbound, do_release_inbound
from lockstep.web.errors import domain_errors
from lockstep.web.paging import page_number

FOLDER_SHOWN = 50
WAITING_SHOWN = 200


def _folder_envelopes(folder: Path) -> list[dict[str, str]]:
    """Envelope lines of the newest files in the outbox folder (never their bodies)."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    shown = []
    for path in files[:FOLDER_SHOWN]:
        with path.open("rb") as handle:
            message = message_from_binary_file(handle, policy=default)
        shown.append(
            {
                "to": str(message.get("To", "")),
                "subject": str(message.get("Subject", "")),
                "date": str(message.get("Date", "")),
                "type": message.get_content_type(),
            }
        )
    return shown


def _held_inbound_rows(actor: Actor) -> list[dict[str, object]]:
    """Each held message with what this viewer may do and see: the subject of a case's or a
    project's mail only for its leads or maintainers (embargoed details are need-to-know)."""
    led, maintained = led_case_ids(actor), maintained_project_ids(actor)
    rows = []
    for message in list_held_inbound(actor)[:200]:
        if message.case_id is not None:
            readable = message.case_id in led
        elif message.project_id is not None:
            readable = message.project_id in maintained
        else:
            readable = True
        release = can_release_held(
            message, led_cases=led, maintained=maintained, operator=actor.is_privileged
        )
        rows.append({"m": message, "readable": readable, "release": release})
    return rows


HISTORY_PER_PAGE = 50


def _history(request: HttpRequest, actor: Actor) -> dict[str, object]:
    """A page of the sent-mail history, each copy with whether its subject is the viewer's
    to read (an operator outside a case sees the envelope only)."""
    page = page_number(request, per_page=HISTORY_PER_PAGE, name="sent")
    start = (page - 1) * HISTORY_PER_PAGE
    window = list(list_case_mail_for(actor)[start : start + HISTORY_PER_PAGE + 1])
    shown = window[:HISTORY_PER_PAGE]
    cases = {row.case_id for row in shown if row.case_id is not None}
    readable = case_ids_seen_by(actor, cases)
    return {
        "history": [
            {"m": row, "readable": row.case_id is None or row.case_id in readable} for row in shown
        ],
        "history_page": page,
        "history_more": len(window) > HISTORY_PER_PAGE,
    }


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    waiting = list_mail_for(actor, status=OutboxStatus.QUEUED)
    operator = actor.is_privileged
    folder_mode = not settings.LOCKSTEP_SMTP_URL
    context = {
        "now": clock.now(),
        "max_attempts": settings.LOCKSTEP_MAIL_MAX_ATTEMPTS,
        "waiting": waiting.order_by("next_attempt_at", "id")[:WAITING_SHOWN],
        "held": list_mail_for(actor, status="held")[:200],
        "dropped": list_mail_for(actor, status="dropped")[:50],
        "held_inbound": _held_inbound_rows(actor),
        "queued": waiting.count(),
        "folder_mode": folder_mode,
        "is_operator": operator,
        # A path on the server is the operator's business only.
        "folder": settings.LOCKSTEP_OUTBOX_DIR if operator else "",
        "files": _folder_envelopes(Path(settings.LOCKSTEP_OUTBOX_DIR))
        if operator and folder_mode
        else [],
        **_history(request, actor),
    }
    return render(request, "web/outbox.html", context)


@login_required
@require_POST
@domain_errors
def decide(request: HttpRequest, row_id: int) -> HttpResponse:
    actor = from_request(request)
    row = access_held_mail(actor, row_id)
    try:
        if request.POST.get("action") == "drop":
            do_drop_held(row, actor=actor)
            messages.success(request, f"Dropped the copy to {row.to_address}.")
        else:
            do_retry_held(row, actor=actor)
            messages.success(request, f"The copy to {row.to_address} will be sent again.")
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, exc.message)
    return redirect("web:outbox")


@login_required
@require_POST
@domain_errors
def retry_now(request: HttpRequest, row_id: int) -> HttpResponse:
    actor = from_request(request)
    row = access_waiting_mail(actor, row_id)
    try:
        do_retry_now(row, actor=actor)
        messages.success(request, f"The copy to {row.to_address} will be attempted now.")
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("web:outbox")


@login_required
@require_POST
@domain_errors
def decide_inbound(request: HttpRequest, message_id: int) -> HttpResponse:
    actor = from_request(request)
    message = access_held_inbound(actor, message_id)
    sender = message.from_header or message.mail_from or "an unknown sender"
    try:
        if request.POST.get("action") == "discard":
            do_discard_inbound(message, actor=actor)
            messages.success(request, f"Discarded the message from {sender}.")
        else:
            done = do_release_inbound(message, actor=actor)
            where = f"case {done.case_id}" if done.route == "post" else done.route or "its place"
            messages.success(request, f"The message from {sender} went through to {where}.")
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, exc.message)
    return redirect("web:outbox")
