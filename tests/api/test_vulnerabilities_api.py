"""Vulnerabilities through the API: OSV events ranges, the older shape converted, every mistake
a 400 naming its path, update and delete audited, and the OpenAPI document saying so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import do_create_api_token
from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import CaseTag
from lockstep.cases.models import Vulnerability
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world

pytestmark = pytest.mark.django_db

PACKAGE = "pkg:pypi/libquokka"
EVENTS = [
    {"introduced": "1.0"},
    {"fixed": "1.4.2"},
    {"introduced": "2.0"},
    {"fixed": "2.1.1"},
    {"introduced": "3.0"},
    {"limit": "3.5"},
]


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()


@pytest.fixture
def lead(world: CaseWorld) -> dict[str, str]:
    _token, plaintext = do_create_api_token(
        world.maintainer, name="tests", scopes=ALL_SCOPES, actor=actor_for(world.maintainer)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def _send(client: Client, method: str, url: str, lead: dict[str, str], body: Any = None) -> Any:
    send = getattr(client, method)
    if body is None:
        return send(url, **lead)
    return send(url, json.dumps(body), content_type="application/json", **lead)


def _vulns(world: CaseWorld) -> str:
    return f"/api/v1/cases/{world.case.pk}/vulnerabilities"


def test_events_ranges_are_taken_and_given_back(
    world: CaseWorld, lead: dict[str, str], client: Client
) -> None:
    body = {
        "title": "Overflow",
        "affected": [{"purl": PACKAGE, "ranges": [{"type": "ECOSYSTEM", "events": EVENTS}]}],
        "references": [{"type": "FIX", "url": "https://git.example/c/1"}],
        "credits": [{"name": "Rita", "type": "FINDER"}],
    }
    response = _send(client, "post", _vulns(world), lead, body)
    assert response.status_code == 201, response.content
    assert response.json()["affected"] == [
        {"purl": PACKAGE, "ranges": [{"type": "ECOSYSTEM", "events": EVENTS}], "versions": []}
    ]


def test_the_older_range_shape_is_converted(
    world: CaseWorld, lead: dict[str, str], client: Client
) -> None:
    body = {
        "title": "Overflow",
        "affected": [{"purl": PACKAGE, "ranges": [{"introduced": "0", "fixed": "1.2"}]}],
    }
    response = _send(client, "post", _vulns(world), lead, body)
    assert response.status_code == 201, response.content
    assert response.json()["affected"][0]["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}
    ]


def test_every_mistake_is_a_400_with_its_path(
    world: CaseWorld, lead: dict[str, str], client: Client
) -> None:
    body = {
        "title": "Overflow",
        "cwe": "XSS",
        "affected": [
            {"purl": PACKAGE, "ranges": [{"introduced": "1.0", "limit": "2.0"}]},
            {"purl": "pkg:pypi/other", "versions": ["1.0"]},
            {
                "purl": "pkg:npm/libquokka",
                "outside_project": True,
                "ranges": [{"events": [{"introduced": "1.0"}, {"fixd": "2.0"}]}],
            },
            {
                "purl": "pkg:pypi/libquokka-extra",
                "outside_project": True,
                "ranges": [{"events": [{"introduced": "1.0"}, {"fixed": "1.0-foo"}]}],
            },
        ],
    }
    before = AuditEvent.objects.count()
    response = _send(client, "post", _vulns(world), lead, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    found = {e["field"]: e["message"] for e in error["errors"]}
    assert list(found) == [
        "cwe",
        "affected[0].ranges[0].limit",
        "affected[2].ranges[0].events[1].fixd",
        "affected[1].purl",
        "affected[3].ranges[0].events[1].fixed",
    ]
    assert "not one of libquokka's packages" in found["affected[1].purl"]
    assert "not a valid PEP 440 version" in found["affected[3].ranges[0].events[1].fixed"]
    assert error["field"] == "cwe"
    assert not Vulnerability.objects.exists()
    assert AuditEvent.objects.count() == before


def test_update_and_delete(world: CaseWorld, lead: dict[str, str], client: Client) -> None:
    created = _send(client, "post", _vulns(world), lead, {"title": "Overflow"}).json()
    url = f"{_vulns(world)}/{created['id']}"
    body = {
        "title": "Overflow in inflate()",
        "affected": [
            {"purl": PACKAGE, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}
        ],
    }
    changed = _send(client, "put", url, lead, body)
    assert changed.status_code == 200, changed.content
    assert changed.json()["affected"][0]["ranges"][0]["type"] == "SEMVER"
    event = AuditEvent.objects.get(tag=CaseTag.VULNERABILITY_CHANGED)
    assert event.data["changed"] == ["affected", "title"]
    bad = _send(client, "put", url, lead, {**body, "affected": [{"purl": PACKAGE}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "affected[0]"
    gone = _send(client, "delete", url, lead)
    assert gone.status_code == 204
    assert not Vulnerability.objects.exists()
    assert AuditEvent.objects.get(tag=CaseTag.VULNERABILITY_DELETED).data["title"] == (
        "Overflow in inflate()"
    )
    assert _send(client, "delete", url, lead).status_code == 404


def test_openapi_documents_events_and_delete(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operations = schema["paths"]["/api/v1/cases/{case_id}/vulnerabilities/{vuln_id}"]
    assert {"put", "delete"} <= set(operations)
    assert "204" in operations["delete"]["responses"]
    vulnerability_in = schema["components"]["schemas"]["VulnerabilityIn"]["properties"]
    package = vulnerability_in["affected"]["items"]
    assert {"purl", "ranges", "versions", "outside_project"} == set(package["properties"])
    new_shape = package["properties"]["ranges"]["items"]["anyOf"][0]
    assert new_shape["properties"]["type"]["enum"] == ["ECOSYSTEM", "SEMVER", "GIT"]
    event = new_shape["properties"]["events"]["items"]
    assert set(event["properties"]) == {"introduced", "fixed", "last_affected", "limit"}
    assert event["maxProperties"] == 1
    error = schema["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert "errors" in error
