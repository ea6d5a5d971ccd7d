"""Two checks on every request of a signed-in person: the session's age, and the second factor.

`SessionLifetimeMiddleware` ends a session idle for `LOCKSTEP_SESSION_IDLE_SECONDS` (12 h by
default) or begun more than `LOCKSTEP_SESSION_MAX_SECONDS` ago (7 days), whatever its cookie
says. The time of the last request is written to the session at most once every
`ACTIVITY_GRANULARITY`, so a busy person costs one session write a few minutes, not one per
request.

`SecondFactorRequiredMiddleware` sends a person who needs a second factor and has none
(lockstep.signin.second_factor) to the page that sets one up; until then they may only use
the account pages. The API answers such a session 403 `second_factor_required`; API tokens
are not affected (making one needs a recent second factor already).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from lockstep.accounts.models import User
from lockstep.signin.second_factor import has_second_factor, needs_second_factor

SIGNED_IN_AT = "lockstep_signed_in_at"
SEEN_AT = "lockstep_seen_at"
ACTIVITY_GRANULARITY = 300.0

# What a person without a required second factor may still reach: setting one up, the other
# account pages, signing out, and what needs no account at all.
# (Not the API tokens page: a token would carry the account past this check.)
SETUP_PREFIXES = (
    "/2fa/",
    "/logout/",
    "/login/",
    "/reauthenticate/",
    "/password/",
    "/sessions/",
    "/static/",
    "/account/security/",
    "/account/keys/",
    "/account/mail/",
)


def session_expired(session: dict[str, object], *, now: float) -> bool:
    """Pure: whether a session is past its idle or absolute limit."""
    signed_in = session.get(SIGNED_IN_AT)
    seen = session.get(SEEN_AT)
    if (
        isinstance(signed_in, int | float)
        and now - signed_in > settings.LOCKSTEP_SESSION_MAX_SECONDS
    ):
        return True
    return isinstance(seen, int | float) and now - seen > settings.LOCKSTEP_SESSION_IDLE_SECONDS


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            if session_expired(dict(session.items()), now=now):
                logout(request)
                messages.info(request, "Your session ended; please sign in again.")
            else:
                session.setdefault(SIGNED_IN_AT, now)
                seen = session.get(SEEN_AT)
                if not isinstance(seen, int | float) or now - seen >= ACTIVITY_GRANULARITY:
                    session[SEEN_AT] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and not request.path_info.startswith(SETUP_PREFIXES)
            and not _bearer(request)
            and needs_second_factor(user)
            and not has_second_factor(user)
        ):
            return _refuse(request)
        return self.get_response(request)


def _bearer(request: HttpRequest) -> bool:
    return str(request.headers.get("Authorization", "")).lower().startswith("bearer ")


def _refuse(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        message = "This account needs a second factor: set one up at /2fa/ first."
        # The API's error envelope (lockstep.api.errors.error_body), one layer up.
        body = {"error": {"code": "second_factor_required", "message": message, "field": None}}
        return JsonResponse(body, status=403)
    messages.warning(
        request,
        "This instance requires a second factor for accounts that can see embargoed cases. "
        "Add an authenticator app or a security key to go on.",
    )
    return redirect("mfa_index")


class PrivateAnswersMiddleware:
    """No cache keeps what a signed-in person (or a token) was shown: an answer to them without
    a Cache-Control of its own gets `private, no-store`. Signing out also asks the browser to
    forget what it cached and stored for Lockstep (`Clear-Site-Data`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated or _bearer(request)
        response = self.get_response(request)
        if signed_in and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        if signed_in and request.method == "POST" and request.path_info == "/logout/":
            response["Clear-Site-Data"] = '"cache", "storage"'
        return response
