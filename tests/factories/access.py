"""Ways in for a test: a logged-in browser whose session is on record, and an API token."""

from __future__ import annotations

from itertools import count

from allauth.usersessions.models import UserSession
from django.test import Client

from lockstep.accounts.models import User
from lockstep.accounts.tokens import do_create_api_token
from lockstep.core.actor import Actor

_serial = count(1)


def token_for(user: User) -> str:
    """A read-and-write API token of `user` (its plaintext)."""
    _, plaintext = do_create_api_token(
        user, name=f"script {next(_serial)}", scopes=["read", "write"], actor=Actor.for_user(user)
    )
    return plaintext


def browser_of(user: User) -> Client:
    """A logged-in browser whose session is on record, as a sign-in through the form leaves it."""
    browser = Client()
    browser.force_login(user)
    key = browser.session.session_key
    UserSession.objects.create(user=user, ip="127.0.0.1", session_key=key, user_agent="test")
    return browser


def api_get(path: str, token: str) -> int:
    """The status of GET /api/v1{path} with the token."""
    return Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
