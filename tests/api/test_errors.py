"""Every error becomes the same JSON shape with the right status (lockstep/api/errors.py).

A throwaway API with the real handlers installed raises each error on demand; the last tests
go through the real /api/v1/ to show the handlers are installed there too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from django.test import Client, RequestFactory
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.testing import TestClient

from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import do_create_api_token
from lockstep.api.auth import API_AUTH, CsrfFailed, NotAuthenticated, actor_of
from lockstep.api.errors import bad_request, install_error_handlers
from lockstep.core.errors import (
    Conflict,
    LockstepError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from tests.conftest import actor_for
from tests.factories.world import UserFactory

api = NinjaAPI(urls_namespace="api-test-errors", docs_url=None)
install_error_handlers(api)

RAISED: dict[str, Exception] = {
    "not-found": NotFound("No such case."),
    "forbidden": PermissionDenied("Only the coordinator may do that."),
    "conflict": Conflict("That name is taken.", field="name"),
    "invalid": ValidationError("The date must be in the future.", field="release_at"),
    "limited": RateLimited("Too many attempts. Try again in 42 seconds.", retry_after=42),
    "plain": LockstepError("Something you asked cannot be done."),
    "http404": Http404("gone"),
    "teapot": HttpError(418, "I'm a teapot."),
    "csrf": CsrfFailed(),
    "login": NotAuthenticated(),
}


class Nested(Schema):
    when: int


class Payload(Schema):
    name: str
    items: list[Nested]


@api.get("/raise/{what}", auth=None)
def raise_it(request: HttpRequest, what: str) -> None:
    raise RAISED[what]


@api.get("/pydantic", auth=None)
def bad_model(request: HttpRequest) -> None:
    Nested.model_validate({"when": "not a number"})


@api.post("/payload", auth=None)
def take_payload(request: HttpRequest, payload: Payload) -> dict[str, str]:
    return {"name": payload.name}


@api.get("/search", auth=None)
def search(request: HttpRequest, limit: int) -> dict[str, int]:
    return {"limit": limit}


@api.get("/private", auth=API_AUTH)
def private(request: HttpRequest) -> dict[str, str]:
    return {"ok": "yes"}


@api.get("/whoami", auth=None)
def whoami(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    return {"kind": actor.kind.value, "user_id": actor.user_id}


client = TestClient(api)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert list(body) == ["error"]
    assert list(body["error"]) == ["code", "message", "field"]
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(
    ("what", "status", "code", "field"),
    [
        ("not-found", 404, "not_found", None),
        ("forbidden", 403, "permission_denied", None),
        ("conflict", 409, "conflict", "name"),
        ("invalid", 400, "invalid", "release_at"),
        ("limited", 429, "rate_limited", None),
        ("plain", 400, "error", None),
        ("http404", 404, "not_found", None),
        ("teapot", 418, "error", None),
        ("csrf", 403, "csrf_failed", None),
        ("login", 401, "not_authenticated", None),
    ],
)
def test_each_error_has_its_status_and_the_common_shape(
    what: str, status: int, code: str, field: str | None
) -> None:
    response = client.get(f"/raise/{what}")
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code
    assert error["field"] == field
    assert isinstance(error["message"], str)
    assert error["message"]
    assert response["Content-Type"].startswith("application/json")


def test_domain_messages_reach_the_client_unchanged() -> None:
    assert error_of(client.get("/raise/invalid"))["message"] == "The date must be in the future."


def test_rate_limited_says_when_to_retry() -> None:
    response = client.get("/raise/limited")
    assert response.status_code == 429
    assert response["Retry-After"] == "42"


def test_401_challenges_for_a_bearer_token() -> None:
    response = client.get("/private")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert error_of(response)["code"] == "not_authenticated"


def test_a_body_that_does_not_validate_is_400_naming_the_field() -> None:
    response = client.post("/payload", json={"name": "x", "items": [{"when": "soon"}]})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["field"] == "items.0.when"
    assert error["message"].startswith("items.0.when: ")


def test_several_problems_are_all_named() -> None:
    error = error_of(client.post("/payload", json={"items": "no"}))
    assert error["field"] == "name"
    assert "name: Field required" in error["message"]
    assert "items: " in error["message"]


def test_a_missing_query_parameter_is_400() -> None:
    response = client.get("/search")
    assert response.status_code == 400
    assert error_of(response)["field"] == "limit"
    assert client.get("/search?limit=3").json() == {"limit": 3}


def test_a_body_that_is_not_json_is_400() -> None:
    response = client.post("/payload", body=b"{not json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_pydantic_errors_raised_by_a_handler_are_400() -> None:
    response = client.get("/pydantic")
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "when"
    assert error["code"] == "invalid"


@pytest.mark.django_db
def test_actor_of_on_a_public_endpoint_reads_token_then_session() -> None:
    user = UserFactory()
    _, plaintext = do_create_api_token(user, name="ci", scopes=ALL_SCOPES, actor=actor_for(user))
    assert client.get("/whoami").json() == {"kind": "anonymous", "user_id": None}
    as_token = client.get("/whoami", headers={"Authorization": f"Bearer {plaintext}"})
    assert as_token.json() == {"kind": "user", "user_id": user.pk}
    assert client.get("/whoami", user=user).json() == {"kind": "user", "user_id": user.pk}
    refused = client.get("/whoami", headers={"Authorization": "Bearer lst_nope"})
    assert refused.status_code == 401


# --- the real API ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_real_api_answers_validation_errors_with_400_json() -> None:
    user = UserFactory()
    _, plaintext = do_create_api_token(user, name="ci", scopes=ALL_SCOPES, actor=actor_for(user))
    response = Client().post(
        "/api/v1/tokens",
        json.dumps({"name": 7}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["field"] == "name"


@pytest.mark.django_db
def test_the_real_api_answers_404_for_a_bad_path_parameter() -> None:
    user = UserFactory()
    _, plaintext = do_create_api_token(user, name="ci", scopes=ALL_SCOPES, actor=actor_for(user))
    response = Client().delete(
        "/api/v1/tokens/12345", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": "No such API token.",
        "field": None,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/search?q=a&offset=99999999999999999999", "offset"),
        ("/api/v1/advisories?offset=1000001", "offset"),
        ("/api/v1/cases/99999999999999999999", "case_id"),
        ("/api/v1/cases/0/posts", "case_id"),
    ],
)
def test_numbers_past_what_the_database_holds_are_400_not_500(path: str, field: str) -> None:
    user = UserFactory()
    _, plaintext = do_create_api_token(user, name="ci", scopes=ALL_SCOPES, actor=actor_for(user))
    response = Client(raise_request_exception=False).get(
        path, headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid", field)


@pytest.mark.django_db
def test_a_body_past_the_upload_limit_is_413_json(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    response = Client().post(
        "/api/v1/query",
        json.dumps({"package": {"purl": "x" * 200}}),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_what_django_refuses_before_the_api_is_json_too(settings: Any) -> None:
    unknown = Client().get("/api/v1/no-such-endpoint")
    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "not_found"
    bad_host = Client().get("/api/v1/advisories", HTTP_HOST="evil.example")
    assert bad_host.status_code == 400
    assert error_of(bad_host)["code"] == "bad_request"
    # Pages keep Django's own pages.
    assert Client().get("/no-such-page/").status_code == 404
    assert Client().get("/login/", HTTP_HOST="evil.example").status_code == 400


@pytest.mark.django_db
def test_text_with_a_nul_character_is_400_naming_the_field() -> None:
    api_client = Client()
    body = {"project": "x", "title": "a\x00b", "description": "d", "attachments": []}
    submitted = api_client.post("/api/v1/reports", body, content_type="application/json")
    assert submitted.status_code == 400
    assert (error_of(submitted)["code"], error_of(submitted)["field"]) == ("invalid", "title")
    nested = api_client.post(
        "/api/v1/query", {"package": {"purl": "pkg:pypi/x\x00"}}, content_type="application/json"
    )
    assert error_of(nested)["field"] == "package.purl"
    searched = api_client.get("/api/v1/search?q=quokka%00")
    assert searched.status_code == 400
    assert error_of(searched)["field"] == "q"
    # A path parameter goes to its gatekeeper: no such advisory.
    assert api_client.get("/api/v1/advisories/LOCKSTEP-2026-0001%00").status_code == 404
    # The pages' search looks for the words around it.
    assert api_client.get("/search/?q=quokka%00").status_code == 200


def test_a_body_django_refuses_before_the_api_is_413_json_too() -> None:
    answer = bad_request(RequestFactory().post("/api/v1/query"), RequestDataTooBig("big"))
    assert answer.status_code == 413
    assert json.loads(answer.content)["error"]["code"] == "too_large"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("patch", "/api/v1/tokens", "GET, POST"),
        ("put", "/api/v1/me", "GET"),
        ("get", "/api/v1/cases/1/publish", "POST"),
        ("delete", "/api/v1/query", "POST"),
        ("head", "/api/v1/advisories", "GET"),
    ],
)
def test_a_method_the_path_does_not_take_is_405_json_with_allow(
    method: str, path: str, allowed: str
) -> None:
    user = UserFactory()
    _, plaintext = do_create_api_token(user, name="ci", scopes={"read"}, actor=actor_for(user))
    response = getattr(Client(), method)(path, headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response["Content-Type"].startswith("application/json")
    if method != "head":
        assert error_of(response) == {
            "code": "method_not_allowed",
            "message": f"This endpoint does not take {method.upper()}; it takes {allowed}.",
            "field": None,
        }
