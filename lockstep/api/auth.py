"""Who is calling the API: an API token, or a logged-in browser session.

Every endpoint is authenticated by `API_AUTH` unless it says otherwise (`auth=None` for
public ones). The callbacks run in order, and the first that recognises the caller wins:

1. `TokenAuth` reads `Authorization: Bearer lst_…`. A header that is present but names no
   active token is refused at once (401 `invalid_token`); it never falls through to the
   session, so a script with a revoked token learns so even from a logged-in browser.
2. `SessionAuth` accepts the Django session cookie (the web pages' login).

CSRF. django-ninja 1.x has no `NinjaAPI(csrf=…)` switch any more: every ninja view is
`csrf_exempt` for Django's middleware, and the cookie-based auth classes check CSRF
themselves. Here the rule is:

* Token requests are exempt. A browser never adds an `Authorization` header by itself, so a
  forged cross-site request cannot carry one.
* Session requests with an unsafe method (POST, PUT, PATCH, DELETE) go through Django's own
  CSRF check (`CsrfViewMiddleware`: the `X-CSRFToken` header or `csrfmiddlewaretoken` field
  against the `csrftoken` cookie, plus the Origin/Referer rules). A failure is 403
  `csrf_failed`. Safe methods (GET, HEAD, OPTIONS) are not checked, so they must not change
  anything.
* Requests with neither credential are anonymous: there is no ambient credential to abuse,
  so nothing is checked. (Ninja's stock `SessionAuth` checks CSRF even then.)
* ninja's `@csrf_exempt` on an operation turns the session check off. Do not use it on an
  endpoint that writes.

Scopes. A token request is also held to the token's scopes (accounts/scopes.py). The check
runs in `TokenAuth`, before the request is parsed or any handler runs, so a refused request
has no effect at all:

* By default an operation needs `read` for a safe method (GET, HEAD, OPTIONS) and `write` for
  an unsafe one (POST, PUT, PATCH, DELETE).
* An operation that makes embargoed information public, or ends or shortens an embargo, says
  `auth=PUBLISHING` where it is declared: it needs `publish` (not `write` as well).
* A session is not limited by scopes: scopes narrow what a script may do, not a person.
* On a public operation (`auth=None`) that reads the caller, a token sent is held to the
  method rule by `actor_of`: a read-only token cannot submit a report as its user.

A refusal is 403 `insufficient_scope`, with `WWW-Authenticate: Bearer realm="lockstep",
error="insufficient_scope", scope="…"` (RFC 6750 §3.1; api/errors.py). Which operation needs
which scope is listed, operation by operation, in tests/unit/api/test_scopes.py, which fails
on an operation it does not list; the OpenAPI document names the scope in each operation's
security requirement (api/openapi.py).

Handlers get their caller with `actor_of(request)`, never `core.actor.from_request`, which
knows only the session and would bypass the token, its scopes and the CSRF check.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from typing_extensions import override

from lockstep.accounts.models import ApiToken, User
from lockstep.accounts.scopes import Scope, check_scope, scope_for_method
from lockstep.accounts.tokens import authenticate_token
from lockstep.core.actor import Actor
from lockstep.signin.second_factor import (
    ReauthenticationRequired,
    check_second_factor_kept,
    recently_proven,
)

BEARER_CHALLENGE = 'Bearer realm="lockstep"'


class NotAuthenticated(AuthenticationError):
    """No credential at all on an endpoint that needs one."""

    code = "not_authenticated"
    challenge = BEARER_CHALLENGE

    def __init__(self) -> None:
        super().__init__(
            message="Authentication required: send 'Authorization: Bearer <token>' or log in."
        )


class InvalidToken(AuthenticationError):
    """A bearer token was sent, but it is unknown, expired or revoked, or its account is
    deactivated."""

    code = "invalid_token"
    challenge = f'{BEARER_CHALLENGE}, error="invalid_token"'

    def __init__(self) -> None:
        super().__init__(message="The API token is invalid, expired or revoked.")


class CsrfFailed(HttpError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            403,
            "CSRF check failed: send the X-CSRFToken header for session requests, "
            "or authenticate with an API token.",
        )


class TokenAuth(HttpBearer):
    """`Authorization: Bearer lst_…`; shown in the OpenAPI document as the bearer scheme.

    `scope`: what the operation needs of a token; None, the method rule (read or write).
    """

    def __init__(self, *, scope: Scope | None = None) -> None:
        self.scope = scope
        super().__init__()

    def required_scope(self, method: str) -> Scope:
        return self.scope or scope_for_method(method)

    @override
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = authenticate_token(token)
        if found is None:
            raise InvalidToken
        check_scope(found.scope_set, self.required_scope(request.method or "GET"))
        # A token made before the instance required a second factor does not outlive it.
        check_second_factor_kept(found.user)
        return found


def session_user(request: HttpRequest) -> User | None:
    """The logged-in user of the session, after the CSRF check for unsafe methods."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_active:
        return None
    exempt = getattr(request, "_ninja_csrf_exempt", False)
    if not exempt and check_csrf(request) is not None:
        raise CsrfFailed
    return user


class SessionAuth(APIKeyCookie):
    """The browser session; CSRF-checked only when the session is what authenticates."""

    param_name = settings.SESSION_COOKIE_NAME

    @override
    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    @override
    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return session_user(request)


class RecentSessionAuth(SessionAuth):
    """A session that proved a second factor recently (lockstep.signin.second_factor): what
    the weightiest acts ask of a browser. A token is held to its scope instead."""

    @override
    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = session_user(request)
        if user is not None and not recently_proven(request, user):
            raise ReauthenticationRequired
        return user


def require_recent_proof(request: HttpRequest) -> None:
    """For an act that is weighty only in some forms (granting, not refusing): a session must
    have proved a second factor recently; a token passes."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, User) and not recently_proven(request, auth):
        raise ReauthenticationRequired


token_auth = TokenAuth()
session_auth = SessionAuth()
# Every operation's default (NinjaAPI(auth=…)): a token held to the method rule, or a session.
API_AUTH = [token_auth, session_auth]
# `auth=PUBLISHING`: the operation makes embargoed information public, or ends or shortens an
# embargo. A token needs `publish`; a session is not limited.
# A session needs a recent second factor (RecentSessionAuth).
PUBLISHING = [TokenAuth(scope=Scope.PUBLISH), RecentSessionAuth()]


def bearer_token(request: HttpRequest) -> ApiToken | None:
    """The request's bearer token, if it sends one (InvalidToken if it is bad, and
    InsufficientScope if it lacks the scope the request's method needs)."""
    found = token_auth(request)
    return found if isinstance(found, ApiToken) else None


def actor_of(request: HttpRequest) -> Actor:
    """The caller: the bearer token's user, else the session's user, else anonymous.

    On an authenticated endpoint ninja has already done the work and left the token or the
    session's user in `request.auth`. On a public one (`auth=None`) the same checks run here,
    with the same outcomes: a bad token is a 401, a token without the method's scope a 403,
    and a session POST without CSRF token a 403.
    """
    auth = getattr(request, "auth", None)
    if not isinstance(auth, ApiToken | User):
        auth = bearer_token(request) or session_user(request)
    if isinstance(auth, ApiToken):
        return Actor.for_user(auth.user, token_scopes=auth.scope_set)
    if auth is None:
        return Actor.anonymous()
    return Actor.for_user(auth)
