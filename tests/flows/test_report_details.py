"""Details of reports: what the case receives, the conversation's limits, names of rows."""

from __future__ import annotations

import pytest
from django.test import Client

from lockstep.cases.actions.participants import do_set_status
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Status
from lockstep.cases.queries import access_case_by_id
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, ValidationError
from lockstep.core.uploads import UploadedFile
from lockstep.intake.actions import (
    Acceptance,
    ReportInput,
    do_accept_report,
    do_add_report_message,
    do_add_reporter_post,
    do_submit_report,
)
from lockstep.intake.queries import access_case_report_file, list_case_report_files
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, build_case_world

pytestmark = pytest.mark.django_db


def test_accepted_case_carries_versions_poc_and_files() -> None:
    world = build_case_world(accept=False)
    submitted = do_submit_report(
        world.project,
        ReportInput(
            title="PoC inside",
            description="d",
            affected_versions="1.0-1.4",
            proof_of_concept="quokka -d crash.qk",
        ),
        files=[UploadedFile("crash.qk", "application/octet-stream", b"\x89QK")],
        actor=Actor.anonymous(),
    )
    case = do_accept_report(submitted.report, Acceptance(channel=world.channel), actor=SYSTEM)
    body = case.posts.get().body
    assert "Affected versions: 1.0-1.4" in body
    assert "quokka -d crash.qk" in body
    assert "Files sent with the report (in the case room): crash.qk" in body
    # One copy, kept with the report: the case's participants reach it through the case.
    assert not case.attachments.exists()
    lead = access_case_by_id(actor_for(world.maintainer), case.pk)
    (shown,) = list_case_report_files(lead)
    assert access_case_report_file(lead, shown.pk).content == b"\x89QK"
    assert case.disclosure_at is None  # no date proposed yet: the lead sets it


def test_conversation_limits_and_reporter_posts_need_a_case() -> None:
    world = build_case_world(accept=False)
    report = world.submitted.report
    actor = Actor.reporter(report.pk)
    with pytest.raises(ValidationError, match="Write something"):
        do_add_report_message(report, body=" ", from_reporter=True, actor=actor)
    with pytest.raises(ValidationError, match="at most"):
        do_add_report_message(report, body="x" * 20_001, from_reporter=True, actor=actor)
    with pytest.raises(Conflict, match="no case yet"):
        do_add_reporter_post(report, body="hello", actor=actor)
    client = Client()
    page = client.post(f"/track/{world.submitted.token}/", {"post": "", "body": "hello"})
    assert b"no case yet" in page.content


def test_rows_name_themselves() -> None:
    world = build_case_world()
    actor = actor_for(world.maintainer)
    lead = access_case_by_id(actor, world.case.pk)
    vuln = do_add_vulnerability(lead, VulnerabilityInput(title="Overflow"), actor=actor)
    status = do_set_status(lead, lead.seats[0], vuln, status=Status.AFFECTED, actor=actor)
    post = do_add_post(
        lead, body="p", files=[UploadedFile("f.patch", "text/x-diff", b"-")], actor=actor
    )
    report = world.submitted.report
    assert str(world.case) == f"case {world.case.pk}: Heap overflow in inflate()"
    assert str(lead.seats[0]) == f"{world.upstream.pk} in case {world.case.pk} as upstream"
    assert str(vuln) == "Overflow"
    assert str(status) == f"{lead.seats[0].pk}/{vuln.pk}: affected"
    assert str(post) == f"post {post.pk} in case {world.case.pk}"
    assert str(post.attachments.get()) == "f.patch"
    assert str(report) == f"report {report.pk}: Heap overflow in inflate()"
    assert str(report.messages.first()) == f"system message on report {report.pk}"


def test_triage_form_errors(world_client: tuple[Client, int]) -> None:
    client, report_id = world_client
    assert client.get("/triage/?status=bogus").status_code == 200
    bad = client.post(f"/triage/{report_id}/accept/", {"route": "nowhere"}, follow=True)
    assert b"Check the route and the date." in bad.content
    no_list = client.post(
        f"/triage/{report_id}/accept/", {"route": "private-coordination"}, follow=True
    )
    assert b"needs a private list" in no_list.content
    dup = client.post(f"/triage/{report_id}/duplicate/", {"original": "x"}, follow=True)
    assert b"original report" in dup.content


@pytest.fixture
def world_client() -> tuple[Client, int]:
    world = build_case_world(accept=False)
    client = Client()
    client.force_login(world.maintainer)
    return client, world.submitted.report.pk
