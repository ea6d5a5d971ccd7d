"""Signing a test client in as a real sign-in would: the session, and allauth's record of
how (a password, now), which the weightiest acts ask for (lockstep.signin.second_factor)."""

from __future__ import annotations

import time

from django.test import Client

from lockstep.accounts.models import User

RECORDS = "account_authentication_methods"
RECORDS_USER = "account_authentication_methods_user"


def sign_in(client: Client, user: User, *, method: str = "password", ago: float = 0) -> Client:
    client.force_login(user)
    session = client.session
    session[RECORDS] = [{"method": method, "at": time.time() - ago}]
    session[RECORDS_USER] = str(user.pk)
    session.save()
    return client
