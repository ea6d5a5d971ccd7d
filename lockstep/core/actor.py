"""Who is acting: the one value every `do_*` action and gatekeeper read receives."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.http import HttpRequest


class Account(Protocol):
    """What an actor needs of a user account (`accounts.User`; core imports no models)."""

    @property
    def pk(self) -> int: ...

    @property
    def email(self) -> str: ...

    @property
    def is_staff(self) -> bool: ...


class ActorKind(StrEnum):
    USER = "user"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"
    REPORTER = "reporter"  # holds a report's tracking token, not an account


@dataclass(frozen=True)
class Actor:
    """An acting party. `user_id` is set for users; `label` is what the audit log shows.

    `token_scopes` is set when a user acts through an API token: the scopes it holds
    (accounts/scopes.py). None means scopes do not apply (a browser session, Lockstep itself,
    a reporter). The API refuses what they do not cover before any action runs; an action
    that hands out authority (creating a token) also checks them itself.
    """

    kind: ActorKind
    label: str
    user_id: int | None = None
    is_staff: bool = False
    token_scopes: frozenset[str] | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.kind is ActorKind.USER

    @property
    def is_system(self) -> bool:
        return self.kind is ActorKind.SYSTEM

    @property
    def is_privileged(self) -> bool:
        """An operator (staff user) or Lockstep itself: may act on any organisation."""
        return self.is_staff or self.is_system

    @classmethod
    def for_user(cls, user: Account, *, token_scopes: frozenset[str] | None = None) -> Actor:
        """The one way to act as a user account: its id, its address for the log, whether it
        is an operator (staff), and, through an API token, that token's scopes."""
        return cls(
            kind=ActorKind.USER,
            label=str(user.email),
            user_id=int(user.pk),
            is_staff=bool(user.is_staff),
            token_scopes=token_scopes,
        )

    @classmethod
    def system(cls, label: str = "lockstep") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=f"system:{label}")

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(kind=ActorKind.ANONYMOUS, label="anonymous")

    @classmethod
    def reporter(cls, report_id: int) -> Actor:
        """The reporter of one report, proven by its tracking token."""
        return cls(kind=ActorKind.REPORTER, label=f"reporter of report {report_id}")

    @property
    def is_reporter(self) -> bool:
        return self.kind is ActorKind.REPORTER


def from_request(request: HttpRequest) -> Actor:
    """Build the actor for an HTTP request (session-authenticated or anonymous)."""
    user = request.user
    if not user.is_authenticated:
        return Actor.anonymous()
    return Actor.for_user(user)
