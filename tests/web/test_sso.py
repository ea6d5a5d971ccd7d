"""Single sign-on by OpenID Connect, end to end: the test client is the browser, allauth is the
relying party as it runs in production (nothing of it is mocked), and a fake OpenID Provider
(tests/fakes/openid_provider.py) answers on 127.0.0.1. The provider is configured for each test
through the `settings` fixture, from the same JSON that LOCKSTEP_OIDC_PROVIDERS holds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, ProxyHandler, Request, build_opener

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from config.settings.oidc import oidc_apps
from lockstep.accounts.actions import do_deactivate_user
from lockstep.accounts.models import User
from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import AccountTag
from lockstep.core.actor import Actor
from lockstep.mailgw.models import OutboundMessage
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import Role
from lockstep.signin.adapters import SocialAccountAdapter
from tests.factories.world import OrganizationFactory, UserFactory
from tests.fakes.openid_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    MISSING,
    FakeOpenIDProvider,
    Person,
    serve_openid_provider,
)

pytestmark = pytest.mark.django_db
CALLBACK = "http://testserver/oidc/corp/login/callback/"


def _configure(settings: Any, server_url: str, *, secret: str = CLIENT_SECRET) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": oidc_apps(
                json.dumps(
                    [
                        {
                            "id": "corp",
                            "name": "Example Corp",
                            "server_url": server_url,
                            "client_id": CLIENT_ID,
                            "secret": secret,
                        }
                    ]
                )
            )
        }
    }


@pytest.fixture
def provider(settings: Any) -> Iterator[FakeOpenIDProvider]:
    with serve_openid_provider([CALLBACK]) as running:
        _configure(settings, running.issuer)
        yield running


class _Stay(HTTPRedirectHandler):
    """The browser at the provider: the redirect back to Lockstep is handed to the test client."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


BROWSER = build_opener(ProxyHandler({}), _Stay)


def _at_provider(url: str) -> str:
    """Follow the authorization request at the provider; return where it sends the browser."""
    with pytest.raises(HTTPError) as answer:  # a redirect not followed is an "error" to urllib
        BROWSER.open(Request(url), timeout=10)
    with answer.value as redirect:
        assert redirect.code == 302, redirect.read()
        return str(redirect.headers["Location"])


def _sso(client: Client, provider: FakeOpenIDProvider, person: Person | None) -> Any:
    """Press "Log in with Example Corp", sign in at the provider as `person`, come back."""
    provider.person = person
    start = client.post("/oidc/corp/login/")
    assert start.status_code == 302, start.content
    authorize = start["Location"]
    assert authorize.startswith(f"{provider.issuer}/authorize?")
    back = urlsplit(_at_provider(authorize))
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(back.path, QUERY_STRING=back.query)


def _signed_in_as(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def _events(tag: AccountTag) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(tag=tag).order_by("seq"))


def test_the_login_page_offers_single_sign_on_only_when_a_provider_is_configured(
    client: Client, settings: Any
) -> None:
    assert "/oidc/" not in client.get("/login/").content.decode()
    _configure(settings, "https://login.example.org/realms/corp")
    page = client.get("/login/?next=/cases/")
    body = page.content.decode()
    assert 'action="/oidc/corp/login/"' in body
    assert "Log in with Example Corp" in body
    assert '<input type="hidden" name="next" value="/cases/">' in body
    # The button's POST is answered with a redirect to the provider: the policy lets it go there.
    policy = page["Content-Security-Policy"]
    assert "form-action 'self' https://login.example.org" in policy
    # allauth's own "Continue" page (a GET of the button's address) too.
    confirm = client.get("/oidc/corp/login/")
    assert confirm.status_code == 200
    assert "form-action 'self' https://login.example.org" in confirm["Content-Security-Policy"]
    assert 'href="/static/web/lockstep.css"' in confirm.content.decode()
    # A sign-on starts with a POST that carries the page's CSRF token, never with a bare link.
    assert Client(enforce_csrf_checks=True).post("/oidc/corp/login/").status_code == 403


def test_an_existing_account_signs_in_by_its_verified_address_connected_at_first_use(
    client: Client, provider: FakeOpenIDProvider
) -> None:
    user = UserFactory(email="ada@example.org")
    answer = _sso(client, provider, Person(sub="ada-at-corp", email="Ada@Example.org"))
    assert answer.status_code == 302
    assert answer["Location"] == "/"
    assert _signed_in_as(client) == user.pk
    assert client.get("/").status_code == 200
    # The protocol as a provider sees it: discovery, authorization, code for tokens, userinfo.
    [asked] = provider.authorizations
    assert sorted(asked["scope"].split()) == ["email", "openid", "profile"]
    assert asked["code_challenge_method"] == "S256"  # PKCE, checked at the token endpoint
    assert asked["redirect_uri"] == CALLBACK
    assert ("POST", "/token") in provider.requests
    assert ("GET", "/userinfo") in provider.requests
    identity = SocialAccount.objects.get(provider="corp")
    assert (identity.user_id, identity.uid) == (user.pk, "ada-at-corp")
    [connected] = _events(AccountTag.SSO_CONNECTED)
    assert connected.object_id == str(user.pk)
    assert connected.data["provider"] == "corp"
    assert connected.data["subject"] == "ada-at-corp"
    [signed_in] = _events(AccountTag.SIGNED_IN)
    assert signed_in.data["method"] == "oidc:corp"
    told = OutboundMessage.objects.filter(to_address="ada@example.org")
    assert any("Third-Party Account Connected" in m.subject for m in told), list(told)
    user.refresh_from_db()
    assert user.has_usable_password()  # the password still works: SSO adds a way in

    # The next time, the connected identity signs in; nothing is connected again.
    again = Client()
    assert _sso(again, provider, Person(sub="ada-at-corp", email="ada@example.org")).status_code
    assert _signed_in_as(again) == user.pk
    assert len(_events(AccountTag.SSO_CONNECTED)) == 1
    assert len(_events(AccountTag.SIGNED_IN)) == 2


@pytest.mark.parametrize("verified", [False, "false", MISSING, 1])
def test_an_address_the_provider_has_not_verified_signs_in_nobody(
    client: Client, provider: FakeOpenIDProvider, verified: object
) -> None:
    UserFactory(email="bob@example.org")
    person = Person(sub="bob-at-corp", email="bob@example.org", email_verified=verified)
    answer = _sso(client, provider, person)
    assert answer.status_code == 403
    assert "did not say that it has verified your e-mail address" in answer.content.decode()
    assert _signed_in_as(client) is None
    assert not SocialAccount.objects.exists()
    [refused] = _events(AccountTag.SSO_REFUSED)
    # An unverified address names no account: the refusal is the provider's.
    assert (refused.object_type, refused.object_id) == ("sso-provider", "corp")
    assert refused.data["reason"] == "unverified-address"


def test_an_unknown_address_signs_in_nobody_and_makes_no_account(
    client: Client, provider: FakeOpenIDProvider
) -> None:
    UserFactory(email="someone@example.org")
    users = User.objects.count()
    answer = _sso(client, provider, Person(sub="eve-at-corp", email="eve@example.org"))
    assert answer.status_code == 403
    assert "Single sign-on does not create accounts" in answer.content.decode()
    assert _signed_in_as(client) is None
    assert User.objects.count() == users
    assert not User.objects.filter(email="eve@example.org").exists()
    assert not SocialAccount.objects.exists()
    [refused] = _events(AccountTag.SSO_REFUSED)
    assert (refused.object_type, refused.object_id) == ("sso-provider", "corp")
    assert refused.data["reason"] == "no-account"
    assert "eve@example.org" not in json.dumps(refused.data)


def test_a_deactivated_account_is_refused_connected_or_not(
    client: Client, provider: FakeOpenIDProvider
) -> None:
    user = UserFactory(email="gone@example.org")
    person = Person(sub="gone-at-corp", email="gone@example.org")
    _sso(Client(), provider, person)  # connected while active
    do_deactivate_user(user, actor=Actor.system("tests"))
    answer = _sso(client, provider, person)
    assert answer.status_code == 403
    assert "deactivated" in answer.content.decode()
    assert _signed_in_as(client) is None
    never = UserFactory(email="never@example.org")
    do_deactivate_user(never, actor=Actor.system("tests"))
    answer = _sso(client, provider, Person(sub="never-at-corp", email="never@example.org"))
    assert answer.status_code == 403
    assert not SocialAccount.objects.filter(user_id=never.pk).exists()
    reasons = [event.data["reason"] for event in _events(AccountTag.SSO_REFUSED)]
    assert reasons == ["inactive-account", "inactive-account"]


def test_an_address_given_to_a_new_identity_or_moved_away_signs_in_nobody(
    client: Client, provider: FakeOpenIDProvider
) -> None:
    UserFactory(email="carol@example.org")
    _sso(Client(), provider, Person(sub="carol-at-corp", email="carol@example.org"))
    # The provider gives Carol's address to another identity (a reused mailbox).
    answer = _sso(client, provider, Person(sub="newcomer-at-corp", email="carol@example.org"))
    assert answer.status_code == 403
    # Carol's identity now carries another address than her account's.
    answer = _sso(client, provider, Person(sub="carol-at-corp", email="carol@elsewhere.org"))
    assert answer.status_code == 403
    assert _signed_in_as(client) is None
    reasons = [event.data["reason"] for event in _events(AccountTag.SSO_REFUSED)]
    assert reasons == ["other-identity", "address-differs"]


def test_an_account_with_a_second_factor_is_asked_for_it_after_the_provider(
    client: Client, provider: FakeOpenIDProvider
) -> None:
    user = UserFactory(email="dora@example.org")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    answer = _sso(client, provider, Person(sub="dora-at-corp", email="dora@example.org"))
    assert answer.status_code == 302
    assert answer["Location"] == "/2fa/authenticate/"
    assert _signed_in_as(client) is None
    assert not _events(AccountTag.SIGNED_IN)
    assert client.post("/2fa/authenticate/", {"code": "000000"}).status_code == 200
    assert _signed_in_as(client) is None
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    assert client.post("/2fa/authenticate/", {"code": code}).status_code == 302
    assert _signed_in_as(client) == user.pk
    [signed_in] = _events(AccountTag.SIGNED_IN)
    assert signed_in.data["method"] == "oidc:corp"  # the provider, then Lockstep's factor


def test_the_adapter_keeps_signing_up_closed(rf: Any) -> None:
    assert SocialAccountAdapter().is_open_for_signup(rf.get("/"), None) is False


def test_a_member_who_must_have_a_second_factor_is_sent_to_set_one_up(
    client: Client, provider: FakeOpenIDProvider, settings: Any
) -> None:
    settings.LOCKSTEP_REQUIRE_SECOND_FACTOR = True
    user = UserFactory(email="erin@example.org")
    do_add_member(OrganizationFactory(), user, role=Role.MEMBER, actor=Actor.system())
    _sso(client, provider, Person(sub="erin-at-corp", email="erin@example.org"))
    assert _signed_in_as(client) == user.pk
    answer = client.get("/cases/")
    assert answer.status_code == 302
    assert answer["Location"] == "/2fa/"
    assert not Authenticator.objects.filter(user=user).exists()


def test_connecting_an_identity_from_a_session_is_not_offered(
    client: Client, provider: FakeOpenIDProvider
) -> None:
    UserFactory(email="fred@example.org")
    provider.person = Person(sub="fred-at-corp", email="fred@example.org")
    start = client.post("/oidc/corp/login/", {"process": "connect"})
    back = urlsplit(_at_provider(start["Location"]))
    answer = client.get(back.path, QUERY_STRING=back.query)
    assert answer.status_code == 403
    assert not SocialAccount.objects.exists()
    assert client.get("/3rdparty/").status_code == 404  # no page lists or connects identities


def test_cancelling_at_the_provider_comes_back_to_a_page_in_lockstep_s_frame(
    client: Client, provider: FakeOpenIDProvider
) -> None:
    answer = _sso(client, provider, None)
    assert answer.status_code == 302
    page = client.get(answer["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "Login Cancelled" in body
    assert 'href="/static/web/lockstep.css"' in body  # allauth's page, in web/base.html
    assert _signed_in_as(client) is None


def test_a_code_the_provider_will_not_exchange_ends_on_allauth_s_error_page(
    client: Client, provider: FakeOpenIDProvider, settings: Any
) -> None:
    UserFactory(email="gil@example.org")
    _configure(settings, provider.issuer, secret="not the client secret")
    answer = _sso(client, provider, Person(sub="gil-at-corp", email="gil@example.org"))
    assert answer.status_code == 401
    body = answer.content.decode()
    assert "Third-Party Login Failure" in body
    assert 'href="/static/web/lockstep.css"' in body
    assert _signed_in_as(client) is None
    assert ("POST", "/token") in provider.requests
    assert ("GET", "/userinfo") not in provider.requests


def test_a_provider_that_cannot_be_reached_gets_a_page_not_a_server_error(
    client: Client, settings: Any
) -> None:
    _configure(settings, "http://127.0.0.1:9")  # nothing listens on the discard port
    answer = client.post("/oidc/corp/login/")
    assert answer.status_code == 502
    assert "cannot be reached" in answer.content.decode()
