"""Reads of users."""

from __future__ import annotations

from lockstep.accounts.models import User
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound


def instance_has_users() -> bool:
    return User.objects.exists()


def access_user_by_id(actor: Actor, user_id: int | None) -> User:
    """A user account: its owner and operators see it, nobody else."""
    user = None if user_id is None else User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("No such user.")
    if actor.user_id == user.pk or actor.is_privileged:
        return user
    raise NotFound("No such user.")
