"""Signing in through django-allauth: throttling, sessions, second factors, audit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, override_settings

from lockstep.accounts.models import User
from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import AccountTag
from lockstep.core.actor import Actor
from lockstep.mailgw.models import OutboundMessage
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import Role
from lockstep.signin.middleware import SEEN_AT, SIGNED_IN_AT
from tests.factories.world import PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
# A page only the signed-in see ("/" is the public front page for everyone else).
SIGNED_IN_PAGE = "/account/keys/"


def _sign_in(client: Client, email: str, password: str = PASSWORD) -> int:
    return client.post("/login/", {"login": email, "password": password}).status_code


def _totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _add_totp(client: Client) -> str:
    """Set up TOTP through allauth's page, with a code computed from the shown secret."""
    page = client.get("/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    done = client.post("/2fa/totp/activate/", {"code": _totp_code(secret)})
    assert done.status_code == 302, done.content
    return str(secret)


def test_failed_sign_ins_are_refused_with_429_and_the_owner_is_told(client: Client) -> None:
    user = UserFactory(email="target@example.org")
    for _ in range(5):
        assert _sign_in(client, "target@example.org", "wrong password!") == 200
    refused = client.post("/login/", {"login": "target@example.org", "password": "again wrong"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 60
    # Even the right password waits out the window.
    assert _sign_in(client, "target@example.org") == 429
    assert "_auth_user_id" not in client.session
    mail = OutboundMessage.objects.filter(to_address="target@example.org")
    assert mail.count() == 1  # told once, not at every refusal
    assert "too many wrong passwords" in mail.get().body
    assert AuditEvent.objects.filter(tag=AccountTag.SIGNIN_REFUSED, object_id=str(user.pk)).exists()


def test_one_client_guessing_many_accounts_is_refused(client: Client) -> None:
    for n in range(10):
        assert _sign_in(client, f"nobody{n}@example.org", "wrong password!") == 200
    assert _sign_in(client, "nobody-else@example.org", "wrong password!") == 429
    assert not OutboundMessage.objects.exists()  # no account, nobody to tell


def test_an_unknown_address_costs_a_password_hash_like_a_known_one(client: Client) -> None:
    UserFactory(email="known@example.org")
    with mock.patch.object(
        MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
    ) as enc:
        _sign_in(client, "unknown@example.org", "some password")
    unknown = enc.call_count
    with mock.patch.object(
        MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
    ) as enc:
        _sign_in(client, "known@example.org", "some password")
    assert unknown == enc.call_count == 1


def test_sign_in_and_out_are_audited(client: Client) -> None:
    user = UserFactory(email="a@example.org")
    assert _sign_in(client, "a@example.org") == 302
    client.post("/logout/")
    tags = list(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("tag", flat=True))
    assert AccountTag.SIGNED_IN in tags
    assert AccountTag.SIGNED_OUT in tags


def test_an_idle_session_ends(client: Client) -> None:
    UserFactory(email="idle@example.org")
    assert _sign_in(client, "idle@example.org") == 302
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    session = client.session
    session[SEEN_AT] = time.time() - 13 * 3600
    session.save()
    answer = client.get(SIGNED_IN_PAGE)
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/")


def test_a_session_ends_at_its_absolute_lifetime_however_busy(client: Client) -> None:
    UserFactory(email="busy@example.org")
    assert _sign_in(client, "busy@example.org") == 302
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 8 * 86400
    session[SEEN_AT] = time.time()
    session.save()
    assert client.get(SIGNED_IN_PAGE).status_code == 302


def test_changing_the_password_ends_every_other_session() -> None:
    UserFactory(email="two@example.org")
    laptop, phone = Client(), Client()
    assert _sign_in(laptop, "two@example.org") == 302
    assert _sign_in(phone, "two@example.org") == 302
    changed = laptop.post(
        "/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "a new long passphrase",
            "password2": "a new long passphrase",
        },
    )
    assert changed.status_code == 302, changed.content
    assert laptop.get(SIGNED_IN_PAGE).status_code == 200
    assert phone.get(SIGNED_IN_PAGE).status_code == 302
    user = User.objects.get(email="two@example.org")
    assert user.check_password("a new long passphrase")
    tags = set(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("tag", flat=True))
    assert {AccountTag.PASSWORD_CHANGED, AccountTag.SESSIONS_ENDED} <= tags


def test_the_security_page_lists_sessions_and_ends_them() -> None:
    UserFactory(email="three@example.org")
    laptop, phone = (
        Client(HTTP_USER_AGENT="Laptop browser"),
        Client(HTTP_USER_AGENT="Phone browser"),
    )
    assert _sign_in(laptop, "three@example.org") == 302
    assert _sign_in(phone, "three@example.org") == 302
    page = laptop.get("/account/security/")
    assert b"Laptop browser" in page.content
    assert b"Phone browser" in page.content
    # The form asks first (lockstep.js reads `data-confirm` on the form, not on its button).
    assert '<form method="post" data-confirm="End every session but this one?">' in (
        page.content.decode()
    )
    assert laptop.post("/account/security/", {"others": "on"}).status_code == 302
    assert phone.get(SIGNED_IN_PAGE).status_code == 302
    assert laptop.get(SIGNED_IN_PAGE).status_code == 200


def test_one_cannot_end_another_persons_session(client: Client) -> None:
    UserFactory(email="mallory@example.org")
    UserFactory(email="victim@example.org")
    victim = Client()
    assert _sign_in(victim, "victim@example.org") == 302
    from allauth.usersessions.models import UserSession  # noqa: PLC0415

    theirs = UserSession.objects.get(user__email="victim@example.org")
    assert _sign_in(client, "mallory@example.org") == 302
    assert client.post("/account/security/", {"session": theirs.pk}).status_code == 404
    assert victim.get(SIGNED_IN_PAGE).status_code == 200


def test_password_reset_mail_goes_through_the_outbox_with_the_base_url(client: Client) -> None:
    UserFactory(email="forgot@example.org")
    answer = client.post("/password/reset/", {"email": "forgot@example.org"}, HTTP_HOST="localhost")
    assert answer.status_code == 302
    mail = OutboundMessage.objects.get(to_address="forgot@example.org")
    assert "https://lockstep.example.org/password/reset/key/" in mail.body
    client.post("/password/reset/", {"email": "stranger@example.org"})
    assert not OutboundMessage.objects.filter(to_address="stranger@example.org").exists()


def test_signing_up_is_closed(client: Client) -> None:
    client.post("/signup/", {"email": "new@example.org", "password1": "long enough passphrase"})
    assert not User.objects.filter(email="new@example.org").exists()


@override_settings(LOCKSTEP_REQUIRE_SECOND_FACTOR=True)
def test_a_member_must_add_a_second_factor_before_anything_else(
    client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user = UserFactory(email="member@example.org")
    do_add_member(OrganizationFactory(), user, role=Role.MEMBER, actor=Actor.system())
    assert _sign_in(client, "member@example.org") == 302
    answer = client.get("/cases/")
    assert answer.status_code == 302
    assert answer["Location"] == "/2fa/"
    api = client.get("/api/v1/cases")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "second_factor_required"
    with django_capture_on_commit_callbacks(execute=True):
        _add_totp(client)
    assert client.get("/cases/").status_code == 200
    assert Authenticator.objects.filter(user=user, type="recovery_codes").exists()
    assert AuditEvent.objects.filter(tag=AccountTag.SECOND_FACTOR_ADDED).exists()
    told = OutboundMessage.objects.filter(to_address="member@example.org").values_list(
        "subject", flat=True
    )
    assert any("Authenticator App Activated" in subject for subject in told), list(told)


@override_settings(LOCKSTEP_REQUIRE_SECOND_FACTOR=True)
def test_an_account_outside_every_organisation_needs_no_second_factor(client: Client) -> None:
    UserFactory(email="loner@example.org")
    assert _sign_in(client, "loner@example.org") == 302
    assert client.get("/").status_code == 200


def test_signing_in_with_totp_asks_for_the_code(client: Client) -> None:
    UserFactory(email="totp@example.org")
    assert _sign_in(client, "totp@example.org") == 302
    secret = _add_totp(client)
    client.post("/logout/")
    answer = client.post("/login/", {"login": "totp@example.org", "password": PASSWORD})
    assert answer.status_code == 302
    assert answer["Location"] == "/2fa/authenticate/"
    assert client.get(SIGNED_IN_PAGE).status_code == 302  # not signed in yet
    wrong = client.post("/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    # A code is good once: wait for the next one if the activation used this one.
    time.sleep(0)
    right = client.post("/2fa/authenticate/", {"code": _totp_code(secret)})
    assert right.status_code in (200, 302)
    if right.status_code == 200:  # the activation's code, refused as used: the next window
        time.sleep(31 - time.time() % 30)
        right = client.post("/2fa/authenticate/", {"code": _totp_code(secret)})
    assert right.status_code == 302
    assert client.get(SIGNED_IN_PAGE).status_code == 200


def test_what_a_signed_in_person_sees_is_kept_by_no_cache(client: Client) -> None:
    UserFactory(email="cache@example.org")
    assert _sign_in(client, "cache@example.org") == 302
    assert client.get("/").headers["Cache-Control"] == "private, no-store"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "private, no-store"
    assert client.post("/logout/").headers["Clear-Site-Data"] == '"cache", "storage"'
