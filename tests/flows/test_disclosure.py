"""Disclosure: publication at the exact date and never before, on every public path; exactly
once; embargo broken; extensions; early release; reminders; the reporter's public post."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django_tasks_db.models import DBTaskResult

from lockstep.advisories.actions.breach import do_confirm_breach
from lockstep.advisories.actions.publication import do_publish_due
from lockstep.advisories.actions.reporter_post import (
    do_post_for_silent_reporter,
    do_reporter_posted,
)
from lockstep.advisories.models import Advisory
from lockstep.advisories.tasks import (
    after_publication,
    catch_up,
    plan_case,
    post_for_silent_reporter,
    publish_at_date,
    send_due_reminder,
)
from lockstep.audit.models import AuditEvent
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
from lockstep.cases.actions.participants import do_set_status
from lockstep.cases.actions.reminders import do_send_reminder
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Case, Reminder, RequestState, Status
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.models import ChannelKind, PublicPost
from lockstep.core.errors import Conflict, PermissionDenied, ValidationError
from lockstep.core.links import case_url
from lockstep.embargo.reminders import Kind
from lockstep.intake.models import MessageKind, Report, ReportMessage
from lockstep.mailgw.models import OutboundMessage, Protection
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.world import ChannelFactory

pytestmark = pytest.mark.django_db

DATE = datetime.fromisoformat("2026-12-01T14:00:00+00:00")
BEFORE = "2026-12-01 13:59:59+00:00"
AT = "2026-12-01 14:00:00+00:00"
START = "2026-11-25 10:00:00+00:00"

AFFECTED = [{"purl": "pkg:pypi/libquokka", "ranges": [{"introduced": "0", "fixed": "1.4.2"}]}]


def _world(*, reporter_posts: bool = False) -> CaseWorld:
    ChannelFactory(
        name="oss-security",
        slug="oss-security",
        kind=ChannelKind.PUBLIC,
        policy=None,
    )
    with time_machine.travel(START, tick=False):
        world = build_case_world()
        lead = actor_for(world.maintainer)
        access = access_case_by_id(lead, world.case.pk)
        do_add_vulnerability(
            access,
            VulnerabilityInput(
                title="Heap overflow in quokka_inflate()",
                description="A crafted stream overflows the window buffer.",
                cwe="CWE-787",
                cvss3="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                affected=AFFECTED,
                credits=[{"name": "Rita Researcher", "type": "FINDER"}],
            ),
            actor=lead,
        )
        do_edit_advisory_draft(
            access,
            summary="libquokka before 1.4.2 overflows a heap buffer on crafted input.",
            details="quokka_inflate() trusts the window size from the stream header.",
            release_version="1.4.2",
            reporter_posts=reporter_posts,
            actor=lead,
        )
        Case.objects.filter(pk=world.case.pk).update(disclosure_at=DATE)
        world.case.refresh_from_db()
    return world


def _public_paths(client: Client) -> dict[str, Any]:
    """What an anonymous visitor sees on every public path, right now."""
    query = {"package": {"ecosystem": "PyPI", "name": "libquokka"}, "version": "1.4.1"}
    answer = client.post("/api/v1/query", json.dumps(query), content_type="application/json")
    return {
        "list": client.get("/advisories/").content.decode(),
        "page": client.get("/advisories/LOCKSTEP-2026-0001/").status_code,
        "osv": client.get("/advisories/LOCKSTEP-2026-0001.osv.json").status_code,
        "csaf": client.get("/advisories/LOCKSTEP-2026-0001.csaf.json").status_code,
        "txt": client.get("/advisories/LOCKSTEP-2026-0001.txt").status_code,
        "api": client.get("/api/v1/advisories").json(),
        "api_one": client.get("/api/v1/advisories/LOCKSTEP-2026-0001").status_code,
        "feed": client.get("/advisories/feed.atom").content.decode(),
        "archive_feed": client.get("/archive/feed.atom").content.decode(),
        "search": client.get("/search/", {"q": "quokka_inflate"}).content.decode(),
        "query": answer.json(),
    }


def test_nothing_public_before_the_date_everything_at_it_and_only_once(client: Client) -> None:
    world = _world()
    with time_machine.travel(BEFORE, tick=False):
        assert do_publish_due(world.case.pk, actor=actor_for(world.maintainer)) is None
        seen = _public_paths(client)
        assert "quokka" not in seen["list"].lower()
        assert (seen["page"], seen["osv"], seen["csaf"], seen["txt"], seen["api_one"]) == (
            404,
            404,
            404,
            404,
            404,
        )
        assert seen["api"] == []
        assert "quokka" not in seen["feed"].lower() + seen["archive_feed"].lower()
        assert "LOCKSTEP-2026" not in seen["search"]
        assert seen["query"] == {"vulns": []}
    with time_machine.travel(AT, tick=False):
        assert catch_up.call() == {"published": 1, "reminded": 0, "posted": 0}
        assert catch_up.call()["published"] == 0  # exactly once
        assert do_publish_due(world.case.pk, actor=actor_for(world.maintainer)) is None
        seen = _public_paths(client)
        assert (seen["page"], seen["osv"], seen["csaf"], seen["txt"], seen["api_one"]) == (
            200,
            200,
            200,
            200,
            200,
        )
        assert "LOCKSTEP-2026-0001" in seen["list"]
        assert [a["id"] for a in seen["api"]] == ["LOCKSTEP-2026-0001"]
        assert "LOCKSTEP-2026-0001" in seen["feed"]
        assert "LOCKSTEP-2026-0001" in seen["search"]
        assert [v["id"] for v in seen["query"]["vulns"]] == ["x_LOCKSTEP-2026-0001"]
        fixed = {"package": {"purl": "pkg:pypi/libquokka@1.4.2"}}
        answer = client.post("/api/v1/query", json.dumps(fixed), content_type="application/json")
        assert answer.json() == {"vulns": []}
    assert Advisory.objects.count() == 1
    advisory = Advisory.objects.get()
    case = Case.objects.get(pk=world.case.pk)
    assert (case.published_at, case.end_reason, advisory.published_at) == (DATE, "date", DATE)
    post = PublicPost.objects.get()
    assert post.channel.slug == "oss-security"
    assert "quokka_inflate() trusts the window size" in post.body  # the details, inline
    assert "1.4.2" in advisory.changelog
    assert AuditEvent.objects.filter(tag="case:case:published").count() == 1
    room_posts = list(case.posts.values_list("body", flat=True))
    assert any("within 7 days" in body for body in room_posts)


def test_the_date_task_is_planned_and_a_moved_date_does_not_publish_early(client: Client) -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        plan_case(world.case.pk)
    planned = DBTaskResult.objects.filter(task_path__endswith="publish_at_date")
    assert [row.run_after for row in planned] == [DATE]
    with time_machine.travel(START, tick=False):
        Case.objects.filter(pk=world.case.pk).update(disclosure_at=DATE + timedelta(days=1))
    with time_machine.travel(AT, tick=False):
        assert do_publish_due(world.case.pk, actor=actor_for(world.maintainer)) is None
    assert client.get("/advisories/LOCKSTEP-2026-0001/").status_code == 404


def test_extension_is_decided_within_the_policy_and_announced() -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        vendor = actor_for(world.vendor_user)
        vendor_access = access_case_by_id(vendor, world.case.pk)
        with pytest.raises(ValidationError, match="Say why"):
            do_request_extension(
                vendor_access,
                requested=DATE + timedelta(days=2),
                reason=" ",
                actor=vendor,
            )
        request = do_request_extension(
            vendor_access,
            requested=DATE + timedelta(days=30),
            reason="Our build farm is down until Friday.",
            actor=vendor,
        )
        with pytest.raises(PermissionDenied):
            do_decide_extension(vendor_access, request.pk, grant=True, actor=vendor)
        lead = actor_for(world.maintainer)
        access = access_case_by_id(lead, world.case.pk)
        decided = do_decide_extension(access, request.pk, grant=True, actor=lead)
        assert decided.state == RequestState.PARTIALLY_GRANTED  # cut back to 14 days
        case = Case.objects.get(pk=world.case.pk)
        assert case.disclosure_at == decided.new_date
        assert case.embargo_started_at is not None
        assert case.disclosure_at <= case.embargo_started_at + timedelta(days=14)
        with pytest.raises(Conflict):
            do_decide_extension(access, request.pk, grant=False, actor=lead)
        assert any("disclosure date is now" in p.body for p in case.posts.all())
        assert AuditEvent.objects.filter(tag="case:extension:decided").count() == 1


def test_agreement_resets_when_the_date_moves() -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        vendor = actor_for(world.vendor_user)
        do_agree_date(access_case_by_id(vendor, world.case.pk), actor=vendor)
        lead = actor_for(world.maintainer)
        access = access_case_by_id(lead, world.case.pk)
        assert do_confirm_date(access, actor=lead).disclosure_agreed_at is not None
        request = do_request_extension(
            access,
            requested=DATE + timedelta(days=1),
            reason="Fix slips.",
            actor=lead,
        )
        do_decide_extension(access, request.pk, grant=True, actor=lead)
        assert Case.objects.get(pk=world.case.pk).disclosure_agreed_at is None


def test_a_confirmed_breach_ends_the_embargo_at_once(client: Client) -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        vendor = actor_for(world.vendor_user)
        vendor_access = access_case_by_id(vendor, world.case.pk)
        with pytest.raises(ValidationError):
            do_report_breach(vendor_access, evidence_url="", evidence_text="", actor=vendor)
        first = do_report_breach(
            vendor_access,
            evidence_url="https://example.org/rumour",
            evidence_text="",
            actor=vendor,
        )
        lead = actor_for(world.maintainer)
        access = access_case_by_id(lead, world.case.pk)
        do_dismiss_breach(access, first.pk, note="Unrelated bug.", actor=lead)
        breach = do_report_breach(
            vendor_access,
            evidence_url="https://git.example.org/libquokka/commit/abc",
            evidence_text="The fix was pushed to the public repository.",
            actor=vendor,
        )
        advisory = do_confirm_breach(access, breach.pk, note="", actor=lead)
        assert advisory.embargo_broken
        assert client.get(f"/advisories/{advisory.public_id}/").status_code == 200
        case = Case.objects.get(pk=world.case.pk)
        assert case.end_reason == "broken"
        assert any("git.example.org" in p.body for p in case.posts.all())
        with pytest.raises(Conflict):
            do_request_extension(access, requested=DATE + timedelta(days=1), reason="x", actor=lead)


def test_early_release_gives_neutral_text_and_warns_everyone() -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        lead = actor_for(world.maintainer)
        access = access_case_by_id(lead, world.case.pk)
        before = OutboundMessage.objects.count()
        release = do_record_early_release(access, option="silent_fix", version="1.4.1", actor=lead)
        assert "security" not in release.changelog.lower()
        assert "inflate" not in release.changelog.lower()
        assert OutboundMessage.objects.count() > before  # participants are mailed
        with pytest.raises(ValidationError):
            do_record_early_release(access, option="yolo", version="1", actor=lead)


def test_reminders_go_to_those_not_ready_once() -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        lead = actor_for(world.maintainer)
        access = access_case_by_id(lead, world.case.pk)
        vuln = world.case.vulnerabilities.get()
        for seat in access.seats:
            do_set_status(
                access,
                seat,
                vuln,
                status=Status.FIX_READY,
                statement="",
                actor=lead,
            )
    with time_machine.travel("2026-11-30 14:00:00+00:00", tick=False):
        last = OutboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        reminder = do_send_reminder(world.case.pk, Kind.T_24H, actor=actor_for(world.maintainer))
        assert reminder is not None
        assert (
            do_send_reminder(world.case.pk, Kind.T_24H, actor=actor_for(world.maintainer)) is None
        )
        new = set(OutboundMessage.objects.filter(pk__gt=last).values_list("to_address", flat=True))
        assert world.vendor_user.email in new
        assert world.maintainer.email not in new
        copy = OutboundMessage.objects.get(pk__gt=last, to_address=world.vendor_user.email)
        # The vendor has no key: a content-free notice that points at the case room.
        assert copy.protection == Protection.NOTICE
        assert world.case.title not in copy.subject + copy.body
        assert case_url(world.case.pk) in copy.body


def test_silent_reporter_is_replaced_after_the_grace_period() -> None:
    world = _world(reporter_posts=True)
    with time_machine.travel(AT, tick=False):
        advisory = do_publish_due(world.case.pk, actor=actor_for(world.maintainer))
        assert advisory is not None
        assert PublicPost.objects.count() == 0
        assert do_post_for_silent_reporter(advisory.pk, actor=actor_for(world.maintainer)) is None
    with time_machine.travel("2026-12-01 15:00:00+00:00", tick=False):
        assert (
            do_post_for_silent_reporter(advisory.pk, actor=actor_for(world.maintainer)) is not None
        )
        assert PublicPost.objects.count() == 1
        with pytest.raises(Conflict):
            do_reporter_posted(world.submitted.report, url="", actor=actor_for(world.maintainer))


def test_a_reporter_who_posts_is_asked_on_the_tracking_page_and_by_mail() -> None:
    world = _world(reporter_posts=True)
    Report.objects.filter(pk=world.submitted.report.pk).update(reporter_email="rita@example.org")
    with time_machine.travel(AT, tick=False):
        advisory = do_publish_due(world.case.pk, actor=actor_for(world.maintainer))
    assert advisory is not None
    asked = OutboundMessage.objects.get(to_address="rita@example.org")
    assert asked.subject == f"Please post: {advisory.post_subject}"
    assert asked.protection == Protection.PLAIN  # public by now: the advisory is out
    assert "2026-12-01 15:00 UTC, Lockstep posts it for you" in asked.body
    assert advisory.post_body in asked.body
    message = ReportMessage.objects.get(report=world.submitted.report, body=asked.body)
    assert message.kind == MessageKind.SYSTEM


def test_tasks_remind_publish_and_chase_the_reporter() -> None:
    world = _world(reporter_posts=True)
    with time_machine.travel(START, tick=False):
        plan_case(world.case.pk)
        plan_case(999_999)  # a case deleted since: nothing to plan
    planned = DBTaskResult.objects.filter(task_path__endswith="send_due_reminder")
    assert sorted(row.run_after for row in planned) == [
        DATE - timedelta(hours=72),
        DATE - timedelta(hours=24),
        DATE - timedelta(hours=1),
    ]
    with time_machine.travel("2026-11-30 14:30:00+00:00", tick=False):
        assert send_due_reminder.call(world.case.pk) == "t-24h"
        assert send_due_reminder.call(world.case.pk) is None
    with time_machine.travel("2026-12-01 13:10:00+00:00", tick=False):
        assert catch_up.call() == {"published": 0, "reminded": 1, "posted": 0}
    with time_machine.travel(AT, tick=False):
        assert publish_at_date.call(world.case.pk) == "LOCKSTEP-2026-0001"
        assert publish_at_date.call(world.case.pk) is None
        advisory = Advisory.objects.get()
        after_publication.call(advisory.pk)
    chase = DBTaskResult.objects.filter(task_path__endswith="post_for_silent_reporter")
    assert [row.run_after for row in chase] == [DATE + timedelta(minutes=60)]
    assert send_due_reminder.call(world.case.pk) is None  # public: no more reminders
    with time_machine.travel("2026-12-01 15:00:01+00:00", tick=False):
        assert catch_up.call()["posted"] == 1
        assert post_for_silent_reporter.call(advisory.pk) is False
    kinds = list(Reminder.objects.values_list("kind", flat=True))
    assert kinds == ["t-24h", "t-1h"]


def test_a_sweep_stays_queued_once_and_publishes_what_a_dead_worker_left() -> None:
    world = _world()
    with time_machine.travel(AT, tick=False):
        # A worker claimed the date's task and died: the queue never hands it out again.
        DBTaskResult.objects.all().delete()
        catch_up.call()
        catch_up.call()
    sweeps = DBTaskResult.objects.filter(task_path__endswith="catch_up", status="READY")
    assert [row.run_after for row in sweeps] == [DATE + timedelta(seconds=30)]
    assert Case.objects.get(pk=world.case.pk).published_at == DATE
