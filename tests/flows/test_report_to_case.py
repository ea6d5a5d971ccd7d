"""A report becomes a case: intake, triage decisions, the case's participants and date."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.opening import do_set_disclosure_date
from lockstep.cases.actions.participants import (
    do_invite_channel,
    do_mark_seen,
    do_remove_participant,
    do_set_status,
)
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import ParticipantRole, Status
from lockstep.cases.queries import (
    access_case_by_id,
    not_responded,
    status_matrix,
    status_summary,
)
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.embargo.routing import Route
from lockstep.intake.actions import (
    Acceptance,
    ReportInput,
    do_accept_report,
    do_decline_report,
    do_mark_duplicate,
    do_mark_spam,
    do_submit_report,
)
from lockstep.intake.models import Report, ReportStatus
from lockstep.intake.queries import access_report_by_id, access_report_by_token, list_inbox_for
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, build_case_world, disclosure_in

pytestmark = pytest.mark.django_db


def test_submission_is_stored_acknowledged_and_only_the_token_hash_is_kept() -> None:
    world = build_case_world(accept=False)
    report, token = world.submitted.report, world.submitted.token
    assert len(token) >= 40
    assert token not in report.token_hash
    assert access_report_by_token(token) == report
    with pytest.raises(NotFound):
        access_report_by_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert [m.kind for m in report.messages.all()] == ["system"]
    assert "received by the libquokka maintainers" in report.messages.get().body
    assert AuditEvent.objects.filter(tag="report:report:submitted").count() == 1
    assert list(list_inbox_for(actor_for(world.maintainer))) == [report]
    assert list(list_inbox_for(actor_for(world.vendor_user))) == []


def test_bad_reports_get_clear_errors_and_nothing_is_stored() -> None:
    world = build_case_world(accept=False)
    before = Report.objects.count()
    for data, field in [
        (ReportInput(title=" ", description="x"), "title"),
        (ReportInput(title="t", description=" "), "description"),
        (ReportInput(title="t", description="d", already_public=True), "public_url"),
        (
            ReportInput(title="t", description="d", proposed_disclosure_at=clock.now()),
            "proposed_disclosure_at",
        ),
    ]:
        with pytest.raises(ValidationError) as caught:
            do_submit_report(world.project, data, actor=Actor.anonymous())
        assert caught.value.field == field
    assert Report.objects.count() == before


def test_accept_opens_a_need_to_know_case() -> None:
    world = build_case_world()
    case = world.case
    assert case.route == Route.PRIVATE_COORDINATION
    seats = {p.org.slug: p.role for p in case.participants.select_related("org")}
    assert seats == {
        world.upstream.slug: ParticipantRole.UPSTREAM,
        world.coordinator_org.slug: ParticipantRole.COORDINATOR,
        "northwind": ParticipantRole.VENDOR,
    }
    assert case.disclosure_at is not None
    assert case.embargo_started_at is not None
    assert case.disclosure_at - case.embargo_started_at <= timedelta(days=14)
    report = Report.objects.get(pk=world.submitted.report.pk)
    assert report.status == ReportStatus.ACCEPTED
    assert report.case == case
    first = case.posts.get()
    assert "Heap overflow in inflate()" in first.body_html
    assert "accepted this report" in report.messages.order_by("-id").first().body  # type: ignore[union-attr]


def test_public_report_goes_to_the_public_list_and_override_needs_a_reason() -> None:
    world = build_case_world(accept=False)
    public = do_submit_report(
        world.project,
        ReportInput(
            title="Known bug",
            description="d",
            already_public=True,
            public_url="https://tracker.example/1",
        ),
        actor=Actor.anonymous(),
    ).report
    case = do_accept_report(public, Acceptance(), actor=SYSTEM)
    assert case.route == Route.PUBLIC_LIST
    assert case.channel is None
    assert case.disclosure_at is None
    with pytest.raises(ValidationError, match="Say why"):
        do_accept_report(
            world.submitted.report,
            Acceptance(route=Route.DIRECT_RELEASE, channel=world.channel),
            actor=SYSTEM,
        )
    overridden = do_accept_report(
        world.submitted.report,
        Acceptance(route=Route.DIRECT_RELEASE, override_reason="Only we ship it really."),
        actor=SYSTEM,
    )
    assert overridden.route_overridden is True
    assert overridden.override_reason == "Only we ship it really."
    event = AuditEvent.objects.filter(tag="case:case:opened").order_by("-seq").first()
    assert event is not None
    assert event.data["overridden"] is True


def test_private_route_needs_a_private_list() -> None:
    world = build_case_world(accept=False)
    with pytest.raises(ValidationError, match="private list"):
        do_accept_report(world.submitted.report, Acceptance(), actor=SYSTEM)
    assert Report.objects.get(pk=world.submitted.report.pk).status == ReportStatus.NEW


def test_decline_duplicate_spam_and_no_second_decision() -> None:
    world = build_case_world(accept=False)
    report = world.submitted.report
    with pytest.raises(ValidationError, match="Say why"):
        do_decline_report(report, reason=" ", actor=SYSTEM)
    declined = do_decline_report(report, reason="Works as designed.", actor=SYSTEM)
    assert declined.status == ReportStatus.DECLINED
    assert "Works as designed." in declined.messages.order_by("-id").first().body  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="already triaged"):
        do_mark_spam(report, actor=SYSTEM)
    second = do_submit_report(
        world.project, ReportInput(title="Same", description="again"), actor=Actor.anonymous()
    ).report
    with pytest.raises(ValidationError):
        do_mark_duplicate(second, original=second, actor=SYSTEM)
    assert do_mark_duplicate(second, original=report, actor=SYSTEM).duplicate_of == report
    third = do_submit_report(
        world.project, ReportInput(title="Buy now", description="spam"), actor=Actor.anonymous()
    ).report
    assert do_mark_spam(third, actor=SYSTEM).status == ReportStatus.SPAM
    with pytest.raises(NotFound):
        access_report_by_id(actor_for(world.vendor_user), third.pk)


def test_dates_are_checked_by_the_list_policy() -> None:
    world = build_case_world()
    lead = access_case_by_id(actor_for(world.maintainer), world.case.pk)
    decision = do_set_disclosure_date(
        lead, requested=disclosure_in(30), actor=actor_for(world.maintainer)
    )
    assert decision.outcome == "shortened"
    assert decision.reasons
    world.case.refresh_from_db()
    assert world.case.disclosure_at == decision.decided
    vendor = access_case_by_id(actor_for(world.vendor_user), world.case.pk)
    with pytest.raises(PermissionDenied):
        do_set_disclosure_date(
            vendor, requested=disclosure_in(5), actor=actor_for(world.vendor_user)
        )


def test_statuses_tell_no_response_from_not_affected() -> None:
    world = build_case_world()
    lead_actor = actor_for(world.maintainer)
    lead = access_case_by_id(lead_actor, world.case.pk)
    do_invite_channel(lead, actor=lead_actor)
    vuln = do_add_vulnerability(
        lead,
        VulnerabilityInput(
            title="Overflow",
            cwe="787",
            cvss3="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            affected=[
                {"purl": "pkg:pypi/libquokka", "ranges": [{"introduced": "0", "fixed": "1.2"}]}
            ],
        ),
        actor=lead_actor,
    )
    assert (vuln.cwe, str(vuln.cvss3_score)) == ("CWE-787", "9.8")
    vendor_actor = actor_for(world.vendor_user)
    vendor = access_case_by_id(vendor_actor, world.case.pk)
    do_set_status(
        vendor,
        vendor.seats[0],
        vuln,
        status=Status.NOT_AFFECTED,
        actor=vendor_actor,
    )
    rows = {row.participant.org.slug: row for row in status_matrix(world.case, [vuln])}
    assert rows["northwind"].cells[0].status == "not_affected"
    assert rows["bluefin"].cells[0].status is None
    assert rows["bluefin"].cells[0].label == "No response yet"
    waiting = [seat.org.slug for seat in not_responded(world.case, 1)]
    assert waiting == ["bluefin"]
    summary = status_summary(world.case, [vuln])[0].counts
    assert summary == {"affected": 0, "not_affected": 1, "fix_ready": 0, "published": 0, "none": 3}
    page = status_matrix(world.case, [vuln], offset=1, limit=2)
    assert len(page) == 2
    only_waiting = status_matrix(world.case, [vuln], waiting_only=True)
    assert [row.participant.org.slug for row in only_waiting] == ["bluefin"]
    other = access_case_by_id(actor_for(world.listed_only_user), world.case.pk)
    with pytest.raises(PermissionDenied):
        do_set_status(
            other,
            vendor.seats[0],
            vuln,
            status=Status.AFFECTED,
            actor=actor_for(world.listed_only_user),
        )


def test_participants_seen_posts_and_removal() -> None:
    world = build_case_world()
    vendor_actor = actor_for(world.vendor_user)
    vendor = access_case_by_id(vendor_actor, world.case.pk)
    assert do_mark_seen(vendor, actor=vendor_actor) == 1
    again = access_case_by_id(vendor_actor, world.case.pk)
    assert do_mark_seen(again, actor=vendor_actor) == 0
    post = do_add_post(again, body="Patch attached <script>x</script>", actor=vendor_actor)
    assert "<script>" not in post.body_html
    assert post.author_org == world.vendor
    with pytest.raises(NotFound):
        access_case_by_id(actor_for(world.outsider_user), world.case.pk)
    with pytest.raises(NotFound):
        access_case_by_id(Actor.anonymous(), world.case.pk)
    lead = access_case_by_id(actor_for(world.maintainer), world.case.pk)
    upstream_seat = world.case.participants.get(role=ParticipantRole.UPSTREAM)
    with pytest.raises(PermissionDenied):
        do_remove_participant(lead, upstream_seat, actor=actor_for(world.maintainer))
    do_remove_participant(lead, vendor.seats[0], actor=actor_for(world.maintainer))
    with pytest.raises(NotFound):
        access_case_by_id(vendor_actor, world.case.pk)
    tags = list(AuditEvent.objects.filter(object_type="case").values_list("tag", flat=True))
    assert tags.count("case:participant:seen") == 1
    assert tags[-1] == "case:participant:removed"
