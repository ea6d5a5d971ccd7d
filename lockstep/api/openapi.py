"""The error answers in the OpenAPI document: every status an operation can give, with the
one error shape of api/errors.py.

ninja documents only the success of each operation. The errors come from one place
(api/errors.py) and follow from what an operation is, so they are added here by rule, to
every operation of the document:

| the operation                                    | may answer                                  |
|--------------------------------------------------|---------------------------------------------|
| any                                              | 500 (a bug), 503 (no database), 507 (disk)  |
| takes parameters or a body                       | 400 (the input did not parse or is refused) |
| takes a body                                     | 413 (larger than the instance accepts)      |
| needs a token or a session                       | 401, 403 (a token without the scope)        |
| needs one, and writes (POST, PUT, PATCH, DELETE) | 403 (not allowed; CSRF), 409 (state)        |
| has a path parameter (an id, a token)            | 404 (missing or not yours: one answer)      |

What a rule cannot know, an operation says itself with `openapi_extra=answers(…)`: 429 where a
rate limit applies, 401 and 403 on a public operation that still reads a credential (a bad
token is refused, a session must send its CSRF token), 404 where a body names an object, 409
on a public operation that can conflict. tests/contract (schemathesis against a served
instance) fails on any status an operation gives that the document does not list.

Each operation's security requirement names the token scope it needs (`{"TokenAuth":
["publish"]}`: OpenAPI 3.1 lets any scheme list role names there), read from the same
`TokenAuth` that enforces it (api/auth.py). The API's URLs answer a method a path does not take
with a JSON 405 too (`json_method_not_allowed`, api/errors.py).
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from typing_extensions import override

from lockstep.api.auth import TokenAuth
from lockstep.api.errors import json_method_not_allowed

ERROR_SCHEMA = "Error"
REASONS = {
    400: "The input did not parse, or the request is refused as asked (`invalid` or another "
    "`code`); `field` names the input at fault.",
    401: "No token or session (`not_authenticated`), or a token that is unknown, expired or "
    "revoked (`invalid_token`).",
    403: "Not allowed (`permission_denied`), a token without the scope the operation needs "
    "(`insufficient_scope`; see the operation's security requirement), or a session request "
    "without its CSRF token (`csrf_failed`).",
    404: "No such object, or not one the caller may see: the same answer (`not_found`).",
    409: "The object's state does not allow this now (`conflict`, or a more precise `code`).",
    413: "The request body is larger than the instance accepts (`too_large`).",
    429: "Too many requests (`rate_limited`): try again after `Retry-After` seconds.",
    500: "A bug on the server (`server_error`); it has been logged.",
    503: "The database cannot be reached (`unavailable`): try again after `Retry-After`.",
    507: "The server's disk is full (`insufficient_storage`): try again after `Retry-After`.",
}
HEADERS = {
    401: {"WWW-Authenticate": 'Bearer realm="lockstep", and error="invalid_token" for a bad token'},
    403: {
        "WWW-Authenticate": 'For insufficient_scope only: Bearer realm="lockstep", '
        'error="insufficient_scope", scope="<the scope needed>"'
    },
    429: {"Retry-After": "Seconds to wait."},
    503: {"Retry-After": "Seconds to wait."},
    507: {"Retry-After": "Seconds to wait."},
}
UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})


def error_schema() -> dict[str, Any]:
    nullable_string = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    detail = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Stable: clients branch on it."},
            "message": {"type": "string", "description": "For a human."},
            "field": {**nullable_string, "description": "The input at fault, dotted."},
            "errors": {
                "type": "array",
                "description": "Only when the input has several mistakes: each one, with the "
                "path of its field, e.g. affected[0].ranges[1].events[2].fixed.",
                "items": {
                    "type": "object",
                    "properties": {"field": nullable_string, "message": {"type": "string"}},
                    "required": ["field", "message"],
                },
            },
        },
        "required": ["code", "message", "field"],
    }
    return {
        "title": ERROR_SCHEMA,
        "type": "object",
        "properties": {"error": detail},
        "required": ["error"],
    }


def error_response(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": REASONS[status],
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
        },
    }
    headers = HEADERS.get(status)
    if headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return answer


def answers(*statuses: int) -> dict[str, Any]:
    """`openapi_extra` for the error statuses of an operation that no rule above gives it."""
    return {"responses": {str(status): error_response(status) for status in statuses}}


def statuses_by_rule(method: str, operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters") or []
    has_body = "requestBody" in operation
    statuses = {500, 503, 507}
    if parameters or has_body:
        statuses.add(400)
    if has_body:
        statuses.add(413)
    if operation.get("security"):
        statuses |= {401, 403}
        if method in UNSAFE_METHODS:
            statuses.add(409)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add(404)
    return statuses


def add_error_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation of `document` gets the error answers it can give (in place)."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})[ERROR_SCHEMA] = error_schema()
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            # ninja's own keys are numbers, answers()' are strings: one kind, in order.
            responses = {str(status): answer for status, answer in operation["responses"].items()}
            for status in statuses_by_rule(method, operation):
                responses.setdefault(str(status), error_response(status))
            operation["responses"] = dict(sorted(responses.items()))
    return document


class ScopedOpenAPISchema(OpenAPISchema):
    """ninja's document, whose security requirements name the token scope each operation
    needs (ninja leaves the list empty)."""

    @override
    def operation_security(self, operation: Operation) -> list[dict[str, Any]] | None:
        security = super().operation_security(operation)
        for auth in operation.auth_callbacks:
            if isinstance(auth, TokenAuth):
                scopes = sorted({auth.required_scope(method).value for method in operation.methods})
                for requirement in security or []:
                    if type(auth).__name__ in requirement:
                        requirement[type(auth).__name__] = scopes
        return security


def _json_405(pattern: URLPattern) -> URLPattern:
    view = json_method_not_allowed(pattern.callback)
    return URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)


class LockstepNinjaAPI(NinjaAPI):
    """ninja's API, whose OpenAPI document lists the error answers and the token scopes too,
    and whose every answer, a wrong method's included, is JSON."""

    @override
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        # What NinjaAPI.get_openapi_schema does, with the scope-aware document class.
        prefix = self.get_root_path(path_params or {}) if path_prefix is None else path_prefix
        document = ScopedOpenAPISchema(self, prefix)
        add_error_answers(document)
        return document

    @property
    @override
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        wrapped = [_json_405(p) if isinstance(p, URLPattern) else p for p in patterns]
        return wrapped, app_name, namespace
