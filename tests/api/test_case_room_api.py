"""The coordinator's short embargo and editing one's own post, through the API (issue 12)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from lockstep.accounts.models import User
from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import do_create_api_token
from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import CaseTag
from lockstep.cases.models import Case, Post
from tests.conftest import actor_for
from tests.factories.cases import build_case_world
from tests.factories.signin import sign_in

pytestmark = pytest.mark.django_db

START = "2026-11-25 10:00:00+00:00"
SOON = "2026-11-25T15:00:00+00:00"  # inside the list's 24 hours' notice


def _api(client: Client, user: User, scopes: list[str] | None = None) -> Any:
    name = " ".join(scopes or ALL_SCOPES)
    _token, secret = do_create_api_token(
        user, name=name, scopes=scopes or ALL_SCOPES, actor=actor_for(user)
    )

    def call(method: str, path: str, body: dict[str, Any]) -> Any:
        send = getattr(client, method)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        return send(f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers)

    return call


def test_only_the_coordinator_allows_a_short_embargo(client: Client) -> None:
    with time_machine.travel(START, tick=False):
        world = build_case_world()
        path = f"/cases/{world.case.pk}/disclosure-date/short-embargo"
        body = {"disclosure_at": SOON, "reason": "Exploited in the wild."}
        lead = _api(client, world.maintainer)
        plain = lead("post", f"/cases/{world.case.pk}/disclosure-date", {"disclosure_at": SOON})
        assert plain.status_code == 400
        assert "ask a coordinator" in plain.json()["error"]["message"]
        assert lead("post", path, body).status_code == 403  # the upstream cannot waive it
        assert _api(client, world.vendor_user)("post", path, body).status_code == 403
        writer = _api(client, world.coordinator, ["read", "write"])
        assert writer("post", path, body).json()["error"]["code"] == "insufficient_scope"
        coordinator = _api(client, world.coordinator)
        assert coordinator("post", path, {**body, "reason": ""}).status_code == 400
        assert coordinator("post", path, {**body, "reason": "  "}).status_code == 400
        done = coordinator("post", path, body)
    assert done.status_code == 200, done.content
    answer = done.json()
    assert answer["disclosure_at"].startswith("2026-11-25T15:00")
    assert any("under the minimum" in w for w in answer["warnings"])
    event = AuditEvent.objects.filter(tag=CaseTag.SHORT_EMBARGO_ALLOWED).get()
    assert event.data["short_reason"] == "Exploited in the wild."
    assert event.actor_user_id == world.coordinator.pk
    stored = Case.objects.get(pk=world.case.pk).disclosure_at
    assert stored == datetime.fromisoformat(answer["disclosure_at"])


def test_a_session_needs_a_recent_second_factor_for_a_short_embargo() -> None:
    with time_machine.travel(START, tick=False):
        world = build_case_world()
        client = sign_in(Client(), world.coordinator, ago=3600)
        refused = client.post(
            f"/api/v1/cases/{world.case.pk}/disclosure-date/short-embargo",
            json.dumps({"disclosure_at": SOON, "reason": "Exploited."}),
            content_type="application/json",
        )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reauthentication_required"


def test_the_author_edits_a_post_through_the_api(client: Client) -> None:
    world = build_case_world()
    lead = _api(client, world.maintainer)
    made = lead("post", f"/cases/{world.case.pk}/posts", {"body": "Fix in 1.2.3"}).json()
    assert made["edited_at"] is None
    path = f"/cases/{world.case.pk}/posts/{made['id']}"
    assert _api(client, world.vendor_user)("put", path, {"body": "x"}).status_code == 403
    assert _api(client, world.outsider_user)("put", path, {"body": "x"}).status_code == 404
    edited = lead("put", path, {"body": "Fix in 1.2.4"})
    assert edited.status_code == 200
    assert edited.json()["body"] == "Fix in 1.2.4"
    assert edited.json()["edited_at"] is not None
    assert Post.objects.get(pk=made["id"]).body == "Fix in 1.2.4"
    assert lead("put", f"/cases/{world.case.pk}/posts/999999", {"body": "x"}).status_code == 404
