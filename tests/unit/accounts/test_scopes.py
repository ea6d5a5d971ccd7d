"""The scope rules (accounts/scopes.py): pure, so tables."""

from __future__ import annotations

import pytest

from lockstep.accounts.scopes import (
    ALL_SCOPES,
    InsufficientScope,
    Scope,
    check_scope,
    check_scopes,
    check_within,
    format_scopes,
    parse_scopes,
    scope_for_method,
    valid_scope_texts,
)
from lockstep.core.errors import PermissionDenied, ValidationError

R, W, P = Scope.READ, Scope.WRITE, Scope.PUBLISH


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        (["read"], {R}),
        (["write", "read"], {R, W}),
        (["read", "publish"], {R, P}),
        (["publish", "write", "read", "read"], {R, W, P}),
    ],
)
def test_valid_sets_are_taken_as_they_are(asked: list[str], granted: set[Scope]) -> None:
    assert check_scopes(asked) == granted


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ([], "at least one scope"),
        (["write"], "needs read as well"),
        (["publish"], "needs read as well"),
        (["write", "publish"], "needs read as well"),
        (["read", "admin", "root"], "Unknown scope admin, root"),
    ],
)
def test_invalid_sets_are_refused_on_the_scopes_field(asked: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        check_scopes(asked)
    assert refused.value.field == "scopes"


def test_the_stored_text_is_canonical_and_round_trips() -> None:
    assert valid_scope_texts() == ("read", "read write", "read publish", "read write publish")
    for text in valid_scope_texts():
        assert format_scopes(parse_scopes(text)) == text
    assert format_scopes({"publish", "read", "nonsense"}) == "read publish"
    assert parse_scopes("publish read") == {R, P}
    assert parse_scopes("") == frozenset()


@pytest.mark.parametrize(
    ("method", "scope"),
    [("GET", R), ("head", R), ("OPTIONS", R), ("POST", W), ("put", W), ("PATCH", W), ("DELETE", W)],
)
def test_the_method_rule(method: str, scope: Scope) -> None:
    assert scope_for_method(method) is scope


def test_a_missing_scope_is_an_insufficient_scope_permission_error() -> None:
    check_scope({"read", "write"}, W)
    with pytest.raises(InsufficientScope) as refused:
        check_scope({"read", "write"}, P)
    assert isinstance(refused.value, PermissionDenied)
    assert refused.value.code == "insufficient_scope"
    assert refused.value.scopes == {P}
    assert refused.value.scope_text == "publish"


@pytest.mark.parametrize(
    ("requested", "granted", "needed"),
    [
        ({R}, {"read"}, "write"),  # no write: no token at all
        ({R}, {"read", "publish"}, "write"),
        ({R, P}, {"read", "write"}, "read publish"),  # wider: names what was asked
        ({R, W, P}, {"read", "write"}, "read write publish"),
    ],
)
def test_a_token_gives_no_more_than_it_has(
    requested: set[Scope], granted: set[str], needed: str
) -> None:
    with pytest.raises(InsufficientScope) as refused:
        check_within(requested, granted)
    assert refused.value.scope_text == needed


@pytest.mark.parametrize("requested", [{R}, {R, W}])
def test_a_write_token_gives_what_it_has(requested: set[Scope]) -> None:
    check_within(requested, {"read", "write"})
    check_within(ALL_SCOPES, ALL_SCOPES)
