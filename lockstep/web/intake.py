"""The public report form and the reporter's private tracking page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from lockstep.advisories.actions.reporter_post import do_reporter_posted
from lockstep.advisories.queries import reporter_duty
from lockstep.cases.queries import list_reporter_posts, list_vulnerabilities
from lockstep.core import clock
from lockstep.core.actor import Actor, from_request
from lockstep.core.errors import LockstepError, RateLimited
from lockstep.core.links import tracking_url
from lockstep.intake.actions import do_add_report_message, do_add_reporter_post, do_submit_report
from lockstep.intake.models import Report
from lockstep.intake.queries import access_report_by_token, list_report_files
from lockstep.mailin.floods import may_acknowledge
from lockstep.ops.client import client_address
from lockstep.ops.ratelimit import check_rate
from lockstep.projects.queries import access_project_by_slug, list_projects_for
from lockstep.web.errors import domain_errors
from lockstep.web.intake_forms import MessageForm, PostForm, ReportForm
from lockstep.web.uploads import read_uploads

HOUR = 3600


def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = render(
        request, "web/rate_limited.html", {"retry_after": exc.retry_after}, status=429
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@require_http_methods(["GET"])
def choose_project(request: HttpRequest) -> HttpResponse:
    projects = list_projects_for(from_request(request))
    return render(request, "web/intake/choose.html", {"projects": projects})


@require_http_methods(["GET", "POST"])
@domain_errors
def report_form(request: HttpRequest, slug: str) -> HttpResponse:
    actor = from_request(request)
    project = access_project_by_slug(actor, slug)
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = f"report:{client_address(request)}"
            check_rate(
                key, limit=settings.LOCKSTEP_REPORT_RATE, window_seconds=HOUR, now=clock.now()
            )
            email = form.cleaned_data["reporter_email"]
            submitted = do_submit_report(
                project,
                form.to_input(),
                files=read_uploads(form.cleaned_data["attachments"]),
                submitted_by=actor.user_id,
                receipt=bool(email) and may_acknowledge(email, now=clock.now()),
                actor=actor,
            )
        except RateLimited as exc:
            return _rate_limited(request, exc)
        except LockstepError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            request.session["fresh_report"] = submitted.report.pk
            return redirect("web:track", token=submitted.token)
    status = 400 if form.errors else 200
    return render(
        request, "web/intake/report.html", {"project": project, "form": form}, status=status
    )


def _public_post(request: HttpRequest, report: Report, token: str, actor: Actor) -> HttpResponse:
    """The reporter posted the details to the public list (a link), or asks Lockstep to."""
    try:
        do_reporter_posted(report, url=request.POST.get("url", ""), actor=actor)
    except LockstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Thank you: the public post is recorded.")
    return redirect("web:track", token=token)


def _track_context(
    report: Report, token: str, *, message_form: MessageForm, post_form: PostForm
) -> dict[str, object]:
    return {
        "report": report,
        "token": token,
        "files": list_report_files(report),
        "messages_list": report.messages.select_related("author").order_by("created_at", "id"),
        "case": report.case,
        "posts": list_reporter_posts(report.case) if report.case else [],
        "vulnerabilities": list_vulnerabilities(report.case) if report.case else [],
        "message_form": message_form,
        "post_form": post_form,
        "tracking_url": tracking_url(token),
        "public_post_duty": reporter_duty(report),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@domain_errors
def track(request: HttpRequest, token: str) -> HttpResponse:
    """Everything the reporter may see, and nothing else: their report and its case."""
    report = access_report_by_token(token)
    actor = Actor.reporter(report.pk)
    message_form = MessageForm(None)
    post_form = PostForm(None)
    if request.method == "POST":
        if "public-post" in request.POST:
            return _public_post(request, report, token, actor)
        if "post" in request.POST:
            post_form = PostForm(request.POST, request.FILES)
            if post_form.is_valid():
                try:
                    do_add_reporter_post(
                        report,
                        body=post_form.cleaned_data["body"],
                        files=read_uploads(post_form.cleaned_data["attachments"]),
                        actor=actor,
                    )
                except LockstepError as exc:
                    post_form.add_error(None, exc.message)
                else:
                    return redirect("web:track", token=token)
        else:
            message_form = MessageForm(request.POST)
            if message_form.is_valid():
                do_add_report_message(
                    report, body=message_form.cleaned_data["body"], from_reporter=True, actor=actor
                )
                return redirect("web:track", token=token)
    fresh = request.session.pop("fresh_report", None) == report.pk
    if fresh:
        messages.success(request, "Report received. Keep this page's address: it is your only key.")
    context = _track_context(report, token, message_form=message_form, post_form=post_form)
    response = render(request, "web/intake/track.html", context)
    # The token is in this page's address. Other sites get no Referer from it at all; this
    # site's own forms get a real Origin (with "no-referrer" browsers send `Origin: null`,
    # and Django's CSRF check refuses every post from the page).
    response["Referrer-Policy"] = "same-origin"
    return response
