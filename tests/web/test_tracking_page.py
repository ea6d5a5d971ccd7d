"""The reporter's tracking page as a browser uses it: CSRF with real Origin headers, tokens of
every shape, the report itself, and the reporter's files behind the token."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from lockstep.core.actor import Actor
from lockstep.core.uploads import UploadedFile
from lockstep.intake.actions import ReportInput, do_submit_report
from lockstep.intake.models import Report, ReportAttachment
from lockstep.intake.queries import hash_token
from tests.factories.cases import CaseWorld, build_case_world

pytestmark = pytest.mark.django_db

ORIGIN = (
    "https://testserver"  # what a browser sends from the page under Referrer-Policy same-origin
)
# secrets.token_urlsafe draws from A-Z a-z 0-9 - _: a token may have neither, either, or both.
TOKENS = ("NoDashNoUnderscore0123456789abcdefghijklmnopq", "with-dash_and_underscore-0123456789")


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()  # accepted: the page has both forms


def _with_token(report: Report, token: str) -> str:
    Report.objects.filter(pk=report.pk).update(token_hash=hash_token(token))
    return token


def _csrf(page: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None
    return found.group(1).decode()


def _browser() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("token", TOKENS)
def test_both_forms_post_with_the_origin_a_browser_sends(world: CaseWorld, token: str) -> None:
    report = world.submitted.report
    url = f"/track/{_with_token(report, token)}/"
    browser = _browser()
    page = browser.get(url, secure=True)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    message = browser.post(
        url,
        {"csrfmiddlewaretoken": _csrf(page.content), "body": "A second crash."},
        secure=True,
        headers={"Origin": ORIGIN, "Referer": ORIGIN + url},
    )
    assert message.status_code == 302, message.content[:300]
    assert report.messages.filter(body="A second crash.").exists()
    post = browser.post(
        url,
        {"csrfmiddlewaretoken": _csrf(page.content), "post": "", "body": "PoC v2."},
        secure=True,
        headers={"Origin": ORIGIN},
    )
    assert post.status_code == 302, post.content[:300]
    assert world.case.posts.filter(body="PoC v2.").exists()


def test_referer_alone_is_enough_without_an_origin(world: CaseWorld) -> None:
    """Older browsers send no Origin; same-origin still gives them this page as Referer."""
    url = f"/track/{_with_token(world.submitted.report, TOKENS[0])}/"
    browser = _browser()
    page = browser.get(url, secure=True)
    sent = browser.post(
        url,
        {"csrfmiddlewaretoken": _csrf(page.content), "body": "hello"},
        secure=True,
        headers={"Referer": ORIGIN + url},
    )
    assert sent.status_code == 302


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "null"},  # what "no-referrer" made browsers send: the bug
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/"},
        {},  # HTTPS without Origin or Referer
    ],
)
def test_csrf_still_refuses_other_origins(world: CaseWorld, headers: dict[str, str]) -> None:
    url = f"/track/{_with_token(world.submitted.report, TOKENS[1])}/"
    browser = _browser()
    page = browser.get(url, secure=True)
    refused = browser.post(
        url,
        {"csrfmiddlewaretoken": _csrf(page.content), "body": "hello"},
        secure=True,
        headers=headers,
    )
    assert refused.status_code == 403
    assert not world.submitted.report.messages.filter(body="hello").exists()


def test_the_page_shows_the_report_and_its_files_behind_the_token() -> None:
    world = build_case_world(accept=False)
    submitted = do_submit_report(
        world.project,
        ReportInput(
            title="Use after free in parse()",
            description="A crafted header frees twice.",
            affected_versions="2.0 to 2.3",
            proof_of_concept="quokka --parse double.qk",
        ),
        files=[UploadedFile("double.qk", "application/octet-stream", b"\x00QK")],
        actor=Actor.anonymous(),
    )
    client = Client()
    page = client.get(f"/track/{submitted.token}/").content.decode()
    for shown in ("A crafted header frees twice.", "2.0 to 2.3", "quokka --parse double.qk"):
        assert shown in page
    file = ReportAttachment.objects.get(report=submitted.report)
    link = f"/track/{submitted.token}/files/{file.pk}/"
    assert link in page
    download = client.get(link)
    assert download.status_code == 200
    assert download.content == b"\x00QK"
    assert download["Referrer-Policy"] == "same-origin"
    assert "no-store" in download["Cache-Control"]
    assert 'filename="double.qk"' in download["Content-Disposition"]
    # Another report's token does not open this file, nor a wrong token anything.
    other = world.submitted.token
    assert client.get(f"/track/{other}/files/{file.pk}/").status_code == 404
    assert client.get(f"/track/{submitted.token}x/files/{file.pk}/").status_code == 404


def test_after_acceptance_the_files_reach_the_case_room_once(world: CaseWorld) -> None:
    """One copy, with the report: participants download it from the room, nobody else."""
    fresh = build_case_world(accept=False, tag="2")
    submitted = do_submit_report(
        fresh.project,
        ReportInput(title="Overflow", description="d"),
        files=[UploadedFile("poc.c", "text/x-c", b"int main;")],
        actor=Actor.anonymous(),
    )
    maintainer = Client()
    maintainer.force_login(fresh.maintainer)
    accepted = maintainer.post(
        f"/triage/{submitted.report.pk}/accept/", {"route": "public-list", "override_reason": "x"}
    )
    assert accepted.status_code == 302
    case_url = accepted["Location"]
    room = maintainer.get(case_url).content.decode()
    file = ReportAttachment.objects.get(report=submitted.report)
    link = f"{case_url}report-files/{file.pk}/"
    assert link in room
    assert maintainer.get(link).content == b"int main;"
    outsider = Client()
    outsider.force_login(world.maintainer)  # leads another project's case, not this one
    assert outsider.get(link).status_code == 404
    assert maintainer.get(f"{case_url}report-files/{file.pk + 1}/").status_code == 404
    assert ReportAttachment.objects.count() == 1
