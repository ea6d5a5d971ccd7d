"""allauth's and Django's sign-in signals, into Lockstep's actions and audit chain."""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.signals import password_changed, password_reset
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.http import HttpRequest

from lockstep.accounts.models import User
from lockstep.accounts.sessions import record_session
from lockstep.audit.tags import AccountTag
from lockstep.core.actor import Actor
from lockstep.ops.client import client_address
from lockstep.signin.actions import (
    do_end_sessions,
    do_note_second_factor,
    do_note_sign_in,
    do_note_sign_out,
)
from lockstep.signin.middleware import SEEN_AT, SIGNED_IN_AT
from lockstep.signin.second_factor import MFA_METHOD
from lockstep.signin.sso import SOCIAL_METHOD, method_label


def _request_and_user(signal_args: dict[str, object]) -> tuple[HttpRequest, User] | None:
    request, user = signal_args.get("request"), signal_args.get("user")
    if isinstance(request, HttpRequest) and isinstance(user, User):
        return request, user
    return None


def _signed_in(**signal_args: object) -> None:
    found = _request_and_user(signal_args)
    if found is None:
        return
    request, user = found
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[SEEN_AT] = now
    record_session(request)
    do_note_sign_in(user, client=client_address(request), method=_method(request, user))


def _method(request: HttpRequest, user: User) -> str:
    """How the person signed in: `oidc:<provider id>` after single sign-on (allauth's record of
    this session's sign-in says so, a second factor after it or not), else a passkey or a
    password."""
    for record in reversed(get_authentication_records(request, user)):
        if record.get("method") == SOCIAL_METHOD:
            return method_label(str(record.get("provider")))
        if record.get("method") != MFA_METHOD:
            break
    return "passkey" if request.path_info.startswith("/2fa/") else "password"


def _signed_out(**signal_args: object) -> None:
    found = _request_and_user(signal_args)
    if found is not None:
        do_note_sign_out(found[1], client=client_address(found[0]))


def _password_changed(**signal_args: object) -> None:
    found = _request_and_user(signal_args)
    if found is not None:
        request, user = found
        keep = request.session.session_key
        do_end_sessions(user, keep=keep, actor=Actor.for_user(user), reason="password changed")


def _password_reset(**signal_args: object) -> None:
    found = _request_and_user(signal_args)
    if found is not None:
        user = found[1]
        do_end_sessions(user, keep=None, actor=Actor.for_user(user), reason="password reset")


def _factor_event(tag: AccountTag, signal_args: dict[str, object]) -> None:
    user, authenticator = signal_args.get("user"), signal_args.get("authenticator")
    if isinstance(user, User) and isinstance(authenticator, Authenticator):
        do_note_second_factor(tag, user, kind=str(authenticator.type))


def _factor_added(**signal_args: object) -> None:
    _factor_event(AccountTag.SECOND_FACTOR_ADDED, signal_args)


def _factor_removed(**signal_args: object) -> None:
    _factor_event(AccountTag.SECOND_FACTOR_REMOVED, signal_args)


def _factor_reset(**signal_args: object) -> None:
    _factor_event(AccountTag.RECOVERY_CODES_RESET, signal_args)


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="lockstep.signin.signed_in")
    user_logged_out.connect(_signed_out, dispatch_uid="lockstep.signin.signed_out")
    password_changed.connect(_password_changed, dispatch_uid="lockstep.signin.password_changed")
    password_reset.connect(_password_reset, dispatch_uid="lockstep.signin.password_reset")
    authenticator_added.connect(_factor_added, dispatch_uid="lockstep.signin.factor_added")
    authenticator_removed.connect(_factor_removed, dispatch_uid="lockstep.signin.factor_removed")
    authenticator_reset.connect(_factor_reset, dispatch_uid="lockstep.signin.factor_reset")
