"""What an API token may do: its scopes, and the pure rules about them.

There are three scopes. A token holds an explicit set of them, not a level: `publish` does not
imply `write`, and neither implies the other.

| scope     | lets the token                                                                    |
|-----------|-----------------------------------------------------------------------------------|
| `read`    | use the safe methods (GET, HEAD, OPTIONS): see cases, reports, tokens, …           |
| `write`   | use the unsafe methods (POST, PUT, PATCH, DELETE), except the publishing ones     |
| `publish` | use the operations that make embargoed information public or end or shorten an     |
|           | embargo (publish now, confirm a breach, record an early release, set a disclosure |
|           | date, which can bring it forward, reject a CVE ID, which publishes the rejection)  |

Every token has `read`: `write` and `publish` each need it, and a set without it is refused.
So the valid sets are four, and the database holds one of them as its canonical text, the
names in the order above, space-separated as in OAuth (RFC 6749 §3.3): "read", "read write",
"read publish", "read write publish". Which operation needs which scope is the API's to say
(`lockstep.api.auth`); a browser session is not limited by scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from itertools import combinations

from lockstep.core.errors import PermissionDenied, ValidationError


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    PUBLISH = "publish"


ALL_SCOPES = frozenset(Scope)
DEFAULT_SCOPES = frozenset({Scope.READ})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCOPE_HELP = {
    Scope.READ: "see what you can see: cases, reports, statuses, tokens",
    Scope.WRITE: "post, triage, change cases and statuses, manage tokens (not publish)",
    Scope.PUBLISH: "publish, confirm a breach, record an early release, set a disclosure date, "
    "reject a CVE ID",
}


class InsufficientScope(PermissionDenied):
    """A token tried what its scopes do not cover; `scopes` is what the request needs."""

    code = "insufficient_scope"

    def __init__(self, message: str, *, scopes: Iterable[Scope]) -> None:
        super().__init__(message)
        self.scopes = frozenset(scopes)

    @property
    def scope_text(self) -> str:
        return format_scopes(self.scopes)


def format_scopes(scopes: Iterable[str]) -> str:
    """The canonical text of a set: known names in the order of `Scope`, space-separated."""
    held = set(scopes)
    return " ".join(scope.value for scope in Scope if scope in held)


def parse_scopes(text: str) -> frozenset[Scope]:
    """The set a stored text names (unknown words are ignored: the database allows none)."""
    words = set(text.split())
    return frozenset(scope for scope in Scope if scope.value in words)


def check_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """The set `names` asks for, if it is a valid one; else ValidationError on `scopes`."""
    wanted = set(names)
    unknown = sorted(wanted - {scope.value for scope in Scope})
    if unknown:
        msg = f"Unknown scope {', '.join(unknown)}: choose from read, write, publish."
        raise ValidationError(msg, field="scopes")
    scopes = frozenset(Scope(name) for name in wanted)
    if not scopes:
        raise ValidationError("Choose at least one scope (read).", field="scopes")
    if Scope.READ not in scopes:
        msg = "A token with write or publish needs read as well."
        raise ValidationError(msg, field="scopes")
    return scopes


def valid_scope_texts() -> tuple[str, ...]:
    """Every valid set, as stored (the model's check constraint lists the same)."""
    others = [scope for scope in Scope if scope is not Scope.READ]
    sets = [
        frozenset({Scope.READ, *extra})
        for size in range(len(others) + 1)
        for extra in combinations(others, size)
    ]
    return tuple(format_scopes(scopes) for scopes in sets)


def scope_for_method(method: str) -> Scope:
    """The scope an operation needs by its HTTP method alone: read for the safe ones."""
    return Scope.READ if method.upper() in SAFE_METHODS else Scope.WRITE


def check_scope(granted: Iterable[str], needed: Scope) -> None:
    """Raise InsufficientScope unless `needed` is among the `granted` scopes."""
    if needed not in set(granted):
        msg = f"This API token does not have the '{needed}' scope this request needs."
        raise InsufficientScope(msg, scopes={needed})


def check_within(requested: Iterable[Scope], granted: Iterable[str]) -> None:
    """A token creating a token: it needs `write`, and gives no scope it does not hold."""
    held = set(granted)
    check_scope(held, Scope.WRITE)
    wanted = frozenset(requested)
    wider = {scope for scope in wanted if scope not in held}
    if wider:
        msg = (
            "An API token cannot create a token with scopes it does not have itself "
            f"({format_scopes(wider)})."
        )
        raise InsufficientScope(msg, scopes=wanted)
