"""Domain errors. The web and API edges map each to one HTTP status in one place."""

from __future__ import annotations

from collections.abc import Sequence


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


class InvalidFields(ValidationError):
    """Several inputs at fault at once. `errors` pairs each field's path with what is wrong
    there ("affected[0].ranges[1].events[2].fixed", "'1.0-foo' is not a PEP 440 version");
    `field` and `message` name the first, so a caller that knows only ValidationError still
    says something true."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        if not errors:
            raise ValueError("InvalidFields needs at least one error.")
        self.errors = tuple(errors)
        shown = [f"{field}: {message}" if field else message for field, message in errors[:5]]
        more = len(errors) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more" if more else "")
        super().__init__(text, field=errors[0][0] or None)


class ErrorList:
    """Collects field errors, so that one pass over an input reports every mistake in it."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append((field, message))

    def take(self, exc: ValidationError) -> None:
        """Adds the errors of `exc` (several, if it is InvalidFields)."""
        if isinstance(exc, InvalidFields):
            self.errors.extend(exc.errors)
        else:
            self.errors.append((exc.field or "", exc.message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidFields(self.errors)
