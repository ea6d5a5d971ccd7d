"""API tokens and "who am I": /api/v1/tokens, /api/v1/tokens/{id}, /api/v1/me."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from lockstep.accounts.models import ApiToken
from lockstep.accounts.queries import access_user_by_id
from lockstep.accounts.scopes import Scope
from lockstep.accounts.tokens import (
    DEFAULT_LIFETIME_DAYS,
    MAX_LIFETIME_DAYS,
    MIN_LIFETIME_DAYS,
    NAME_MAX_LENGTH,
    access_api_token_by_id,
    check_token_creation_rate,
    do_create_api_token,
    do_revoke_api_token,
    list_tokens_for,
)
from lockstep.api.auth import actor_of, require_recent_proof
from lockstep.api.openapi import answers
from lockstep.api.params import Id
from lockstep.core import clock
from lockstep.orgs.queries import list_memberships_for

router = Router(tags=["account"])


class TokenIn(Schema):
    name: str = Field(
        min_length=1, max_length=NAME_MAX_LENGTH, description="What the token is for."
    )
    scopes: list[Scope] = Field(
        [Scope.READ],  # DEFAULT_SCOPES, as the document shows it
        min_length=1,
        description="What it may do: read (safe methods), write (the others), publish (what "
        "makes embargoed information public or ends or shortens an embargo). write and "
        "publish each need read. A token creating a token needs write, and may give only "
        "scopes it has itself.",
    )
    expires_in_days: int = Field(
        DEFAULT_LIFETIME_DAYS,
        ge=MIN_LIFETIME_DAYS,
        le=MAX_LIFETIME_DAYS,
        description="How long the token works, in days.",
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first 8 characters, to recognise it by.")
    scopes: list[Scope] = Field(description="In the order read, write, publish.")
    created_at: datetime
    expires_at: datetime = Field(description="It stops working then; there is no renewal.")
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself. It is shown this once and never again.")


class MembershipOut(Schema):
    slug: str
    name: str
    kind: str
    role: str


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    is_staff: bool
    organisations: list[MembershipOut]


def _out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.pk,
        name=token.name,
        prefix=token.prefix,
        scopes=[Scope(name) for name in token.scope_list],
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


@router.get("/tokens", response=list[TokenOut], summary="My active API tokens")
def list_tokens(request: HttpRequest) -> list[TokenOut]:
    """Neither revoked nor expired, newest first."""
    return [_out(token) for token in list_tokens_for(actor_of(request))]


@router.post(
    "/tokens",
    response={201: TokenCreatedOut},
    summary="Create an API token",
    description="Returns the token in `token`, once; store it now. At most 10 an hour. "
    "It has the scopes asked for (default: read) and expires after `expires_in_days` "
    "(default 90). Through a token, this needs `write`, and a scope the calling token lacks "
    "is refused (403 `insufficient_scope`). A browser session needs a second factor proven in "
    "the last minutes (403 `reauthentication_required`).",
    openapi_extra=answers(429),
)
def create_token(request: HttpRequest, payload: TokenIn) -> TokenCreatedOut:
    require_recent_proof(request)
    actor = actor_of(request)
    user = access_user_by_id(actor, actor.user_id)
    check_token_creation_rate(actor, now=clock.now())
    token, plaintext = do_create_api_token(
        user,
        name=payload.name,
        scopes=payload.scopes,
        days=payload.expires_in_days,
        actor=actor,
    )
    return TokenCreatedOut(**_out(token).model_dump(), token=plaintext)


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: Id) -> None:
    actor = actor_of(request)
    do_revoke_api_token(access_api_token_by_id(actor, token_id), actor=actor)


@router.get("/me", response=MeOut, summary="Who am I")
def me(request: HttpRequest) -> MeOut:
    actor = actor_of(request)
    user = access_user_by_id(actor, actor.user_id)
    organisations = [
        MembershipOut(slug=m.org.slug, name=m.org.name, kind=m.org.kind, role=m.role)
        for m in list_memberships_for(actor)
    ]
    return MeOut(
        id=user.pk,
        email=user.email,
        display_name=user.display_name,
        is_staff=user.is_staff,
        organisations=organisations,
    )
