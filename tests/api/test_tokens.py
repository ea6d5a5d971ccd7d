"""API tokens, through HTTP (/api/v1/tokens, /api/v1/me) and through the actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from lockstep.accounts.models import ApiToken, User
from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import (
    CREATE_LIMIT,
    MAX_ACTIVE_TOKENS,
    access_api_token_by_id,
    authenticate_token,
    do_create_api_token,
    do_revoke_api_token,
    hash_token,
    list_tokens_for,
)
from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import AccountTag
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import Role
from tests.conftest import actor_for
from tests.factories.signin import sign_in
from tests.factories.world import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
TOKENS = "/api/v1/tokens"


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def new_token(
    user: User, name: str = "ci", scopes: frozenset[str] = ALL_SCOPES
) -> tuple[ApiToken, str]:
    return do_create_api_token(user, name=name, scopes=scopes, actor=actor_for(user))


def user_of(plaintext: str) -> User | None:
    token = authenticate_token(plaintext)
    return token.user if token is not None else None


def post_json(client: Client, path: str, body: Any, **extra: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    error: dict[str, Any] = body["error"]
    return error


# --- through HTTP ---------------------------------------------------------------------------


def test_create_list_and_revoke_with_a_browser_session(login: Login) -> None:
    user = UserFactory()
    client = login(user)
    created = post_json(client, TOKENS, {"name": "  CI on  build01 "})
    assert created.status_code == 201
    body = created.json()
    plaintext = body["token"]
    assert plaintext.startswith("lst_")
    assert len(plaintext) == 47
    assert body["prefix"] == plaintext[:8]
    assert body["name"] == "CI on build01"
    assert body["last_used_at"] is None
    # By default: read only, for 90 days.
    assert body["scopes"] == ["read"]
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    assert lifetime == timedelta(days=90)
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.token_hash == hash_token(plaintext)
    assert plaintext not in {stored.name, stored.prefix, stored.token_hash}

    listed = client.get(TOKENS)
    assert listed.status_code == 200
    assert listed.json() == [{k: v for k, v in body.items() if k != "token"}]

    revoked = client.delete(f"{TOKENS}/{body['id']}")
    assert revoked.status_code == 204
    assert revoked.content == b""
    assert client.get(TOKENS).json() == []
    assert error_of(client.delete(f"{TOKENS}/{body['id']}"))["code"] == "not_found"


def test_a_token_authenticates_api_calls_until_revoked() -> None:
    user = UserFactory(email="ana@example.org", display_name="Ana")
    token, plaintext = new_token(user)
    client = Client()
    me = client.get("/api/v1/me", headers=bearer(plaintext))
    assert me.status_code == 200
    assert me.json()["email"] == "ana@example.org"

    do_revoke_api_token(token, actor=actor_for(user))
    refused = client.get("/api/v1/me", headers=bearer(plaintext))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in refused["WWW-Authenticate"]
    assert error_of(refused) == {
        "code": "invalid_token",
        "message": "The API token is invalid, expired or revoked.",
        "field": None,
    }


def test_without_credentials_the_api_answers_401() -> None:
    response = Client().get(TOKENS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="lockstep"'
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    ["Bearer lst_short", "Bearer " + "x" * 47, "Bearer lst_" + "A" * 43, "Bearer"],
)
def test_malformed_or_unknown_tokens_are_401(header: str) -> None:
    response = Client().get(TOKENS, headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_a_bad_token_is_refused_even_beside_a_valid_session(login: Login) -> None:
    client = login(UserFactory())
    response = client.get(TOKENS, headers=bearer("lst_" + "A" * 43))
    assert response.status_code == 401


def test_a_token_can_create_and_revoke_tokens_without_csrf() -> None:
    user = UserFactory()
    _, plaintext = new_token(user)
    client = Client(enforce_csrf_checks=True)
    created = post_json(client, TOKENS, {"name": "deploy"}, headers=bearer(plaintext))
    assert created.status_code == 201
    gone = client.delete(f"{TOKENS}/{created.json()['id']}", headers=bearer(plaintext))
    assert gone.status_code == 204


def test_session_writes_need_the_csrf_token() -> None:
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    sign_in(client, user)
    refused = post_json(client, TOKENS, {"name": "ci"})
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "csrf_failed"
    assert not ApiToken.objects.exists()
    assert client.get(TOKENS).status_code == 200  # reads are not checked

    client.cookies["csrftoken"] = "a" * 32  # what the browser holds after any page
    accepted = post_json(client, TOKENS, {"name": "ci"}, headers={"X-CSRFToken": "a" * 32})
    assert accepted.status_code == 201


def test_a_foreign_token_id_is_404_and_stays_active(login: Login) -> None:
    owner, stranger = UserFactory(), UserFactory()
    token, plaintext = new_token(owner)
    client = login(stranger)
    foreign = client.delete(f"{TOKENS}/{token.pk}")
    missing = client.delete(f"{TOKENS}/999999")
    assert foreign.status_code == missing.status_code == 404
    assert error_of(foreign) == error_of(missing)
    assert user_of(plaintext) == owner


def test_an_operator_may_revoke_anyones_token(login: Login) -> None:
    owner, operator = UserFactory(), UserFactory(is_staff=True)
    token, plaintext = new_token(owner)
    assert login(operator).delete(f"{TOKENS}/{token.pk}").status_code == 204
    assert user_of(plaintext) is None
    event = AuditEvent.objects.get(tag=AccountTag.TOKEN_REVOKED)
    assert event.actor_user_id == operator.pk
    assert event.data["user_id"] == owner.pk


def test_names_are_checked(login: Login) -> None:
    client = login(UserFactory())
    empty = post_json(client, TOKENS, {"name": ""})
    assert empty.status_code == 400
    assert error_of(empty)["field"] == "name"
    assert error_of(empty)["code"] == "invalid"
    blank = post_json(client, TOKENS, {"name": "   "})
    assert blank.status_code == 400
    assert error_of(blank) == {
        "code": "invalid",
        "message": "Give the token a name that says what it is for.",
        "field": "name",
    }
    assert post_json(client, TOKENS, {"name": "ci"}).status_code == 201
    twice = post_json(client, TOKENS, {"name": "CI"})
    assert twice.status_code == 409
    assert error_of(twice)["field"] == "name"


def test_token_creation_is_rate_limited(login: Login) -> None:
    client = login(UserFactory())
    for n in range(CREATE_LIMIT):
        assert post_json(client, TOKENS, {"name": f"t{n}"}).status_code == 201
    refused = post_json(client, TOKENS, {"name": "one more"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert error_of(refused)["code"] == "rate_limited"
    assert ApiToken.objects.count() == CREATE_LIMIT


def test_me_names_the_user_and_their_organisations(system: Actor) -> None:
    user = UserFactory(email="bo@example.org", display_name="Bo")
    northwind = OrganizationFactory(name="Northwind", slug="northwind")
    acme = OrganizationFactory(name="Acme", slug="acme")
    do_add_member(northwind, user, role=Role.ADMIN, actor=system)
    do_add_member(acme, user, actor=system)
    OrganizationFactory(name="Elsewhere")
    _, plaintext = new_token(user)
    me = Client().get("/api/v1/me", headers=bearer(plaintext)).json()
    assert me == {
        "id": user.pk,
        "email": "bo@example.org",
        "display_name": "Bo",
        "is_staff": False,
        "organisations": [
            {"slug": "acme", "name": "Acme", "kind": "vendor", "role": "member"},
            {"slug": "northwind", "name": "Northwind", "kind": "vendor", "role": "admin"},
        ],
    }


# --- the actions and reads ------------------------------------------------------------------


def test_the_plaintext_never_reaches_the_audit_log() -> None:
    user = UserFactory()
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), tick=False):
        token, plaintext = do_create_api_token(
            user, name="release bot", scopes={"publish", "read"}, days=30, actor=actor_for(user)
        )
    do_revoke_api_token(token, actor=actor_for(user))
    events = list(AuditEvent.objects.filter(object_type="api_token").order_by("seq"))
    assert [e.tag for e in events] == [AccountTag.TOKEN_CREATED, AccountTag.TOKEN_REVOKED]
    named = {"user_id": user.pk, "name": "release bot", "prefix": token.prefix}
    assert events[0].data == {
        **named,
        "scopes": ["read", "publish"],
        "expires_at": "2026-12-25T10:00:00Z",
    }
    assert events[1].data == named
    everything = json.dumps([list(AuditEvent.objects.values())], default=str)
    assert plaintext not in everything
    assert plaintext[8:] not in everything
    assert token.token_hash not in everything


def test_last_used_at_is_written_at_most_once_a_minute(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    token, plaintext = new_token(UserFactory())
    first = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    with time_machine.travel(first, tick=False) as traveller:
        assert user_of(plaintext) is not None
        token.refresh_from_db()
        assert token.last_used_at == first

        traveller.shift(30)
        with django_assert_num_queries(1):  # the lookup only, no write
            assert user_of(plaintext) is not None
        token.refresh_from_db()
        assert token.last_used_at == first

        traveller.shift(31)
        assert user_of(plaintext) is not None
        token.refresh_from_db()
        assert token.last_used_at == first + timedelta(seconds=61)


def test_tokens_of_deactivated_users_do_not_work() -> None:
    user = UserFactory()
    _, plaintext = new_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert user_of(plaintext) is None
    user.refresh_from_db()
    with pytest.raises(PermissionDenied, match="deactivated"):
        new_token(user, name="another")


def test_only_the_owner_or_lockstep_creates_tokens(system: Actor) -> None:
    owner, operator = UserFactory(), UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        do_create_api_token(owner, name="x", scopes={"read"}, actor=actor_for(operator))
    token, plaintext = do_create_api_token(owner, name="x", scopes={"read"}, actor=system)
    assert user_of(plaintext) == owner
    assert token.user == owner


def test_revoking_needs_the_owner_or_an_operator_and_happens_once() -> None:
    owner, stranger = UserFactory(), UserFactory()
    token, _ = new_token(owner)
    with pytest.raises(NotFound):
        do_revoke_api_token(token, actor=actor_for(stranger))
    with pytest.raises(NotFound):
        access_api_token_by_id(actor_for(stranger), token.pk)
    assert access_api_token_by_id(actor_for(owner), token.pk) == token
    do_revoke_api_token(token, actor=actor_for(owner))
    with pytest.raises(NotFound):
        do_revoke_api_token(token, actor=actor_for(owner))
    with pytest.raises(NotFound):
        access_api_token_by_id(actor_for(owner), token.pk)
    assert AuditEvent.objects.filter(tag=AccountTag.TOKEN_REVOKED).count() == 1


@pytest.mark.parametrize("days", [0, 366, -5])
def test_a_lifetime_outside_1_to_365_days_is_refused(days: int) -> None:
    user = UserFactory()
    with pytest.raises(ValidationError, match="between 1 and 365 days") as refused:
        do_create_api_token(user, name="ci", scopes={"read"}, days=days, actor=actor_for(user))
    assert refused.value.field == "expires_in_days"
    assert not ApiToken.objects.exists()


def test_name_rules_and_the_cap_on_active_tokens() -> None:
    user = UserFactory()
    with pytest.raises(ValidationError, match="at most 100"):
        new_token(user, name="x" * 101)
    for n in range(MAX_ACTIVE_TOKENS):
        new_token(user, name=f"t{n}")
    with pytest.raises(Conflict, match="revoke one first"):
        new_token(user, name="too many")
    oldest = ApiToken.objects.get(user=user, name="t0")
    do_revoke_api_token(oldest, actor=actor_for(user))
    new_token(user, name="t0")  # a revoked token's name is free again


def test_lists_hold_only_my_active_tokens() -> None:
    me, other = UserFactory(), UserFactory()
    first, _ = new_token(me, name="first")
    second, _ = new_token(me, name="second")
    new_token(other)
    do_revoke_api_token(first, actor=actor_for(me))
    assert list(list_tokens_for(actor_for(me))) == [second]
    assert not list_tokens_for(Actor.anonymous()).exists()
    assert str(second) == f"second ({second.prefix}…)"
    assert second.is_active


def test_a_session_makes_a_token_only_with_a_recent_second_factor() -> None:
    user = UserFactory()
    client = Client()
    sign_in(client, user, ago=3600)
    refused = post_json(client, TOKENS, {"name": "ci"})
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "reauthentication_required"
    assert not ApiToken.objects.exists()
    sign_in(client, user)
    assert post_json(client, TOKENS, {"name": "ci"}).status_code == 201
