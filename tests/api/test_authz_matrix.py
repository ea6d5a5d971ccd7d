"""Who gets what through the API: every case and report endpoint, for every kind of caller.

The table must name every operation under /cases and /reports in the OpenAPI document, so
a new endpoint cannot be added without saying who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from lockstep.accounts.models import User
from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import do_create_api_token
from lockstep.api.v1.api import api
from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.embargo import do_report_breach, do_request_extension
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Participant
from lockstep.cases.queries import access_case_by_id
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.cve.actions.reserving import reserve_cve
from lockstep.intake.actions import ReportInput, do_submit_report
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world, disclosure_in

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "other_vendor", "vendor", "maintainer", "coordinator", "reporter")


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # OpenAPI path under /api/v1
    expect: dict[str, int]
    writes: bool = False


def _table(**overrides: int) -> dict[str, int]:
    base = {
        "anonymous": 401,
        "other_vendor": 404,
        "vendor": 200,
        "maintainer": 200,
        "coordinator": 200,
        "reporter": 401,
    }
    return {**base, **overrides}


READ = _table()
WRITE = _table(vendor=201, maintainer=201, coordinator=201)
LEAD = _table(vendor=403)
LEAD_CREATE = _table(vendor=403, maintainer=201, coordinator=201)
NO_CONTENT = _table(vendor=204, maintainer=204, coordinator=204)
LEAD_NO_CONTENT = _table(vendor=403, maintainer=204, coordinator=204)
TRIAGE = _table(vendor=404, coordinator=404)
TRIAGE_CREATE = _table(vendor=404, coordinator=404, maintainer=201)

OPS = [
    Op("get", "/cases/{case_id}", READ, writes=False),
    Op("get", "/cases/{case_id}/participants", READ),
    Op("post", "/cases/{case_id}/participants", LEAD_CREATE, writes=True),
    Op(
        "delete",
        "/cases/{case_id}/participants/{participant_id}",
        _table(vendor=403, maintainer=204, coordinator=204),
        writes=True,
    ),
    Op("get", "/cases/{case_id}/posts", READ),
    Op("post", "/cases/{case_id}/posts", WRITE, writes=True),
    # Only its author (the maintainer) edits a post.
    Op(
        "put",
        "/cases/{case_id}/posts/{post_id}",
        _table(vendor=403, coordinator=403),
        writes=True,
    ),
    Op("post", "/cases/{case_id}/disclosure-date", LEAD, writes=True),
    Op("post", "/cases/{case_id}/invite-channel", LEAD, writes=True),
    Op("post", "/cases/{case_id}/vulnerabilities", LEAD_CREATE, writes=True),
    Op("put", "/cases/{case_id}/vulnerabilities/{vuln_id}", LEAD, writes=True),
    Op("delete", "/cases/{case_id}/vulnerabilities/{vuln_id}", LEAD_NO_CONTENT, writes=True),
    Op("put", "/cases/{case_id}/vulnerabilities/{vuln_id}/status", READ, writes=True),
    Op("get", "/cases/{case_id}/embargo", READ),
    Op("post", "/cases/{case_id}/disclosure-date/agree", NO_CONTENT, writes=True),
    Op("post", "/cases/{case_id}/disclosure-date/confirm", LEAD_NO_CONTENT, writes=True),
    # Only the list's coordinator waives its minimum notice; the upstream cannot.
    Op(
        "post",
        "/cases/{case_id}/disclosure-date/short-embargo",
        _table(vendor=403, maintainer=403),
        writes=True,
    ),
    Op("post", "/cases/{case_id}/extensions", WRITE, writes=True),
    Op("post", "/cases/{case_id}/extensions/{request_id}/decision", LEAD, writes=True),
    Op("post", "/cases/{case_id}/breaches", WRITE, writes=True),
    Op("post", "/cases/{case_id}/breaches/{breach_id}/confirm", LEAD, writes=True),
    Op("post", "/cases/{case_id}/breaches/{breach_id}/dismiss", LEAD, writes=True),
    Op("post", "/cases/{case_id}/early-release", LEAD_CREATE, writes=True),
    Op("put", "/cases/{case_id}/advisory-draft", LEAD_NO_CONTENT, writes=True),
    Op("get", "/cases/{case_id}/cves", READ),
    Op("post", "/cases/{case_id}/vulnerabilities/{vuln_id}/cve", LEAD_CREATE, writes=True),
    Op("post", "/cases/{case_id}/cves/{cve_id}/reject", LEAD, writes=True),
    Op("post", "/cases/{case_id}/cves/{cve_id}/assign", LEAD, writes=True),
    # Under embargo a case is published by the date or a confirmed breach, never by hand.
    Op("post", "/cases/{case_id}/publish", _table(vendor=403, maintainer=400, coordinator=400)),
    Op("get", "/reports/{report_id}", TRIAGE),
    Op("post", "/reports/{report_id}/messages", TRIAGE_CREATE, writes=True),
    Op("post", "/reports/{report_id}/accept", TRIAGE_CREATE, writes=True),
    Op("post", "/reports/{report_id}/decline", TRIAGE, writes=True),
    Op("post", "/reports/{report_id}/duplicate", TRIAGE, writes=True),
    Op("post", "/reports/{report_id}/spam", TRIAGE, writes=True),
]
# Scoped lists, and the public submission and reporter-token endpoints: tested below.
OTHERS = {
    ("get", "/cases"),
    ("get", "/reports"),
    ("post", "/reports"),
    ("get", "/track/{token}"),
    ("post", "/track/{token}/messages"),
    ("post", "/track/{token}/public-post"),
}


def test_every_case_and_report_operation_is_in_the_matrix() -> None:
    paths = api.get_openapi_schema()["paths"]
    found = {
        (method, path.removeprefix("/api/v1"))
        for path, operations in paths.items()
        for method in operations
        if path.startswith(("/api/v1/cases", "/api/v1/reports", "/api/v1/track"))
    }
    assert found == {(op.method, op.path) for op in OPS} | OTHERS


@pytest.fixture
def world(settings: Any) -> CaseWorld:
    settings.LOCKSTEP_CVE_BLOCK = "CVE-2026-70000..CVE-2026-70099"
    built = build_case_world()
    lead = access_case_by_id(actor_for(built.maintainer), built.case.pk)
    do_add_vulnerability(
        lead, VulnerabilityInput(title="Overflow"), actor=actor_for(built.maintainer)
    )
    return built


def _auth(user: User) -> dict[str, str]:
    _token, plaintext = do_create_api_token(
        user, name="matrix", scopes=ALL_SCOPES, actor=actor_for(user)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def _headers(caller: str, world: CaseWorld) -> dict[str, str]:
    users = {
        "other_vendor": world.outsider_user,
        "vendor": world.vendor_user,
        "maintainer": world.maintainer,
        "coordinator": world.coordinator,
    }
    if caller in users:
        return _auth(users[caller])
    if caller == "reporter":  # the tracking token is no API credential
        return {"HTTP_AUTHORIZATION": f"Bearer {world.submitted.token}"}
    return {}


def _prepare(op: Op, world: CaseWorld) -> tuple[str, dict[str, Any]]:
    report = do_submit_report(
        world.project, ReportInput(title="Matrix", description="d"), actor=Actor.anonymous()
    ).report
    other = do_submit_report(
        world.project, ReportInput(title="Original", description="d"), actor=Actor.anonymous()
    ).report
    vendor_seat = Participant.objects.get(case=world.case, org=world.vendor)
    vendor = actor_for(world.vendor_user)
    vendor_access = access_case_by_id(vendor, world.case.pk)
    extension = do_request_extension(
        vendor_access,
        requested=disclosure_in(9),
        reason="Build farm down.",
        actor=vendor,
    )
    breach = do_report_breach(
        vendor_access,
        evidence_url="https://leak.example/post",
        evidence_text="",
        actor=vendor,
    )
    lead = actor_for(world.maintainer)
    spare = reserve_cve(access_case_by_id(lead, world.case.pk), actor=lead)
    post = do_add_post(access_case_by_id(lead, world.case.pk), body="Mine.", actor=lead)
    values = {
        "cve_id": spare.cve_id,
        "request_id": extension.pk,
        "breach_id": breach.pk,
        "case_id": world.case.pk,
        "vuln_id": world.case.vulnerabilities.get().pk,
        "participant_id": vendor_seat.pk,
        "post_id": post.pk,
        "report_id": report.pk,
    }
    bodies: dict[str, dict[str, Any]] = {
        "/cases/{case_id}/participants": {"org": "bluefin"},
        "/cases/{case_id}/posts": {"body": "hello"},
        "/cases/{case_id}/disclosure-date": {"disclosure_at": disclosure_in(5).isoformat()},
        "/cases/{case_id}/posts/{post_id}": {"body": "Mine, corrected."},
        "/cases/{case_id}/disclosure-date/short-embargo": {
            "disclosure_at": (clock.now() + timedelta(hours=3)).isoformat(),
            "reason": "Exploited in the wild.",
        },
        "/cases/{case_id}/vulnerabilities": {"title": "Second"},
        "/cases/{case_id}/vulnerabilities/{vuln_id}": {"title": "Renamed"},
        "/cases/{case_id}/vulnerabilities/{vuln_id}/status": {"status": "affected"},
        "/cases/{case_id}/extensions": {
            "requested": disclosure_in(10).isoformat(),
            "reason": "Tests are slow.",
        },
        "/cases/{case_id}/extensions/{request_id}/decision": {"grant": False, "note": "No."},
        "/cases/{case_id}/breaches": {"evidence_url": "https://leak.example/other"},
        "/cases/{case_id}/breaches/{breach_id}/dismiss": {"note": "Not our issue."},
        "/cases/{case_id}/early-release": {"option": "without_fix", "version": "1.2"},
        "/cases/{case_id}/cves/{cve_id}/reject": {"reason": "Duplicate of another ID."},
        "/cases/{case_id}/cves/{cve_id}/assign": {"vulnerability_id": values["vuln_id"]},
        "/reports/{report_id}/messages": {"body": "hi"},
        "/reports/{report_id}/accept": {"route": "public-list", "override_reason": "x"},
        "/reports/{report_id}/decline": {"reason": "no"},
        "/reports/{report_id}/duplicate": {"original": other.pk},
    }
    return "/api/v1" + op.path.format(**values), bodies.get(op.path, {})


def _send(op: Op, client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    send = getattr(client, op.method)
    if op.method in {"get", "delete"}:
        return send(url, **headers)
    return send(url, body, content_type="application/json", **headers)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.method} {op.path}")
def test_matrix(op: Op, caller: str, world: CaseWorld, client: Client) -> None:
    headers = _headers(caller, world)
    url, body = _prepare(op, world)
    before = AuditEvent.objects.count()
    response = _send(op, client, url, body, headers)
    expected = op.expect[caller]
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        assert set(response.json()) == {"error"}
    if expected == 204:
        assert response.content == b""
    wrote = AuditEvent.objects.count() > before
    if op.writes:
        assert wrote is (expected < 400)


def test_reporter_token_reads_only_its_report(world: CaseWorld, client: Client) -> None:
    token = world.submitted.token
    mine = client.get(f"/api/v1/track/{token}")
    assert mine.status_code == 200
    assert mine.json()["id"] == world.submitted.report.pk
    assert client.get(f"/api/v1/track/{token[:-2]}").status_code == 404
    reply = client.post(
        f"/api/v1/track/{token}/messages", {"body": "More details"}, content_type="application/json"
    )
    assert reply.status_code == 201
    assert (
        client.get(
            f"/api/v1/cases/{world.case.pk}", HTTP_AUTHORIZATION=f"Bearer {token}"
        ).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("caller", "count"), [("other_vendor", 0), ("vendor", 1), ("maintainer", 1), ("coordinator", 1)]
)
def test_case_list_is_scoped(caller: str, count: int, world: CaseWorld, client: Client) -> None:
    assert len(client.get("/api/v1/cases", **_headers(caller, world)).json()) == count


@pytest.mark.parametrize(
    ("caller", "count"), [("other_vendor", 0), ("vendor", 0), ("maintainer", 1), ("coordinator", 0)]
)
def test_inbox_is_scoped(caller: str, count: int, world: CaseWorld, client: Client) -> None:
    do_submit_report(
        world.project, ReportInput(title="New", description="d"), actor=Actor.anonymous()
    )
    assert len(client.get("/api/v1/reports", **_headers(caller, world)).json()) == count
