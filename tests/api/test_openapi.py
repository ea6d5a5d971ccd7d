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
            assert {"TokenAuth": []} in operation["security"]


def test_input_and_output_schemas_are_separate(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert {"TokenIn", "TokenOut", "TokenCreatedOut", "MeOut"} <= set(components)
    assert "token" in components["TokenCreatedOut"]["properties"]
    assert "token" not in components["TokenOut"]["properties"]


def test_there_are_no_interactive_docs_pulling_from_a_cdn(client: Client) -> None:
    assert client.get("/api/v1/docs").status_code == 404
