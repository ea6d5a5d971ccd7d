"""Who gets what: every case and triage page, for every kind of visitor.

The table below must name every URL under /cases/ and /triage/ (checked against the URL
configuration), so a new view cannot be added without saying who may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Attachment
from lockstep.cases.queries import access_case_by_id
from lockstep.core.actor import Actor
from lockstep.core.uploads import UploadedFile, stored_file_fields
from lockstep.intake.actions import ReportInput, do_submit_report
from lockstep.intake.models import ReportAttachment
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world, disclosure_in

pytestmark = pytest.mark.django_db

VISITORS = ("anonymous", "other_vendor", "vendor", "maintainer", "coordinator", "reporter")
LOGIN = "login"  # anonymous visitors are sent to the login page


@dataclass(frozen=True)
class Endpoint:
    name: str  # the URL name in the "web" namespace
    method: str
    expect: dict[str, int | str]  # visitor -> HTTP status (or LOGIN)
    writes: bool = False


OK_READ = {
    "anonymous": LOGIN,
    "other_vendor": 404,
    "vendor": 200,
    "maintainer": 200,
    "coordinator": 200,
    "reporter": LOGIN,
}
OK_WRITE = {
    "anonymous": LOGIN,
    "other_vendor": 404,
    "vendor": 302,
    "maintainer": 302,
    "coordinator": 302,
    "reporter": LOGIN,
}
LEAD_WRITE = {**OK_WRITE, "vendor": 403}
LEAD_READ = {**OK_READ, "vendor": 403}
TRIAGE = {
    "anonymous": LOGIN,
    "other_vendor": 404,
    "vendor": 404,
    "maintainer": 200,
    "coordinator": 404,
    "reporter": LOGIN,
}
TRIAGE_WRITE = {**TRIAGE, "maintainer": 302}

ENDPOINTS = [
    Endpoint("case", "get", OK_READ),
    Endpoint("case-attachment", "get", OK_READ),
    Endpoint("case-report-file", "get", OK_READ),  # the reporter's files, kept with the report
    Endpoint("case-post", "post", OK_WRITE, writes=True),
    # Only its author edits a post (the maintainer wrote it): others in the case get 403.
    Endpoint(
        "case-post-edit",
        "post",
        {**OK_WRITE, "vendor": 403, "coordinator": 403},
        writes=True,
    ),
    Endpoint("case-status", "post", OK_WRITE, writes=True),
    Endpoint("case-date", "post", LEAD_WRITE, writes=True),
    Endpoint("case-participants", "post", LEAD_WRITE, writes=True),
    Endpoint("case-vuln", "post", LEAD_WRITE, writes=True),
    Endpoint("case-vuln", "get", LEAD_READ),  # the form
    Endpoint("case-vuln-edit", "get", LEAD_READ),
    Endpoint("case-vuln-edit", "post", LEAD_WRITE, writes=True),
    Endpoint("case-vuln-delete", "post", LEAD_WRITE, writes=True),
    Endpoint("case-embargo", "post", OK_WRITE, writes=True),
    Endpoint("case-advisory", "get", OK_READ),
    Endpoint("triage-report", "get", TRIAGE),
    Endpoint("triage-file", "get", TRIAGE),
    Endpoint("triage-accept", "post", TRIAGE_WRITE, writes=True),
    Endpoint("triage-decline", "post", TRIAGE_WRITE, writes=True),
    Endpoint("triage-duplicate", "post", TRIAGE_WRITE, writes=False),
    Endpoint("triage-spam", "post", TRIAGE_WRITE, writes=True),
]
# Lists scoped to the visitor (tested separately below): they have no object to forbid.
SCOPED_LISTS = {"cases", "cases-waiting", "triage"}


def _names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found |= _names(pattern.url_patterns, prefix + str(pattern.pattern))
        elif pattern.name and (prefix + str(pattern.pattern)).startswith(("cases/", "triage/")):
            found.add(pattern.name)
    return found


def test_every_case_and_triage_url_is_in_the_matrix() -> None:
    declared = {endpoint.name for endpoint in ENDPOINTS} | SCOPED_LISTS
    assert _names(get_resolver().url_patterns) == declared


@pytest.fixture
def world() -> CaseWorld:
    built = build_case_world()
    lead = access_case_by_id(actor_for(built.maintainer), built.case.pk)
    do_add_vulnerability(
        lead, VulnerabilityInput(title="Overflow"), actor=actor_for(built.maintainer)
    )
    return built


def _client_for(visitor: str, world: CaseWorld, client: Client) -> Client:
    users = {
        "other_vendor": world.outsider_user,
        "vendor": world.vendor_user,
        "maintainer": world.maintainer,
        "coordinator": world.coordinator,
    }
    if visitor in users:
        client.force_login(users[visitor])
    return client


def _own_post(world: CaseWorld) -> int:
    lead = actor_for(world.maintainer)
    post = do_add_post(access_case_by_id(lead, world.case.pk), body="hello", actor=lead)
    return post.pk


def _request(endpoint: Endpoint, world: CaseWorld, client: Client) -> tuple[str, dict[str, str]]:
    case, report = world.case, world.submitted.report
    vuln = case.vulnerabilities.get()
    attachment = Attachment.objects.filter(case=case).first()
    urls: dict[str, Callable[[], tuple[str, dict[str, str]]]] = {
        "case": lambda: (f"/cases/{case.pk}/", {}),
        "case-attachment": lambda: (
            f"/cases/{case.pk}/attachments/{attachment.pk if attachment else 0}/",
            {},
        ),
        "case-report-file": lambda: (
            f"/cases/{case.pk}/report-files/{_report_file(world)}/",
            {},
        ),
        "case-post": lambda: (f"/cases/{case.pk}/posts/", {"body": "hello"}),
        "case-post-edit": lambda: (
            f"/cases/{case.pk}/posts/{_own_post(world)}/edit/",
            {"body": "hello, corrected"},
        ),
        "case-status": lambda: (
            f"/cases/{case.pk}/status/",
            {"vulnerability": str(vuln.pk), "status": "affected"},
        ),
        "case-date": lambda: (
            f"/cases/{case.pk}/date/",
            {"disclosure_at": disclosure_in(5).strftime("%Y-%m-%dT%H:%M")},
        ),
        "case-participants": lambda: (
            f"/cases/{case.pk}/participants/",
            {"action": "add", "org": "bluefin"},
        ),
        "case-vuln": lambda: (f"/cases/{case.pk}/vulnerabilities/", {"title": "Second"}),
        "case-vuln-edit": lambda: (
            f"/cases/{case.pk}/vulnerabilities/{vuln.pk}/",
            {"title": "Overflow, renamed"},
        ),
        "case-vuln-delete": lambda: (f"/cases/{case.pk}/vulnerabilities/{vuln.pk}/delete/", {}),
        "case-embargo": lambda: (f"/cases/{case.pk}/embargo/", {"action": "agree"}),
        "case-advisory": lambda: (f"/cases/{case.pk}/advisory/", {}),
        "triage-report": lambda: (f"/triage/{report.pk}/", {}),
        "triage-file": lambda: (f"/triage/{report.pk}/files/{_report_file(world)}/", {}),
        "triage-accept": lambda: (
            f"/triage/{report.pk}/accept/",
            {"route": "public-list", "override_reason": "x"},
        ),
        "triage-decline": lambda: (f"/triage/{report.pk}/decline/", {"reason": "no"}),
        "triage-duplicate": lambda: (f"/triage/{report.pk}/duplicate/", {"original": "999999"}),
        "triage-spam": lambda: (f"/triage/{report.pk}/spam/", {}),
    }
    return urls[endpoint.name]()


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_matrix(endpoint: Endpoint, visitor: str, world: CaseWorld, client: Client) -> None:
    if endpoint.name.startswith("triage-") and endpoint.method == "post":
        # A fresh report, so each cell tests its own decision.

        world.submitted = do_submit_report(
            world.project, ReportInput(title="Another", description="d"), actor=Actor.anonymous()
        )
    if endpoint.name == "case-attachment":
        lead = access_case_by_id(actor_for(world.maintainer), world.case.pk)
        do_add_post(
            lead,
            body="patch",
            files=[UploadedFile("fix.patch", "text/x-diff", b"--- a\n")],
            actor=actor_for(world.maintainer),
        )
    browser = _client_for(visitor, world, client)
    url, data = _request(endpoint, world, client)
    before = AuditEvent.objects.count()
    response = browser.post(url, data) if endpoint.method == "post" else browser.get(url)
    expected = endpoint.expect[visitor]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    else:
        assert response.status_code == expected, response.content[:300]
    wrote = AuditEvent.objects.count() > before
    should_write = endpoint.writes and expected == 302
    if endpoint.method == "post":
        assert wrote is should_write
    if expected == 200 and endpoint.name == "case-attachment":
        assert response.content == b"--- a\n"
    if expected == 200 and endpoint.name in {"case-report-file", "triage-file"}:
        assert response.content == b"crash\n"


def _report_file(world: CaseWorld) -> int:
    """A file the reporter sent with the report the case came from."""
    upload = UploadedFile("poc.txt", "text/plain", b"crash\n")
    found = ReportAttachment.objects.create(
        report=world.submitted.report, **stored_file_fields(upload)
    )
    return found.pk


def test_reporter_token_sees_only_its_own_report(world: CaseWorld, client: Client) -> None:
    token = world.submitted.token
    page = client.get(f"/track/{token}/")
    assert page.status_code == 200
    assert b"Heap overflow in inflate()" in page.content
    # Other sites get no Referer (the token is in the address); the page's own forms get a
    # real Origin, so Django's CSRF check takes them (tests/web/test_tracking_page.py).
    assert page["Referrer-Policy"] == "same-origin"
    assert client.get(f"/track/{token}x/").status_code == 404
    # The reporter is nobody else's participant: case pages want a login.
    assert client.get(f"/cases/{world.case.pk}/")["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("visitor", "sees"),
    [("other_vendor", False), ("vendor", True), ("maintainer", True), ("coordinator", True)],
)
def test_case_list_is_scoped(visitor: str, sees: bool, world: CaseWorld, client: Client) -> None:
    page = _client_for(visitor, world, client).get("/cases/")
    assert page.status_code == 200
    assert (b"Heap overflow in inflate()" in page.content) is sees


@pytest.mark.parametrize(
    ("visitor", "sees"),
    [("other_vendor", False), ("vendor", False), ("maintainer", True), ("coordinator", False)],
)
def test_triage_inbox_is_scoped(visitor: str, sees: bool, world: CaseWorld, client: Client) -> None:

    do_submit_report(
        world.project, ReportInput(title="Fresh one", description="d"), actor=Actor.anonymous()
    )
    page = _client_for(visitor, world, client).get("/triage/")
    assert page.status_code == 200
    assert (b"Fresh one" in page.content) is sees
