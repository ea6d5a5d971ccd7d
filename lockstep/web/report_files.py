"""The files a reporter sent with their report: one copy, kept with the report.

The reporter downloads them from the tracking page (the token is the key), the project's
maintainers from triage (`access_report_by_id`), the case's participants from the case room
once the report is accepted (`access_case_by_id` first, as for the case's own attachments).
Every answer is private and never cached.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lockstep.cases.queries import access_case_by_id
from lockstep.core.actor import from_request
from lockstep.intake.models import ReportAttachment
from lockstep.intake.queries import (
    access_case_report_file,
    access_report_by_id,
    access_report_by_token,
    access_report_file,
)
from lockstep.web.downloads import content_disposition
from lockstep.web.errors import domain_errors


def _download(found: ReportAttachment) -> HttpResponse:
    response = HttpResponse(bytes(found.content), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition(found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_GET
@domain_errors
def reporter_file(request: HttpRequest, token: str, file_id: int) -> HttpResponse:  # noqa: ARG001 - Django passes it
    """The reporter's own file, by the tracking token (no account)."""
    report = access_report_by_token(token)
    response = _download(access_report_file(report, file_id))
    response["Referrer-Policy"] = "same-origin"  # the token is in this address too
    return response


@login_required
@require_GET
@domain_errors
def case_report_file(request: HttpRequest, case_id: int, file_id: int) -> HttpResponse:
    """A file of the report the case came from, for the case's participants."""
    access = access_case_by_id(from_request(request), case_id)
    return _download(access_case_report_file(access, file_id))


@login_required
@require_GET
@domain_errors
def triage_file(request: HttpRequest, report_id: int, file_id: int) -> HttpResponse:
    """A file of a report, for the maintainers who triage it."""
    report = access_report_by_id(from_request(request), report_id)
    return _download(access_report_file(report, file_id))
