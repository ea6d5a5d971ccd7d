"""The one place that turns errors into API answers.

Every error body has the same shape, whatever raised it:

    {"error": {"code": "not_found", "message": "No such API token.", "field": null}}

`code` is stable (clients branch on it), `message` is for a human, `field` names the input
field at fault when there is one (dotted for nested fields, e.g. "vulnerabilities.0.cwe").
When the input has several mistakes at once (core.errors.InvalidFields: a vulnerability's
fields), `errors` lists each, `[{"field": "affected[0].ranges[1].events[2].fixed",
"message": "..."}, ...]`, and `field` and `message` sum them up.

| raised                                             | status   | code                          |
|----------------------------------------------------|----------|-------------------------------|
| core.errors.ValidationError                        | 400      | invalid                       |
| ninja ValidationError (the request did not parse)  | 400      | invalid                       |
| pydantic.ValidationError raised by a handler       | 400      | invalid                       |
| any other core.errors.LockstepError                | 400      | its `code`                    |
| ninja AuthenticationError, auth.NotAuthenticated   | 401      | not_authenticated             |
| auth.InvalidToken (unknown, expired, revoked)      | 401      | invalid_token                 |
| core.errors.PermissionDenied                       | 403      | permission_denied             |
| accounts.scopes.InsufficientScope                  | 403      | insufficient_scope (+ W-A)    |
| auth.CsrfFailed                                    | 403      | csrf_failed                   |
| core.errors.NotFound, django Http404               | 404      | not_found                     |
| a method the path does not take (ninja's 405)      | 405      | method_not_allowed (+ Allow)  |
| core.errors.Conflict                               | 409      | conflict                      |
| a body past DATA_UPLOAD_MAX_MEMORY_SIZE            | 413      | too_large                     |
| core.errors.RateLimited (and ninja's Throttled)    | 429      | rate_limited (+ Retry-After)  |
| any other ninja HttpError                          | its own  | from HTTP_CODES, else "error" |
| the database unreachable (OperationalError, ...)   | 503      | unavailable (+ Retry-After)   |
| a full disk (ENOSPC, SQLite's or PostgreSQL's)     | 507      | insufficient_storage (+ R-A)  |

401 answers carry `WWW-Authenticate: Bearer …`, and so does a 403 `insufficient_scope`, with
the scope the request needs (RFC 6750 §3.1: `error="insufficient_scope", scope="publish"`).
ninja answers a method a path does not take itself, in plain text, before any handler;
`json_method_not_allowed` wraps each of the API's views to say it in this shape, keeping the
`Allow` header (the API's `urls`, api/openapi.py). Which database and disk errors count as a
shortage is `ops.resources.shortage_of`; the message never says more than that (no host, no
port, no driver text: those are in the log). Anything else is a bug: it is left to Django,
which reports it like any other server error and answers through `server_error` below (JSON
under /api/: a 500 `server_error`). `server_error` is also what answers a shortage met outside
the endpoint, in a middleware (the session, the user) before or after it; `bad_request` and
`not_found` answer, in the same shape, what Django refuses before any endpoint runs (a bad
Host header, a path that names no endpoint). The OpenAPI document lists these answers for
every operation (api/openapi.py).

Caveat: a handler whose result does not fit its own output schema also ends in a
pydantic.ValidationError, and so in a 400, although the fault is the server's. The contract
tests in tests/api catch that kind of bug.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import partial, wraps
from typing import Any, ParamSpec

import pydantic
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.http.response import HttpResponseBase
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from lockstep.accounts.scopes import InsufficientScope
from lockstep.api.auth import BEARER_CHALLENGE, InvalidToken, NotAuthenticated
from lockstep.core.errors import (
    Conflict,
    InvalidFields,
    LockstepError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from lockstep.ops.resources import ANSWERS, ShortageAnswer, shortage_of

logger = logging.getLogger(__name__)

STATUS_OF: dict[type[LockstepError], int] = {
    ValidationError: 400,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
}
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    409: "conflict",
    429: "rate_limited",
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _answer(  # noqa: PLR0913 - an answer is these facts, each named
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, field), status=status)


def _status_of(exc: LockstepError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400  # a LockstepError is deliberate: the request cannot be done as asked


def on_domain_error(request: HttpRequest, exc: LockstepError, *, api: NinjaAPI) -> HttpResponse:
    status = _status_of(exc)
    body = error_body(exc.code, exc.message, exc.field)
    if isinstance(exc, InvalidFields):
        body["error"]["errors"] = [{"field": f or None, "message": m} for f, m in exc.errors]
    response = api.create_response(request, body, status=status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, InsufficientScope):
        response["WWW-Authenticate"] = scope_challenge(exc)
    return response


def scope_challenge(exc: InsufficientScope) -> str:
    return f'{BEARER_CHALLENGE}, error="insufficient_scope", scope="{exc.scope_text}"'


def _field_of(location: tuple[Any, ...] | list[Any], *, from_request: bool) -> str | None:
    parts = [str(part) for part in location]
    if from_request and parts:
        # ninja prefixes (source, parameter); a body schema's parameter name (`payload`) is
        # not something the client sent, so it goes too when a field follows it.
        parts = parts[2:] if parts[0] == "body" and len(parts) > 2 else parts[1:]  # noqa: PLR2004
    return ".".join(parts) or None


def _validation_answer(
    api: NinjaAPI, request: HttpRequest, errors: list[dict[str, Any]], *, from_request: bool
) -> HttpResponse:
    fields = [_field_of(error.get("loc", ()), from_request=from_request) for error in errors]
    described = [
        f"{field}: {error['msg']}" if field else str(error["msg"])
        for field, error in zip(fields, errors, strict=True)
    ]
    first_field = fields[0] if fields else None
    message = "; ".join(described) or "Invalid input."
    return _answer(api, request, status=400, code="invalid", message=message, field=first_field)


def on_request_invalid(
    request: HttpRequest, exc: RequestValidationError, *, api: NinjaAPI
) -> HttpResponse:
    return _validation_answer(api, request, list(exc.errors), from_request=True)


def on_pydantic_invalid(
    request: HttpRequest, exc: pydantic.ValidationError, *, api: NinjaAPI
) -> HttpResponse:
    errors = [dict(error) for error in exc.errors(include_url=False)]
    return _validation_answer(api, request, errors, from_request=False)


def on_authentication_error(
    request: HttpRequest, exc: AuthenticationError, *, api: NinjaAPI
) -> HttpResponse:
    # ninja raises a plain AuthenticationError when no auth callback recognised the caller.
    known = exc if isinstance(exc, InvalidToken | NotAuthenticated) else NotAuthenticated()
    response = _answer(api, request, status=401, code=known.code, message=known.message)
    response["WWW-Authenticate"] = known.challenge
    return response


def on_http_error(request: HttpRequest, exc: HttpError, *, api: NinjaAPI) -> HttpResponse:
    if isinstance(exc.__cause__, RequestValidationError):
        # ninja wraps whatever the body parser raises in "Cannot parse request body"; the
        # parser's own refusals (api/parsing.py) name the field, so they are answered as such.
        return on_request_invalid(request, exc.__cause__, api=api)
    code = getattr(exc, "code", None) or HTTP_CODES.get(exc.status_code, "error")
    return _answer(api, request, status=exc.status_code, code=code, message=exc.message)


def on_404(request: HttpRequest, _exc: Http404, *, api: NinjaAPI) -> HttpResponse:
    return _answer(api, request, status=404, code="not_found", message="Not found.")


TOO_LARGE = "The request body is larger than this instance accepts."


def on_too_large(request: HttpRequest, _exc: RequestDataTooBig, *, api: NinjaAPI) -> HttpResponse:
    return _answer(api, request, status=413, code="too_large", message=TOO_LARGE)


def bad_request(_request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 handler for /api/ paths (config/urls.py): what Django refused itself."""
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body("too_large", TOO_LARGE), status=413)
    body = error_body("bad_request", "The request could not be read as sent.")
    return JsonResponse(body, status=400)


def not_found(_request: HttpRequest, _exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler for /api/ paths: a path that names no endpoint."""
    return JsonResponse(error_body("not_found", "No such endpoint."), status=404)


P = ParamSpec("P")


def json_method_not_allowed(
    view: Callable[P, HttpResponseBase],
) -> Callable[P, HttpResponseBase]:
    """`view`, whose plain-text 405 (ninja's, for a method the path does not take) becomes
    405 `method_not_allowed` in the one error shape, with the `Allow` header sorted."""

    @wraps(view)  # keeps ninja's csrf_exempt mark: the API checks CSRF itself (api/auth.py)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        response = view(*args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        request = args[0]
        assert isinstance(request, HttpRequest)  # noqa: S101 - views take the request first
        allowed = sorted(m.strip() for m in response.get("Allow", "").split(",") if m.strip())
        message = f"This endpoint does not take {request.method}; it takes {', '.join(allowed)}."
        answer = JsonResponse(error_body("method_not_allowed", message), status=405)
        answer["Allow"] = ", ".join(allowed)
        return answer

    return wrapper


def _shortage_response(answer: ShortageAnswer) -> HttpResponse:
    response = JsonResponse(error_body(answer.code, answer.message), status=answer.status)
    response["Retry-After"] = str(answer.retry_after)
    return response


def on_resource_error(request: HttpRequest, exc: Exception, *, api: NinjaAPI) -> HttpResponse:
    """A database or disk error in an endpoint: 503 or 507 if it is a shortage, else a bug."""
    shortage = shortage_of(exc)
    if shortage is None:
        raise exc
    logger.warning("%s %s: %s shortage: %s", request.method, request.path, shortage, exc)
    answer = ANSWERS[shortage]
    response = _answer(api, request, status=answer.status, code=answer.code, message=answer.message)
    response["Retry-After"] = str(answer.retry_after)
    return response


def server_error(_request: HttpRequest) -> HttpResponse:
    """Django's 500 handler for /api/ paths (config/urls.py): the error being handled is
    `sys.exc_info()`; Django logs it with the answer."""
    exc = sys.exc_info()[1]
    shortage = shortage_of(exc) if exc is not None else None
    if shortage is not None:
        return _shortage_response(ANSWERS[shortage])
    body = error_body("server_error", "Something went wrong on the server; it has been logged.")
    return JsonResponse(body, status=500)


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the handlers above on `api` (ninja picks the most specific class)."""
    api.exception_handler(LockstepError)(partial(on_domain_error, api=api))
    api.exception_handler(RequestValidationError)(partial(on_request_invalid, api=api))
    api.exception_handler(pydantic.ValidationError)(partial(on_pydantic_invalid, api=api))
    api.exception_handler(AuthenticationError)(partial(on_authentication_error, api=api))
    api.exception_handler(HttpError)(partial(on_http_error, api=api))
    api.exception_handler(Http404)(partial(on_404, api=api))
    api.exception_handler(RequestDataTooBig)(partial(on_too_large, api=api))
    for resource_error in (OperationalError, InterfaceError, OSError):
        api.exception_handler(resource_error)(partial(on_resource_error, api=api))
