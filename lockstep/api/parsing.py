"""Reading request bodies and query strings: ninja's JSON parser, refusing NUL characters.

No PostgreSQL text column can hold a NUL (U+0000), and a query that compares with one fails:
such input was a 500 on PostgreSQL (and stored as sent on SQLite). Nothing Lockstep keeps
needs one, so a text holding one is refused with a 400 `invalid` naming the field, on every
operation and every database alike. (Path parameters are checked by their gatekeepers.)
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError
from ninja.parser import Parser
from ninja.types import DictStrAny
from typing_extensions import override

NUL = "\x00"
MESSAGE = "Text may not contain NUL characters."


def nul_paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:  # noqa: ANN401 - any JSON value
    """Where in `value` (a parsed JSON document or query) a string, or a key, holds a NUL."""
    if isinstance(value, str):
        return [path] if NUL in value else []
    if isinstance(value, dict):
        found = [(*path, str(key)) for key in value if NUL in str(key)]
        for key, item in value.items():
            found += nul_paths(item, (*path, str(key)))
        return found
    if isinstance(value, list):
        return [where for i, item in enumerate(value) for where in nul_paths(item, (*path, i))]
    return []


def _refuse(source: str, found: list[tuple[str | int, ...]]) -> None:
    if found:
        # ninja's locations start with the source and the parameter; api/errors.py drops both
        # for the body (the parameter is not something the client sent) and the source alone
        # for the query.
        prefix: tuple[str, ...] = (source, "") if source == "body" else (source,)
        raise ValidationError([{"loc": (*prefix, *where), "msg": MESSAGE} for where in found])


class NulRefusingParser(Parser):
    @override
    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = super().parse_body(request)
        _refuse("body", nul_paths(data))
        return data

    @override
    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> DictStrAny:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse("query", nul_paths(parsed))
        return parsed
