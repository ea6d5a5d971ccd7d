"""API tokens: creating and revoking them (actions), and reading them (queries).

A token is `lst_` followed by 43 URL-safe characters (256 random bits). Lockstep keeps only
its SHA-256: a salt or a slow hash would add nothing for a secret that cannot be guessed, and
a plain digest can be looked up by an index. The plaintext is returned once, by
`do_create_api_token`, and is never stored, logged or audited; the audit log and the pages
name a token by its `prefix`, its first 8 characters.

A token has scopes (accounts/scopes.py: an explicit set of read, write, publish) and expires:
90 days after it is made unless its creator chooses between 1 and 365 days. An expired token
is treated like a revoked one: it authenticates nothing, it is not listed, and its name is free
again. A token cannot outlive that choice: there is no renewal, only a new token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

from lockstep.accounts.models import ApiToken, User
from lockstep.accounts.scopes import Scope, check_scopes, check_within, format_scopes
from lockstep.audit.record import record
from lockstep.audit.tags import AccountTag
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.ops.ratelimit import check_rate

TOKEN_PREFIX = "lst_"  # noqa: S105 - the public marker of every token, not a secret
TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # secrets.token_urlsafe(32) is 43 characters
SHOWN_PREFIX_LENGTH = 8
NAME_MAX_LENGTH = 100
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most once per this interval, not on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)
# Creating tokens, per user, from the web page and the API together.
CREATE_LIMIT = 10
CREATE_WINDOW_SECONDS = 3600
# How long a token lives, in days: the creator's choice within these bounds.
DEFAULT_LIFETIME_DAYS = 90
MIN_LIFETIME_DAYS = 1
MAX_LIFETIME_DAYS = 365
LIFETIME_CHOICES_DAYS = (30, 90, 180, 365)  # what the tokens page offers


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Give the token a name that says what it is for.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        msg = f"A token name has at most {NAME_MAX_LENGTH} characters."
        raise ValidationError(msg, field="name")
    return name


def check_lifetime(days: int) -> timedelta:
    """The lifetime of a new token, if `days` is within bounds; else ValidationError."""
    if not MIN_LIFETIME_DAYS <= days <= MAX_LIFETIME_DAYS:
        msg = f"A token lives between {MIN_LIFETIME_DAYS} and {MAX_LIFETIME_DAYS} days."
        raise ValidationError(msg, field="expires_in_days")
    return timedelta(days=days)


def _active(now: datetime) -> QuerySet[ApiToken]:
    """Tokens that still work: neither revoked nor expired."""
    return ApiToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now)


def check_token_creation_rate(actor: Actor, *, now: datetime) -> None:
    """Raise `RateLimited` past CREATE_LIMIT creations an hour. Edges call it before the action."""
    check_rate(
        f"api-token:create:user:{actor.user_id}",
        limit=CREATE_LIMIT,
        window_seconds=CREATE_WINDOW_SECONDS,
        now=now,
    )


def _check_room(user: User, name: str, *, now: datetime) -> None:
    """The name is free among the user's active tokens, and the cap is not reached."""
    active = _active(now).filter(user=user)
    if active.filter(name__iexact=name).exists():
        msg = f"You already have a token named {name!r}."
        raise Conflict(msg, field="name")
    if active.count() >= MAX_ACTIVE_TOKENS:
        msg = f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first."
        raise Conflict(msg)


def _check_grant(
    user: User, *, scopes: Iterable[str], days: int, actor: Actor
) -> tuple[frozenset[Scope], timedelta]:
    """Who may create a token for `user`, and what it may be: the scopes (within the calling
    token's, through a token) and the lifetime."""
    if actor.user_id != user.pk and not actor.is_system:
        raise PermissionDenied("You can only create API tokens for yourself.")
    granted = check_scopes(scopes)
    if actor.token_scopes is not None:
        check_within(granted, actor.token_scopes)
    return granted, check_lifetime(days)


@transaction.atomic
def do_create_api_token(
    user: User,
    *,
    name: str,
    scopes: Iterable[str],
    days: int = DEFAULT_LIFETIME_DAYS,
    actor: Actor,
) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it with its plaintext, which exists only in this value.

    Only the user themself (or Lockstep, for a command run on the server) may create one: a
    token is a credential, and operators may not mint credentials for other people. `scopes`
    is always chosen, never implied. A caller acting through a token (`actor.token_scopes`)
    needs `write`, and cannot give the new token a scope its own lacks.
    """
    granted, lifetime = _check_grant(user, scopes=scopes, days=days, actor=actor)
    # Lock the user row so that two requests cannot both pass the checks below.
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise PermissionDenied("This account is deactivated.")
    name = _clean_name(name)
    now = clock.now()
    _check_room(user, name, now=now)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=plaintext[:SHOWN_PREFIX_LENGTH],
        token_hash=hash_token(plaintext),
        scopes=format_scopes(granted),
        created_at=now,
        expires_at=now + lifetime,
    )
    token.save()
    record(
        AccountTag.TOKEN_CREATED,
        actor=actor,
        object_type="api_token",
        object_id=token.pk,
        data={
            "user_id": user.pk,
            "name": name,
            "prefix": token.prefix,
            "scopes": token.scope_list,
            "expires_at": token.expires_at,
        },
    )
    return token, plaintext


@transaction.atomic
def do_revoke_api_token(token: ApiToken, *, actor: Actor) -> ApiToken:
    """Revoke a token: its owner or an operator may. Revoked, missing or foreign: NotFound."""
    locked = ApiToken.objects.select_for_update().filter(pk=token.pk).first()
    if locked is None or locked.revoked_at is not None:
        raise NotFound("No such API token.")
    if not (actor.user_id == locked.user_id or actor.is_privileged):
        raise NotFound("No such API token.")
    locked.revoked_at = clock.now()
    locked.save(update_fields=["revoked_at"])
    record(
        AccountTag.TOKEN_REVOKED,
        actor=actor,
        object_type="api_token",
        object_id=locked.pk,
        data={"user_id": locked.user_id, "name": locked.name, "prefix": locked.prefix},
    )
    return locked


def list_tokens_for(actor: Actor) -> QuerySet[ApiToken]:
    """The caller's own active (unrevoked, unexpired) tokens, newest first."""
    if actor.user_id is None:
        return ApiToken.objects.none()
    return _active(clock.now()).filter(user_id=actor.user_id).order_by("-created_at", "-pk")


def access_api_token_by_id(actor: Actor, token_id: int) -> ApiToken:
    """An active token, for its owner and operators; anyone else gets the same NotFound."""
    token = _active(clock.now()).filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such API token.")
    if actor.user_id == token.user_id or actor.is_privileged:
        return token
    raise NotFound("No such API token.")


def authenticate_token(plaintext: str) -> ApiToken | None:
    """The token, if it is active (not revoked, not expired) and its user too; else None.

    The token comes with its user (`token.user`). Its scopes are the caller's to check: which
    one a request needs is the API's business (api/auth.py).

    The lookup is by the digest's unique index; the digest is then compared in constant time
    as well, so nothing about a near miss leaks through timing. `last_used_at` is written at
    most once per LAST_USED_GRANULARITY, and only by the request that wins the conditional
    UPDATE, so a busy client costs a write a minute rather than one per request. That write is
    bookkeeping, like a worker heartbeat: it is not audited.
    """
    if len(plaintext) != TOKEN_LENGTH or not plaintext.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(plaintext)
    token = ApiToken.objects.select_related("user").filter(token_hash=digest).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = clock.now()
    if token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    stale = now - LAST_USED_GRANULARITY
    if token.last_used_at is None or token.last_used_at <= stale:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
        ).update(last_used_at=now)
    return token
