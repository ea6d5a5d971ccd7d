"""The OpenAPI document at /api/v1/openapi.json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    document: dict[str, Any] = json.loads(response.content)
    return document


def test_the_document_describes_the_lockstep_api(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Lockstep API"
    assert schema["info"]["version"] == "1"


def test_it_names_the_token_endpoints(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    assert set(paths["/api/v1/tokens"]) == {"get", "post"}
    assert set(paths["/api/v1/tokens/{token_id}"]) == {"delete"}
    assert set(paths["/api/v1/me"]) == {"get"}
    assert "201" in paths["/api/v1/tokens"]["post"]["responses"]
    assert "204" in paths["/api/v1/tokens/{token_id}"]["delete"]["responses"]


def test_it_declares_the_bearer_scheme_on_every_operation(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if s == {"type": "http", "scheme": "bearer"}]
    assert bearer == ["TokenAuth"]
    for path in ("/api/v1/tokens", "/api/v1/tokens/{token_id}", "/api/v1/me"):
        for operation in schema["paths"][path].values():
            assert any("TokenAuth" in requirement for requirement in operation["security"])


def test_the_security_requirement_names_the_token_scope(schema: dict[str, Any]) -> None:
    def security(path: str, method: str) -> list[dict[str, list[str]]]:
        found: list[dict[str, list[str]]] = schema["paths"][f"/api/v1{path}"][method]["security"]
        return found

    assert security("/tokens", "get") == [{"TokenAuth": ["read"]}, {"SessionAuth": []}]
    assert security("/tokens", "post") == [{"TokenAuth": ["write"]}, {"SessionAuth": []}]
    # A session publishes only with a second factor proven in the last minutes.
    assert security("/cases/{case_id}/publish", "post") == [
        {"TokenAuth": ["publish"]},
        {"RecentSessionAuth": []},
    ]


def test_token_schemas_show_scopes_and_expiry(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    token_in = components["TokenIn"]["properties"]
    assert token_in["scopes"]["default"] == ["read"]
    assert (token_in["expires_in_days"]["minimum"], token_in["expires_in_days"]["maximum"]) == (
        1,
        365,
    )
    assert token_in["expires_in_days"]["default"] == 90
    assert {"scopes", "created_at", "expires_at", "last_used_at"} <= set(
        components["TokenOut"]["properties"]
    )
    assert set(components["TokenOut"]["required"]) >= {"scopes", "expires_at"}


def test_403_documents_insufficient_scope_and_its_challenge(schema: dict[str, Any]) -> None:
    answer = schema["paths"]["/api/v1/me"]["get"]["responses"]["403"]
    assert "insufficient_scope" in answer["description"]
    assert "insufficient_scope" in answer["headers"]["WWW-Authenticate"]["description"]


def test_input_and_output_schemas_are_separate(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert {"TokenIn", "TokenOut", "TokenCreatedOut", "MeOut"} <= set(components)
    assert "token" in components["TokenCreatedOut"]["properties"]
    assert "token" not in components["TokenOut"]["properties"]


def test_there_are_no_interactive_docs_pulling_from_a_cdn(client: Client) -> None:
    assert client.get("/api/v1/docs").status_code == 404


def _statuses(schema: dict[str, Any], path: str, method: str) -> set[str]:
    return set(schema["paths"][f"/api/v1{path}"][method]["responses"])


def test_every_operation_lists_its_errors_in_the_one_error_shape(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "field"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"500", "503", "507"} <= set(responses), (method, path)
            for status, answer in responses.items():
                if status >= "400":
                    content = answer["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, (status, path)


@pytest.mark.parametrize(
    ("path", "method", "listed", "unlisted"),
    [
        # public, reads nothing from the caller
        ("/advisories", "get", {"200", "400"}, {"401", "403", "404", "409", "413"}),
        ("/advisories/{public_id}", "get", {"404"}, {"401", "409"}),
        ("/query", "post", {"400", "413"}, {"401", "404"}),
        # public, but a credential sent is checked; the body names a project; rate-limited
        ("/reports", "post", {"201", "400", "401", "403", "404", "413", "429"}, {"409"}),
        ("/track/{token}/public-post", "post", {"404", "409"}, {"401"}),
        # authenticated reads and writes
        ("/me", "get", {"200", "401", "403"}, {"400", "404", "409"}),
        ("/tokens", "post", {"201", "400", "401", "403", "409", "413", "429"}, {"404"}),
        ("/cases/{case_id}", "get", {"400", "401", "403", "404"}, {"409"}),
        ("/cases/{case_id}/posts", "post", {"201", "400", "401", "403", "404", "409"}, set()),
    ],
)
def test_each_operation_lists_the_statuses_it_can_give(
    schema: dict[str, Any], path: str, method: str, listed: set[str], unlisted: set[str]
) -> None:
    statuses = _statuses(schema, path, method)
    assert listed <= statuses
    assert not unlisted & statuses


def test_ids_and_offsets_are_bounded_where_the_database_would_refuse_them(
    schema: dict[str, Any],
) -> None:
    parameters = {
        p["name"]: p["schema"]
        for p in schema["paths"]["/api/v1/cases/{case_id}/posts"]["get"]["parameters"]
    }
    assert (parameters["case_id"]["minimum"], parameters["case_id"]["maximum"]) == (1, 2**63 - 1)
    assert (parameters["offset"]["minimum"], parameters["offset"]["maximum"]) == (0, 1_000_000)
    post = schema["components"]["schemas"]["PostIn"]["properties"]
    assert post["participants_only"]["default"] is False
