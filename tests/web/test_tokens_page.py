"""The API tokens page, /account/tokens/."""

from __future__ import annotations

import re
from collections.abc import Callable

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
    created = client.post(PAGE, {"name": "CI on build01"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    html = created.content.decode()
    plaintext = shown_token(html)
    assert plaintext is not None
    assert "it will not be shown again" in html
    assert authenticate_token(plaintext) == user

    again = client.get(PAGE).content.decode()
    assert plaintext not in again
    assert shown_token(again) is None
    assert "CI on build01" in again
    assert f"{plaintext[:8]}…" in again


def test_a_name_is_required_and_unique(login: Login) -> None:
    user = UserFactory()
    do_create_api_token(user, name="ci", actor=actor_for(user))
    client = login(user)
    blank = client.post(PAGE, {"name": ""})
    assert blank.status_code == 400
    assert 'role="alert"' in blank.content.decode()
    twice = client.post(PAGE, {"name": "CI"})
    assert twice.status_code == 400
    assert "already have a token named" in twice.content.decode()
    assert shown_token(twice.content.decode()) is None
    assert ApiToken.objects.count() == 1


def test_creating_is_rate_limited(login: Login) -> None:
    client = login(UserFactory())
    for n in range(CREATE_LIMIT):
        assert client.post(PAGE, {"name": f"t{n}"}).status_code == 200
    refused = client.post(PAGE, {"name": "one more"})
    assert refused.status_code == 400
    assert "Too many attempts" in refused.content.decode()


def test_revoking_my_token(login: Login) -> None:
    user = UserFactory()
    token, plaintext = do_create_api_token(user, name="old laptop", actor=actor_for(user))
    client = login(user)
    response = client.post(PAGE, {"revoke": token.pk}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    html = response.content.decode()
    assert f"Token “old laptop” ({token.prefix}…) revoked." in html
    assert "No token yet." in html
    assert authenticate_token(plaintext) is None


@pytest.mark.parametrize("value", ["foreign", "999999", "not-a-number", ""])
def test_revoking_anything_else_is_404(login: Login, value: str) -> None:
    owner = UserFactory()
    token, plaintext = do_create_api_token(owner, name="ci", actor=actor_for(owner))
    client = login(UserFactory())
    response = client.post(PAGE, {"revoke": token.pk if value == "foreign" else value})
    assert response.status_code == 404
    assert authenticate_token(plaintext) == owner
