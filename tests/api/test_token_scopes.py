"""Token scopes and expiry, through HTTP: what a token may do, for how long, and what it may
hand out (accounts/scopes.py, api/auth.py). Every operation's scope: tests/unit/api."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from lockstep.accounts.models import ApiToken, User
from lockstep.accounts.tokens import (
    access_api_token_by_id,
    authenticate_token,
    do_create_api_token,
    list_tokens_for,
)
from lockstep.cases.models import Post
from lockstep.core.errors import NotFound
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.world import UserFactory

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
TOKENS = "/api/v1/tokens"


def token_for(user: User, *scopes: str, name: str = "ci", days: int = 90) -> str:
    _, plaintext = do_create_api_token(
        user, name=name, scopes=set(scopes), days=days, actor=actor_for(user)
    )
    return plaintext


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def _h(plaintext: str) -> dict[str, Any]:
    return {"headers": bearer(plaintext)}


def post_json(client: Client, path: str, body: Any, **extra: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


def assert_insufficient(response: Any, scope: str) -> None:
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert response.json()["error"]["field"] is None
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="lockstep", error="insufficient_scope", scope="{scope}"'
    )


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()


# --- scopes ---------------------------------------------------------------------------------


def test_a_read_only_token_reads_but_cannot_post(world: CaseWorld) -> None:
    plaintext = token_for(world.vendor_user, "read")
    client = Client()
    posts = f"/api/v1/cases/{world.case.pk}/posts"
    assert client.get(posts, headers=bearer(plaintext)).status_code == 200
    before = Post.objects.count()
    refused = post_json(client, posts, {"body": "hello"}, headers=bearer(plaintext))
    assert_insufficient(refused, "write")
    assert "'write' scope" in refused.json()["error"]["message"]
    assert Post.objects.count() == before

    writer = token_for(world.vendor_user, "read", "write", name="writer")
    assert post_json(client, posts, {"body": "hello"}, headers=bearer(writer)).status_code == 201


def test_a_write_token_cannot_publish_or_move_the_date(world: CaseWorld) -> None:
    writer = token_for(world.maintainer, "read", "write")
    publisher = token_for(world.maintainer, "read", "publish", name="release bot")
    client = Client()
    publish = f"/api/v1/cases/{world.case.pk}/publish"
    assert_insufficient(client.post(publish, headers=bearer(writer)), "publish")
    date = f"/api/v1/cases/{world.case.pk}/disclosure-date"
    moved = post_json(client, date, {"disclosure_at": "2030-01-01T00:00:00Z"}, **_h(writer))
    assert_insufficient(moved, "publish")
    # With publish the request reaches the action, which has its own rules (under embargo a
    # case is published by its date or a confirmed breach, never by hand).
    reached = client.post(publish, headers=bearer(publisher))
    assert reached.status_code == 400
    assert reached.json()["error"]["code"] != "insufficient_scope"
    # publish does not include write.
    posts = f"/api/v1/cases/{world.case.pk}/posts"
    assert_insufficient(post_json(client, posts, {"body": "x"}, **_h(publisher)), "write")


def test_a_session_is_not_limited_by_scopes(world: CaseWorld, login: Login) -> None:
    client = login(world.maintainer)
    publish = client.post(f"/api/v1/cases/{world.case.pk}/publish")
    assert publish.status_code == 400  # the embargo's rule, not a scope
    assert publish.json()["error"]["code"] != "insufficient_scope"
    posted = post_json(client, f"/api/v1/cases/{world.case.pk}/posts", {"body": "from a browser"})
    assert posted.status_code == 201


def test_a_read_only_token_cannot_submit_a_report_as_its_user(world: CaseWorld) -> None:
    body = {"project": world.project.slug, "title": "Overflow", "description": "It overflows."}
    refused = post_json(Client(), "/api/v1/reports", body, **_h(token_for(UserFactory(), "read")))
    assert_insufficient(refused, "write")
    anonymous = post_json(Client(), "/api/v1/reports", body)
    assert anonymous.status_code == 201


# --- creating tokens with a token -----------------------------------------------------------


@pytest.mark.parametrize("own", [("read",), ("read", "publish")])
def test_creating_a_token_with_a_token_needs_write(own: Iterable[str]) -> None:
    user = UserFactory()
    refused = post_json(Client(), TOKENS, {"name": "more"}, **_h(token_for(user, *own)))
    assert_insufficient(refused, "write")
    assert ApiToken.objects.filter(user=user).count() == 1


def test_a_token_cannot_create_a_wider_token() -> None:
    user = UserFactory()
    writer = token_for(user, "read", "write")
    wider = {"name": "wider", "scopes": ["read", "publish"]}
    refused = post_json(Client(), TOKENS, wider, **_h(writer))
    assert_insufficient(refused, "read publish")
    assert "publish" in refused.json()["error"]["message"]
    assert not ApiToken.objects.filter(name="wider").exists()

    same = post_json(Client(), TOKENS, {"name": "same", "scopes": ["write", "read"]}, **_h(writer))
    assert same.status_code == 201
    assert same.json()["scopes"] == ["read", "write"]
    narrower = post_json(Client(), TOKENS, {"name": "narrower"}, **_h(writer))
    assert narrower.json()["scopes"] == ["read"]


def test_a_full_token_may_create_any_token() -> None:
    user = UserFactory()
    full = token_for(user, "read", "write", "publish")
    body = {"name": "all", "scopes": ["publish", "read", "write"], "expires_in_days": 365}
    created = post_json(Client(), TOKENS, body, **_h(full))
    assert created.status_code == 201
    assert created.json()["scopes"] == ["read", "write", "publish"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["write"]}, "scopes"),
        ({"scopes": ["read", "publish", "publish"], "expires_in_days": 0}, "expires_in_days"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["admin"]}, "scopes.0"),
        ({"expires_in_days": 366}, "expires_in_days"),
    ],
)
def test_scopes_and_lifetimes_are_checked(login: Login, body: dict[str, Any], field: str) -> None:
    refused = post_json(login(UserFactory()), TOKENS, {"name": "ci", **body})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert refused.json()["error"]["field"] == field
    assert not ApiToken.objects.exists()


def test_a_session_chooses_scopes_and_lifetime(login: Login) -> None:
    body = {"name": "release", "scopes": ["read", "publish"], "expires_in_days": 1}
    created = post_json(login(UserFactory()), TOKENS, body).json()
    assert created["scopes"] == ["read", "publish"]
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(
        created["created_at"]
    )
    assert lifetime == timedelta(days=1)


# --- expiry and last use --------------------------------------------------------------------


def test_a_token_stops_working_when_it_expires_and_is_listed_until_then() -> None:
    user = UserFactory()
    made = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    with time_machine.travel(made, tick=False) as traveller:
        token, plaintext = do_create_api_token(
            user, name="ci", scopes={"read"}, days=30, actor=actor_for(user)
        )
        assert token.expires_at == made + timedelta(days=30)
        traveller.move_to(made + timedelta(days=30, seconds=-1))
        listed = Client().get(TOKENS, headers=bearer(plaintext))
        assert listed.status_code == 200
        assert listed.json()[0]["expires_at"] == "2026-12-25T10:00:00Z"
        assert listed.json()[0]["last_used_at"] == "2026-12-25T09:59:59Z"

        traveller.move_to(made + timedelta(days=30))
        refused = Client().get("/api/v1/me", headers=bearer(plaintext))
        assert refused.status_code == 401
        assert refused.json()["error"] == {
            "code": "invalid_token",
            "message": "The API token is invalid, expired or revoked.",
            "field": None,
        }
        assert authenticate_token(plaintext) is None
        assert not list_tokens_for(actor_for(user)).exists()
        with pytest.raises(NotFound):
            access_api_token_by_id(actor_for(user), token.pk)
        # Its name is free again.
        do_create_api_token(user, name="ci", scopes={"read"}, actor=actor_for(user))


def test_the_list_shows_scopes_expiry_and_last_use(login: Login) -> None:
    user = UserFactory()
    plaintext = token_for(user, "read", "write")
    client = login(user)
    (before,) = client.get(TOKENS).json()
    assert before["last_used_at"] is None
    assert before["scopes"] == ["read", "write"]
    Client().get("/api/v1/me", headers=bearer(plaintext))
    (after,) = client.get(TOKENS).json()
    assert after["last_used_at"] is not None
