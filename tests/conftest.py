"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from lockstep.accounts.models import User
from lockstep.core.actor import Actor, ActorKind
from tests.factories.keys import KeyPair, key_pair


def actor_for(user: User) -> Actor:
    return Actor(kind=ActorKind.USER, label=user.email, user_id=user.pk, is_staff=user.is_staff)


@pytest.fixture
def system() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    def _login(user: User) -> Client:
        client.force_login(user)
        return client

    return _login


@pytest.fixture(scope="session")
def alice_key() -> KeyPair:
    return key_pair("Alice Example <alice@example.org>")


@pytest.fixture(scope="session")
def bob_key() -> KeyPair:
    return key_pair("Bob Example <bob@example.org>")
