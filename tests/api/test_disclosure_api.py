"""The disclosure journey through the API alone: embargo actions, CVE IDs, publication, the
reporter's public post, search and the OSV query."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from lockstep.accounts.models import User
from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import do_create_api_token
from lockstep.advisories.tasks import catch_up
from lockstep.cve.tasks import publish_cve_records
from tests.conftest import actor_for
from tests.flows.test_disclosure import AT, DATE, START, _world

pytestmark = pytest.mark.django_db


def _api(client: Client, user: User) -> Any:
    _token, secret = do_create_api_token(user, name="t", scopes=ALL_SCOPES, actor=actor_for(user))

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        send = getattr(client, method)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        if body is None:
            return send(f"/api/v1{path}", **headers)
        return send(f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers)

    return call


def test_embargo_cve_and_publication_through_the_api(client: Client, settings: Any) -> None:
    settings.LOCKSTEP_CVE_BLOCK = "CVE-2026-80000..CVE-2026-80009"
    world = _world()
    case = world.case.pk
    vuln = world.case.vulnerabilities.get().pk
    with time_machine.travel(START, tick=False):
        lead, vendor = _api(client, world.maintainer), _api(client, world.vendor_user)
        assert vendor("post", f"/cases/{case}/disclosure-date/agree").status_code == 204
        reserved = lead("post", f"/cases/{case}/vulnerabilities/{vuln}/cve")
        assert reserved.status_code == 201
        assert reserved.json()["cve_id"] == "CVE-2026-80000"
        spare = lead("post", f"/cases/{case}/vulnerabilities/{vuln}/cve")
        assert spare.status_code == 409  # one CVE per vulnerability
        asked = vendor(
            "post",
            f"/cases/{case}/extensions",
            {"requested": (DATE + timedelta(days=2)).isoformat(), "reason": "QA needs 2 days."},
        )
        assert asked.status_code == 201
        decided = lead(
            "post", f"/cases/{case}/extensions/{asked.json()['id']}/decision", {"grant": True}
        )
        assert decided.json()["state"] == "granted"
        state = vendor("get", f"/cases/{case}/embargo").json()
        assert state["disclosure_at"].startswith("2026-12-03T14:00")
        assert state["agreed_by"] == []  # the date moved: agreement starts over
        assert [c["cve_id"] for c in lead("get", f"/cases/{case}/cves").json()] == [
            "CVE-2026-80000"
        ]
    with time_machine.travel(DATE + timedelta(days=2), tick=False):
        assert catch_up.call()["published"] == 1
        assert publish_cve_records.call()["published"] == 1
        detail = client.get("/api/v1/advisories/LOCKSTEP-2026-0001").json()
        assert detail["aliases"] == ["CVE-2026-80000"]
        hits = client.get("/api/v1/search", {"q": "CVE-2026-80000"}).json()
        assert sorted(h["kind"] for h in hits["results"]) == ["advisory", "post"]
        assert any(h["url"].endswith("/advisories/LOCKSTEP-2026-0001/") for h in hits["results"])
        rejected = lead(
            "post", f"/cases/{case}/cves/CVE-2026-80000/reject", {"reason": "Not a vulnerability."}
        )
        assert rejected.json()["state"] == "rejected"


def test_reporter_confirms_the_public_post_through_the_api(client: Client) -> None:
    world = _world(reporter_posts=True)
    token = world.submitted.token
    path = f"/api/v1/track/{token}/public-post"
    with time_machine.travel(AT, tick=False):
        early = client.post(path, "{}", content_type="application/json")
        assert early.status_code == 409  # nothing to post yet
        catch_up.call()
        posted = client.post(path, "{}", content_type="application/json")
        assert posted.json()["posted_by"] == "lockstep"
        assert "/lists/oss-security/" in posted.json()["url"]
        again = client.post(
            path, json.dumps({"url": "https://x.example/1"}), content_type="application/json"
        )
        assert again.status_code == 409


def test_reporter_link_to_their_own_post(client: Client) -> None:
    world = _world(reporter_posts=True)
    token = world.submitted.token
    with time_machine.travel(AT, tick=False):
        catch_up.call()
        answer = client.post(
            f"/api/v1/track/{token}/public-post",
            json.dumps({"url": "https://www.openwall.com/lists/oss-security/2026/12/01/1"}),
            content_type="application/json",
        )
        assert answer.json()["posted_by"] == "reporter"
        page = client.get("/advisories/LOCKSTEP-2026-0001/").content.decode()
        assert "posted by the reporter" in page
