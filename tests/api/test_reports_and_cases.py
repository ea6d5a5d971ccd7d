"""The REST API for reports and cases, through HTTP with a bearer token."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import do_create_api_token
from lockstep.cases.models import Attachment
from lockstep.intake.models import Report
from tests.factories.cases import CaseWorld, build_case_world, disclosure_in

pytestmark = pytest.mark.django_db


def _token_for(user: Any) -> dict[str, str]:
    from tests.conftest import actor_for  # noqa: PLC0415

    _token, plaintext = do_create_api_token(
        user, name="tests", scopes=ALL_SCOPES, actor=actor_for(user)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()


def test_public_submission_returns_201_with_a_tracking_url(
    world: CaseWorld, client: Client
) -> None:
    payload = {
        "project": "libquokka",
        "title": "Integer overflow in header parsing",
        "description": "Sizes above 2^31 wrap.",
        "attachments": [
            {"filename": "poc.bin", "content_base64": base64.b64encode(b"\x00\x01").decode()}
        ],
    }
    response = client.post("/api/v1/reports", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "new"
    assert body["tracking_url"].endswith(f"/track/{body['token']}/")
    report = Report.objects.get(pk=body["id"])
    assert report.attachments.get().content == b"\x00\x01"
    tracked = client.get(f"/api/v1/track/{body['token']}")
    assert tracked.status_code == 200
    assert tracked.json()["title"] == "Integer overflow in header parsing"
    assert client.get("/api/v1/track/not-a-token").status_code == 404


def test_bad_submissions_are_clear_400s(world: CaseWorld, client: Client) -> None:
    missing = client.post(
        "/api/v1/reports", {"project": "libquokka"}, content_type="application/json"
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid"
    bad_file = client.post(
        "/api/v1/reports",
        {
            "project": "libquokka",
            "title": "t",
            "description": "d",
            "attachments": [{"filename": "x", "content_base64": "***"}],
        },
        content_type="application/json",
    )
    assert bad_file.status_code == 400
    assert bad_file.json()["error"]["field"] == "attachments"
    unknown = client.post(
        "/api/v1/reports",
        {"project": "nope", "title": "t", "description": "d"},
        content_type="application/json",
    )
    assert unknown.status_code == 404


def test_submissions_are_rate_limited_per_address(
    world: CaseWorld, client: Client, settings: Any
) -> None:
    settings.LOCKSTEP_REPORT_RATE = 2
    payload = {"project": "libquokka", "title": "t", "description": "d"}
    codes = [
        client.post("/api/v1/reports", payload, content_type="application/json").status_code
        for _ in range(3)
    ]
    assert codes == [201, 201, 429]
    limited = client.post("/api/v1/reports", payload, content_type="application/json")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    assert Report.objects.count() == 3  # the world's report and two more


def test_triage_through_the_api(world: CaseWorld, client: Client) -> None:
    maintainer = _token_for(world.maintainer)
    fresh = client.post(
        "/api/v1/reports",
        {"project": "libquokka", "title": "UAF", "description": "d"},
        content_type="application/json",
    ).json()
    inbox = client.get("/api/v1/reports", **maintainer).json()
    assert [r["id"] for r in inbox] == [fresh["id"]]
    vendor = _token_for(world.vendor_user)
    assert client.get(f"/api/v1/reports/{fresh['id']}", **vendor).status_code == 404
    accepted = client.post(
        f"/api/v1/reports/{fresh['id']}/accept",
        {"channel": "distros", "disclosure_at": disclosure_in(5).isoformat()},
        content_type="application/json",
        **maintainer,
    )
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["route"] == "private-coordination"
    again = client.post(
        f"/api/v1/reports/{fresh['id']}/spam", content_type="application/json", **maintainer
    )
    assert again.status_code == 409


def test_case_endpoints_for_a_vendor_and_a_stranger(world: CaseWorld, client: Client) -> None:
    lead = _token_for(world.maintainer)
    vendor = _token_for(world.vendor_user)
    stranger = _token_for(world.outsider_user)
    case_id = world.case.pk
    vuln = client.post(
        f"/api/v1/cases/{case_id}/vulnerabilities",
        {
            "title": "Overflow",
            "cvss3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "cwe": "CWE-787",
        },
        content_type="application/json",
        **lead,
    )
    assert vuln.status_code == 201, vuln.content
    assert vuln.json()["cvss3_score"] == "9.8"
    detail = client.get(f"/api/v1/cases/{case_id}", **vendor).json()
    assert detail["participant_count"] == 3
    assert detail["summary"][0]["counts"]["none"] == 3
    rows = client.get(f"/api/v1/cases/{case_id}/participants", **vendor).json()
    mine = next(p for p in rows if p["org"] == "northwind")
    assert mine["first_seen_at"] is not None
    assert mine["statuses"][0]["status"] is None
    waiting = client.get(f"/api/v1/cases/{case_id}/participants?waiting=true", **vendor).json()
    assert [p["org"] for p in waiting] == ["northwind"]
    status = client.put(
        f"/api/v1/cases/{case_id}/vulnerabilities/{vuln.json()['id']}/status",
        {"status": "fix_ready", "statement": "Built."},
        content_type="application/json",
        **vendor,
    )
    assert status.status_code == 200
    assert status.json()["status"] == "fix_ready"
    forbidden = client.post(
        f"/api/v1/cases/{case_id}/disclosure-date",
        {"disclosure_at": disclosure_in(3).isoformat()},
        content_type="application/json",
        **vendor,
    )
    assert forbidden.status_code == 403
    for url in (
        f"/api/v1/cases/{case_id}",
        f"/api/v1/cases/{case_id}/posts",
        "/api/v1/cases/999999",
    ):
        missing = client.get(url, **stranger)
        assert missing.status_code == 404
        assert missing.json() == {
            "error": {"code": "not_found", "message": "No such case.", "field": None}
        }
    assert client.get(f"/api/v1/cases/{case_id}").status_code == 401
    post = client.post(
        f"/api/v1/cases/{case_id}/posts",
        {"body": "Tested **ok**"},
        content_type="application/json",
        **vendor,
    )
    assert post.status_code == 201
    assert "<strong>ok</strong>" in post.json()["body_html"]
    listed = client.get(f"/api/v1/cases/{case_id}/posts?limit=1&offset=1", **lead).json()
    assert [p["body"] for p in listed] == ["Tested **ok**"]
    date = client.post(
        f"/api/v1/cases/{case_id}/disclosure-date",
        {"disclosure_at": disclosure_in(40).isoformat()},
        content_type="application/json",
        **lead,
    ).json()
    assert date["outcome"] == "shortened"
    added = client.post(
        f"/api/v1/cases/{case_id}/participants",
        {"org": "bluefin"},
        content_type="application/json",
        **lead,
    )
    assert added.status_code == 201
    removed = client.delete(f"/api/v1/cases/{case_id}/participants/{added.json()['id']}", **lead)
    assert removed.status_code == 204
    assert client.post(f"/api/v1/cases/{case_id}/invite-channel", **lead).status_code == 200
    assert not Attachment.objects.exists()


def test_case_list_is_bounded_in_queries(
    world: CaseWorld, client: Client, django_assert_max_num_queries: Any
) -> None:
    lead = _token_for(world.maintainer)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/cases", **lead)
    assert [c["id"] for c in response.json()] == [world.case.pk]
