"""Operators close and reopen accounts: /api/v1/users/{user_id}/deactivate, …/reactivate.

For anyone but an operator these addresses do not exist (404).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from lockstep.accounts.actions import do_deactivate_user, do_reactivate_user
from lockstep.accounts.models import User
from lockstep.accounts.queries import access_account_by_id
from lockstep.api.auth import actor_of
from lockstep.api.params import Id

router = Router(tags=["accounts"])


class UserOut(Schema):
    id: int
    email: str
    display_name: str
    is_staff: bool
    active: bool = Field(description="False: deactivated (no login, no API, no mail).")


def _user(user: User) -> UserOut:
    return UserOut(
        id=user.pk,
        email=user.email,
        display_name=user.display_name,
        is_staff=user.is_staff,
        active=user.is_active,
    )


@router.post(
    "/users/{user_id}/deactivate",
    response=UserOut,
    summary="Deactivate an account (operators)",
    description="Ends every session, revokes every API token and cancels the mail waiting for "
    "the account; its memberships stay on record. 409 if it is deactivated already.",
)
def deactivate(request: HttpRequest, user_id: Id) -> UserOut:
    actor = actor_of(request)
    return _user(do_deactivate_user(access_account_by_id(actor, user_id), actor=actor))


@router.post(
    "/users/{user_id}/reactivate",
    response=UserOut,
    summary="Reactivate an account (operators)",
    description="It may log in again and make new tokens; the revoked ones stay revoked.",
)
def reactivate(request: HttpRequest, user_id: Id) -> UserOut:
    actor = actor_of(request)
    return _user(do_reactivate_user(access_account_by_id(actor, user_id), actor=actor))
