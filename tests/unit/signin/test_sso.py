"""The pure half of single sign-on (lockstep.signin.sso): what a provider's answer is worth."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.signin.sso import (
    Refusal,
    SsoRefused,
    admit,
    form_action_origins,
    method_label,
    verified_address,
)

ISSUER = "https://login.example.org/realms/corp"


def _answer(**userinfo: Any) -> dict[str, Any]:
    id_token = {"iss": ISSUER, "sub": "s-1", "email": "id@example.org", "email_verified": True}
    return {"id_token": id_token, "userinfo": {"sub": "s-1", **userinfo}}


def _refusal(extra_data: dict[str, Any], issuer: str = ISSUER) -> Refusal:
    with pytest.raises(SsoRefused) as refused:
        verified_address(extra_data, issuer=issuer)
    return refused.value.reason


@pytest.mark.parametrize("verified", [True, "true", "TRUE "])
def test_a_verified_address_is_read_from_the_userinfo_in_lower_case(verified: object) -> None:
    extra = _answer(email=" Ada@Example.ORG", email_verified=verified)
    assert verified_address(extra, issuer=ISSUER) == "ada@example.org"


@pytest.mark.parametrize("verified", [False, "false", "yes", 1, None, "1"])
def test_anything_but_true_is_not_verified(verified: object) -> None:
    assert _refusal(_answer(email="ada@example.org", email_verified=verified)) is Refusal.UNVERIFIED


def test_an_address_without_a_verified_claim_or_without_an_address_is_refused() -> None:
    assert _refusal(_answer(email="ada@example.org")) is Refusal.UNVERIFIED
    assert _refusal(_answer(email_verified=True)) is Refusal.UNVERIFIED
    assert _refusal(_answer(email="not an address", email_verified=True)) is Refusal.UNVERIFIED


def test_without_userinfo_the_id_token_s_claims_are_read() -> None:
    extra = _answer()
    del extra["userinfo"]
    assert verified_address(extra, issuer=ISSUER) == "id@example.org"
    assert verified_address(extra, issuer=ISSUER + "/") == "id@example.org"


def test_an_answer_that_does_not_hang_together_is_refused() -> None:
    assert _refusal({"userinfo": {"sub": "s-1"}}) is Refusal.INCONSISTENT  # no ID token
    assert _refusal(_answer(), issuer="https://other.example.org") is Refusal.INCONSISTENT
    other_subject = _answer(email="ada@example.org", email_verified=True)
    other_subject["userinfo"]["sub"] = "s-2"
    assert _refusal(other_subject) is Refusal.INCONSISTENT
    no_subject = _answer()
    no_subject["id_token"]["sub"] = ""
    assert _refusal(no_subject) is Refusal.INCONSISTENT


def test_only_signing_in_is_offered() -> None:
    with pytest.raises(SsoRefused) as refused:
        admit(process="connect", provider_id="corp", issuer=ISSUER, extra_data={}, connected=None)
    assert refused.value.reason is Refusal.NOT_OFFERED


def test_the_sign_in_method_names_the_provider() -> None:
    assert method_label("corp") == "oidc:corp"


def test_the_sign_in_page_may_send_forms_to_each_provider_s_origins() -> None:
    apps = [
        {"server_url": "https://login.example.org/realms/corp"},
        {"server_url": "https://login.example.org/realms/other"},
        {"server_url": "https://idp.example.com", "authorization_origin": "https://a.example.com"},
        {},
    ]
    assert form_action_origins(apps) == [
        "https://login.example.org",
        "https://idp.example.com",
        "https://a.example.com",
    ]
