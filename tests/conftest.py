"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from lockstep.accounts.models import User
from lockstep.audit.models import AuditChainHead
from lockstep.core.actor import Actor
from lockstep.mailgw.outbound.protect import list_secret_key
from tests.factories.keys import KeyPair, key_pair
from tests.factories.signin import sign_in


def actor_for(user: User) -> Actor:
    return Actor.for_user(user)


@pytest.fixture
def system() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    def _login(user: User) -> Client:
        return sign_in(client, user)

    return _login


@pytest.fixture(scope="session")
def alice_key() -> KeyPair:
    return key_pair("Alice Example <alice@example.org>")


@pytest.fixture(scope="session")
def bob_key() -> KeyPair:
    return key_pair("Bob Example <bob@example.org>")


@pytest.fixture
def list_key(tmp_path: Path, settings: Any) -> Iterator[str]:
    """The instance's list key, made for this test in its own folder."""
    settings.LOCKSTEP_LIST_KEY_FILE = str(tmp_path / "list-key.asc")
    list_secret_key.cache_clear()
    yield list_secret_key()
    list_secret_key.cache_clear()


@pytest.fixture
def audit_head() -> None:
    """Transactional tests start from an emptied database: put back the migration's row."""
    AuditChainHead.objects.get_or_create(pk=1)
