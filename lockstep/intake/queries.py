"""Reads of reports: the reporter by token, maintainers by project."""

from __future__ import annotations

import hashlib

from django.db.models import Count, Q, QuerySet

from lockstep.cases.queries import CaseAccess
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound
from lockstep.embargo.routing import RoutingDecision, decide_route
from lockstep.intake.models import Report, ReportAttachment, ReportStatus
from lockstep.mailgw.models import InboundMessage
from lockstep.orgs.queries import org_ids_of
from lockstep.projects.queries import routing_facts_for

NOT_FOUND = "No such report."
NO_FILE = "No such file."
TOKEN_MAX = 128


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def access_report_by_token(token: str) -> Report:
    """The reporter's own report, proven by the tracking token; nothing else."""
    if not token or len(token) > TOKEN_MAX:
        raise NotFound(NOT_FOUND)
    report = (
        Report.objects.select_related("project", "case", "case__channel")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if report is None:
        raise NotFound(NOT_FOUND)
    return report


def _triageable(actor: Actor) -> QuerySet[Report]:
    """Reports of projects whose upstream team the actor belongs to."""
    return Report.objects.filter(project__upstream_id__in=org_ids_of(actor))


def access_report_by_id(actor: Actor, report_id: int) -> Report:
    """A report, for members of the project's upstream team; NotFound for anyone else."""
    report = (
        _triageable(actor)
        .select_related("project", "project__upstream", "case", "duplicate_of")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise NotFound(NOT_FOUND)
    return report


def list_inbox_for(
    actor: Actor, *, status: str | None = ReportStatus.NEW, project_slug: str | None = None
) -> QuerySet[Report]:
    reports = (
        _triageable(actor).select_related("project").annotate(attachment_count=Count("attachments"))
    )
    if status:
        reports = reports.filter(status=status)
    if project_slug:
        reports = reports.filter(project__slug=project_slug)
    return reports.order_by("-submitted_at")


def inbox_counts_for(actor: Actor) -> dict[str, int]:
    counts = _triageable(actor).aggregate(
        **{s.value: Count("pk", filter=Q(status=s.value)) for s in ReportStatus}
    )
    return {key: int(value) for key, value in counts.items()}


def mail_origin_of(report: Report) -> InboundMessage | None:
    """The message a report by mail came from (for what its signature proved), if any; call it
    only with a report the caller already may see."""
    return InboundMessage.objects.filter(report_id=report.pk).defer("raw").first()


def route_advice_for(report: Report) -> RoutingDecision:
    """Lockstep's routing decision for a report: what triage shows, and what accepting it
    follows unless the maintainers override it (with a reason)."""
    facts = routing_facts_for(
        report.project, already_public=report.already_public, public_where=report.public_url
    )
    return decide_route(facts)


# The files a reporter sends stay with the report, one copy, whatever becomes of it: the
# reporter reads them with the tracking token, triage with the report, and once the report is
# accepted the case's participants in the case room (its gatekeeper's `CaseAccess`).


def list_report_files(report: Report) -> QuerySet[ReportAttachment]:
    """The report's files, without their content; call it with a report the caller may see."""
    return ReportAttachment.objects.filter(report=report).defer("content").order_by("id")


def access_report_file(report: Report, file_id: int) -> ReportAttachment:
    """One of the report's files, for whoever may see the report (the reporter by token)."""
    found = ReportAttachment.objects.filter(report=report, pk=file_id).first()
    if found is None:
        raise NotFound(NO_FILE)
    return found


def list_case_report_files(access: CaseAccess) -> QuerySet[ReportAttachment]:
    """The files of the report the case came from, for its participants (none otherwise)."""
    return ReportAttachment.objects.filter(report__case=access.case).defer("content").order_by("id")


def access_case_report_file(access: CaseAccess, file_id: int) -> ReportAttachment:
    found = ReportAttachment.objects.filter(report__case=access.case, pk=file_id).first()
    if found is None:
        raise NotFound(NO_FILE)
    return found
