"""Domain errors. The web and API edges map each to one HTTP status in one place."""

from __future__ import annotations


class LockstepError(Exception):
    """Base of every error Lockstep raises on purpose; `message` is for a human."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(LockstepError):
    """Missing, or not visible to the caller: the two are deliberately indistinguishable."""

    code = "not_found"


class PermissionDenied(LockstepError):
    """The caller may see the object but may not do this to it."""

    code = "permission_denied"


class Conflict(LockstepError):
    """The request clashes with the current state (a duplicate, a stale version)."""

    code = "conflict"


class ValidationError(LockstepError):
    """The input is malformed or breaks a business rule."""

    code = "invalid"


class RateLimited(LockstepError):
    """Too many attempts in the current window; `retry_after` says how many seconds to wait."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
