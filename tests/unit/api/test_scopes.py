"""Which token scope every API operation needs: one table, checked against the API itself.

The table must name every operation of the OpenAPI document, so a new endpoint cannot be added
without deciding what a token needs for it (api/auth.py says how to declare it). `None`: a
public operation; a token sent to one that reads the caller is held to the method rule
(tests/api/test_token_scopes.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from lockstep.accounts.models import ApiToken
from lockstep.accounts.scopes import Scope
from lockstep.accounts.tokens import do_create_api_token
from lockstep.api.v1.api import api
from tests.conftest import actor_for
from tests.factories.world import UserFactory

READ, WRITE, PUBLISH = Scope.READ, Scope.WRITE, Scope.PUBLISH

SCOPE_OF: dict[tuple[str, str], Scope | None] = {
    # account
    ("get", "/me"): READ,
    ("get", "/tokens"): READ,
    ("post", "/tokens"): WRITE,  # and no scope the calling token lacks (accounts/tokens.py)
    ("delete", "/tokens/{token_id}"): WRITE,
    # reports: the submission and the reporter's tracking link are public
    ("post", "/reports"): None,  # a token sent needs write: it submits as its user
    ("get", "/track/{token}"): None,
    ("post", "/track/{token}/messages"): None,
    ("post", "/track/{token}/public-post"): None,  # the tracking token, not a bearer token
    ("get", "/reports"): READ,
    ("get", "/reports/{report_id}"): READ,
    ("post", "/reports/{report_id}/messages"): WRITE,
    # Accepting opens a private case; even an unembargoed route publishes nothing yet.
    ("post", "/reports/{report_id}/accept"): WRITE,
    ("post", "/reports/{report_id}/decline"): WRITE,
    ("post", "/reports/{report_id}/duplicate"): WRITE,
    ("post", "/reports/{report_id}/spam"): WRITE,
    # cases
    ("get", "/cases"): READ,
    ("get", "/cases/{case_id}"): READ,
    ("get", "/cases/{case_id}/participants"): READ,
    ("post", "/cases/{case_id}/participants"): WRITE,  # need-to-know, not public
    ("delete", "/cases/{case_id}/participants/{participant_id}"): WRITE,
    ("get", "/cases/{case_id}/posts"): READ,
    ("post", "/cases/{case_id}/posts"): WRITE,  # case posts stay in the case
    ("put", "/cases/{case_id}/posts/{post_id}"): WRITE,  # the author's own post, in the case
    ("post", "/cases/{case_id}/disclosure-date"): PUBLISH,  # can bring the date forward
    ("post", "/cases/{case_id}/invite-channel"): WRITE,  # a private list, not the public
    ("post", "/cases/{case_id}/vulnerabilities"): WRITE,
    ("put", "/cases/{case_id}/vulnerabilities/{vuln_id}"): WRITE,
    ("delete", "/cases/{case_id}/vulnerabilities/{vuln_id}"): WRITE,
    ("put", "/cases/{case_id}/vulnerabilities/{vuln_id}/status"): WRITE,
    # embargo
    ("get", "/cases/{case_id}/embargo"): READ,
    ("post", "/cases/{case_id}/disclosure-date/agree"): WRITE,  # the date does not move
    ("post", "/cases/{case_id}/disclosure-date/confirm"): WRITE,  # the date does not move
    ("post", "/cases/{case_id}/disclosure-date/short-embargo"): PUBLISH,  # shortens it
    ("post", "/cases/{case_id}/extensions"): WRITE,  # asks for a later date
    ("post", "/cases/{case_id}/extensions/{request_id}/decision"): WRITE,  # later, or as is
    ("post", "/cases/{case_id}/breaches"): WRITE,  # a report; only confirming ends it
    ("post", "/cases/{case_id}/breaches/{breach_id}/confirm"): PUBLISH,  # publishes
    ("post", "/cases/{case_id}/breaches/{breach_id}/dismiss"): WRITE,  # the embargo stands
    ("post", "/cases/{case_id}/early-release"): PUBLISH,  # the fix ships before the date
    ("put", "/cases/{case_id}/advisory-draft"): WRITE,  # public only when published
    ("post", "/cases/{case_id}/publish"): PUBLISH,
    # CVE IDs
    ("get", "/cases/{case_id}/cves"): READ,
    ("post", "/cases/{case_id}/vulnerabilities/{vuln_id}/cve"): WRITE,  # reserved: no details
    ("post", "/cases/{case_id}/cves/{cve_id}/reject"): PUBLISH,  # cve.org shows the rejection
    ("post", "/cases/{case_id}/cves/{cve_id}/assign"): WRITE,
    # organisations and accounts: administration, nothing public
    ("get", "/orgs/{slug}/members"): READ,
    ("patch", "/orgs/{slug}/members/{user_id}"): WRITE,
    ("delete", "/orgs/{slug}/members/{user_id}"): WRITE,
    ("get", "/orgs/{slug}/invitations"): READ,
    ("post", "/orgs/{slug}/invitations"): WRITE,
    ("delete", "/orgs/{slug}/invitations/{invitation_id}"): WRITE,
    ("post", "/users/{user_id}/deactivate"): WRITE,
    ("post", "/users/{user_id}/reactivate"): WRITE,
    # public advisories and search
    ("get", "/advisories"): None,
    ("get", "/advisories/{public_id}"): None,
    ("post", "/query"): None,
    ("get", "/search"): None,
}


def _document_scopes() -> dict[tuple[str, str], Scope | None]:
    found: dict[tuple[str, str], Scope | None] = {}
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            key = (method, path.removeprefix("/api/v1"))
            token = [r["TokenAuth"] for r in operation.get("security", []) if "TokenAuth" in r]
            found[key] = Scope(*token[0]) if token else None
    return found


def test_every_operation_is_listed_with_the_scope_it_needs() -> None:
    assert _document_scopes() == SCOPE_OF


def test_safe_methods_need_read_and_only_publishing_is_declared() -> None:
    for (method, path), scope in SCOPE_OF.items():
        if scope is None:
            continue
        if method == "get":
            assert scope is READ, path
        else:
            assert scope in {WRITE, PUBLISH}, (method, path)


def _fill(path: str) -> str:
    """Path parameters that name nothing: the scope is checked before anything is looked up."""
    texts = {"{cve_id}": "CVE-2026-99999", "{slug}": "no-such-org"}
    for name, value in texts.items():
        path = path.replace(name, value)
    return re.sub(r"\{\w+_id\}", "999999", path)


def _without(scope: Scope) -> set[str]:
    """The widest token that lacks `scope` (every token has read)."""
    return {"read", "write", "publish"} - {scope.value}


NEEDING_MORE_THAN_READ = sorted(
    (method, path, scope) for (method, path), scope in SCOPE_OF.items() if scope in {WRITE, PUBLISH}
)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "scope"), NEEDING_MORE_THAN_READ)
def test_a_token_without_the_scope_is_refused_before_anything_else(
    method: str, path: str, scope: Scope
) -> None:
    user = UserFactory()
    _, plaintext = do_create_api_token(
        user, name="narrow", scopes=_without(scope), actor=actor_for(user)
    )
    send = getattr(Client(), method)
    response: Any = send(
        f"/api/v1{_fill(path)}",
        "{not even json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="lockstep", error="insufficient_scope", scope="{scope}"'
    )
    assert ApiToken.objects.count() == 1  # nothing was made, not even by POST /tokens
