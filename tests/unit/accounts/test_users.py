"""Users log in by e-mail; passwords are hashed with argon2."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from config.settings import base
from lockstep.accounts.actions import do_create_user, do_set_password
from lockstep.accounts.queries import access_user_by_id
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.conftest import actor_for
from tests.factories.world import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_production_hashes_passwords_with_argon2() -> None:
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_login_is_by_email_case_insensitively(system: Actor) -> None:
    user = do_create_user(email="Quinn@Example.org", password=PASSWORD, actor=system)
    assert user.email == "quinn@example.org"
    assert authenticate(email="quinn@example.org", password=PASSWORD) == user
    assert authenticate(email="quinn@example.org", password="wrong password!") is None
    with pytest.raises(Conflict, match="already exists"):
        do_create_user(email="QUINN@example.org", password=PASSWORD, actor=system)


def test_bad_email_and_weak_password_are_refused(system: Actor) -> None:
    with pytest.raises(ValidationError, match="not a valid e-mail"):
        do_create_user(email="not-an-address", password=PASSWORD, actor=system)
    with pytest.raises(ValidationError) as caught:
        do_create_user(email="a@example.org", password="short", actor=system)
    assert caught.value.field == "password"


def test_user_without_password_cannot_log_in(system: Actor) -> None:
    user = do_create_user(email="nopass@example.org", password=None, actor=system)
    assert not user.has_usable_password()


def test_only_operators_create_operators() -> None:
    user = UserFactory()
    with pytest.raises(PermissionDenied):
        do_create_user(
            email="x@example.org", password=PASSWORD, is_staff=True, actor=actor_for(user)
        )


def test_password_change_own_only() -> None:
    user, other = UserFactory(), UserFactory()
    with pytest.raises(PermissionDenied):
        do_set_password(user, password="another good passphrase", actor=actor_for(other))
    do_set_password(user, password="another good passphrase", actor=actor_for(user))
    assert authenticate(email=user.email, password="another good passphrase") == user


def test_user_gatekeeper() -> None:
    user, other, operator = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    assert access_user_by_id(actor_for(user), user.pk) == user
    assert access_user_by_id(actor_for(operator), user.pk) == user
    with pytest.raises(NotFound):
        access_user_by_id(actor_for(other), user.pk)
    with pytest.raises(NotFound):
        access_user_by_id(actor_for(user), 999_999)
