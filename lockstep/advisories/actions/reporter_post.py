"""The reporter posts the details to the public list themselves (`Case.reporter_posts`):
they are asked at publication, confirm with a link (or ask Lockstep to post now), and after
the grace period Lockstep posts for a reporter who stayed silent."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from lockstep.advisories.actions.announcement import post_to_list
from lockstep.advisories.emails import reporter_post_request
from lockstep.advisories.models import Advisory
from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case
from lockstep.cases.actions.posts import announce
from lockstep.cases.models import Case
from lockstep.channels.models import PublicPost
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, ValidationError
from lockstep.intake.models import MessageKind, Report, ReportMessage
from lockstep.mailgw.outbound.outbox import Recipient, fan_out


def ask_reporter(advisory: Advisory, report: Report, *, now: datetime) -> None:
    """The reporter is to post the details: give them the text, and a deadline after which
    Lockstep posts it for them."""
    grace = timedelta(minutes=settings.LOCKSTEP_REPORTER_POST_GRACE_MINUTES)
    advisory.reporter_post_due_at = now + grace
    advisory.save(update_fields=["reporter_post_due_at"])
    request = reporter_post_request(advisory)
    ReportMessage.objects.create(
        report=report, kind=MessageKind.SYSTEM, body=request.body, created_at=now
    )
    if report.reporter_email:
        fan_out(request, [Recipient(report.reporter_email)])


@transaction.atomic
def do_post_for_silent_reporter(advisory_id: int, *, actor: Actor) -> PublicPost | None:
    """The reporter was to post the details and has not confirmed in time: Lockstep posts."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory_id)
    due = advisory.reporter_post_due_at
    if advisory.public_post_id or advisory.reporter_posted_url or due is None or due > clock.now():
        return None
    post = post_to_list(advisory, actor=actor)
    case = Case.objects.get(pk=advisory.case_id)
    announce(
        case, "The reporter did not post the details in time; Lockstep posted them.", actor=actor
    )
    return post


@transaction.atomic
def do_reporter_posted(report: Report, *, url: str, actor: Actor) -> Advisory:
    """The reporter confirms: they posted the details at `url`, or (no url) Lockstep should
    post them now in their name."""
    advisory = (
        Advisory.objects.select_for_update().filter(case_id=report.case_id).first()
        if report.case_id is not None
        else None
    )
    if advisory is None or advisory.reporter_post_due_at is None:
        raise Conflict("There is nothing for you to post yet.")
    if advisory.public_post_id or advisory.reporter_posted_url:
        raise Conflict("The details are posted already.")
    link = url.strip()
    if link and not link.startswith(("http://", "https://")):
        raise ValidationError("Give the http(s) link to your post.", field="url")
    if link:
        advisory.reporter_posted_url = link[:2048]
        advisory.save(update_fields=["reporter_posted_url"])
    else:
        post_to_list(advisory, actor=actor)
    record_case(CaseTag.REPORTER_POSTED, advisory.case, actor=actor, data={"url": link or None})
    return advisory
