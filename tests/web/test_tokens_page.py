"""The API tokens page, /account/tokens/."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client

from lockstep.accounts.models import ApiToken, User
from lockstep.accounts.tokens import CREATE_LIMIT, authenticate_token, do_create_api_token
from tests.conftest import actor_for
from tests.factories.world import UserFactory

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
PAGE = "/account/tokens/"


def shown_token(html: str) -> str | None:
    match = re.search(r'id="new-token" value="(lst_[A-Za-z0-9_-]{43})"', html)
    return match.group(1) if match else None


def user_of(plaintext: str) -> User | None:
    token = authenticate_token(plaintext)
    return token.user if token is not None else None


def form(name: str, *scopes: str, days: int = 90) -> dict[str, object]:
    return {"name": name, "scopes": list(scopes or ["read"]), "expires_in_days": days}


def test_anonymous_visitors_are_sent_to_login(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={PAGE}"


def test_the_page_is_linked_from_the_menu_and_starts_empty(login: Login) -> None:
    client = login(UserFactory())
    home = client.get("/").content.decode()
    assert f'href="{PAGE}">API tokens</a>' in home
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "No token yet." in page.content.decode()


def test_a_new_token_is_shown_once(login: Login) -> None:
    user = UserFactory()
    client = login(user)
    created = client.post(PAGE, form("CI on build01"))
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    html = created.content.decode()
    plaintext = shown_token(html)
    assert plaintext is not None
    assert "it will not be shown again" in html
    assert user_of(plaintext) == user

    again = client.get(PAGE).content.decode()
    assert plaintext not in again
    assert shown_token(again) is None
    assert "CI on build01" in again
    assert f"{plaintext[:8]}…" in again


def test_a_name_is_required_and_unique(login: Login) -> None:
    user = UserFactory()
    do_create_api_token(user, name="ci", scopes={"read"}, actor=actor_for(user))
    client = login(user)
    blank = client.post(PAGE, form(""))
    assert blank.status_code == 400
    assert 'role="alert"' in blank.content.decode()
    twice = client.post(PAGE, form("CI"))
    assert twice.status_code == 400
    assert "already have a token named" in twice.content.decode()
    assert shown_token(twice.content.decode()) is None
    assert ApiToken.objects.count() == 1


def test_creating_is_rate_limited(login: Login) -> None:
    client = login(UserFactory())
    for n in range(CREATE_LIMIT):
        assert client.post(PAGE, form(f"t{n}")).status_code == 200
    refused = client.post(PAGE, form("one more"))
    assert refused.status_code == 400
    assert "Too many attempts" in refused.content.decode()


def test_revoking_my_token(login: Login) -> None:
    user = UserFactory()
    token, plaintext = do_create_api_token(
        user, name="old laptop", scopes={"read"}, actor=actor_for(user)
    )
    client = login(user)
    response = client.post(PAGE, {"revoke": token.pk}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    html = response.content.decode()
    assert f"Token “old laptop” ({token.prefix}…) revoked." in html
    assert "No token yet." in html
    assert user_of(plaintext) is None


@pytest.mark.parametrize("value", ["foreign", "999999", "not-a-number", ""])
def test_revoking_anything_else_is_404(login: Login, value: str) -> None:
    owner = UserFactory()
    token, plaintext = do_create_api_token(
        owner, name="ci", scopes={"read"}, actor=actor_for(owner)
    )
    client = login(UserFactory())
    response = client.post(PAGE, {"revoke": token.pk if value == "foreign" else value})
    assert response.status_code == 404
    assert user_of(plaintext) == owner


def test_the_form_starts_with_read_ticked_and_90_days(login: Login) -> None:
    html = login(UserFactory()).get(PAGE).content.decode()
    assert re.search(r'<input type="checkbox" name="scopes" value="read"[^>]* checked>', html)
    assert not re.search(r'value="write"[^>]* checked', html)
    assert not re.search(r'value="publish"[^>]* checked', html)
    assert '<option value="90" selected>90 days</option>' in html
    for days in (30, 180, 365):
        assert f'<option value="{days}">{days} days</option>' in html
    assert " style=" not in html  # CSP: no inline styles


def test_a_token_gets_the_scopes_and_lifetime_chosen(login: Login) -> None:
    user = UserFactory()
    created = login(user).post(PAGE, form("deploy", "read", "write", days=30))
    assert created.status_code == 200
    html = created.content.decode()
    token = ApiToken.objects.get(user=user)
    assert token.scopes == "read write"
    assert token.expires_at - token.created_at == timedelta(days=30)
    assert "Scopes: <code>read write</code>" in html
    assert f"It expires on {token.expires_at:%Y-%m-%d %H:%M} UTC" in html


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (form("x", "write"), "needs read as well"),
        (form("x", "read", "admin"), "Select a valid choice"),
        ({"name": "x", "expires_in_days": 90}, "Choose at least one scope"),
        (form("x", days=7), "Select a valid choice"),
    ],
)
def test_scopes_and_lifetime_are_checked(
    login: Login, sent: dict[str, object], message: str
) -> None:
    refused = login(UserFactory()).post(PAGE, sent)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert message in html
    assert 'role="alert"' in html
    assert shown_token(html) is None
    assert not ApiToken.objects.exists()


def test_the_list_shows_scopes_dates_and_last_use(login: Login) -> None:
    user = UserFactory()
    token, plaintext = do_create_api_token(
        user, name="release bot", scopes={"read", "publish"}, days=180, actor=actor_for(user)
    )
    client = login(user)
    html = client.get(PAGE).content.decode()
    assert "<th>Scopes</th><th>Created</th><th>Expires</th><th>Last used</th>" in html
    assert '<span class="tag">read</span> <span class="tag">publish</span>' in html
    assert f"{token.created_at:%Y-%m-%d %H:%M} UTC" in html
    assert f"{token.expires_at:%Y-%m-%d %H:%M} UTC" in html
    assert '<span class="muted">never</span>' in html
    authenticate_token(plaintext)
    assert '<span class="muted">never</span>' not in client.get(PAGE).content.decode()
