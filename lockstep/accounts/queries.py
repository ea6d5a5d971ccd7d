"""Reads of users."""

from __future__ import annotations

from django.db.models import QuerySet

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


def list_accounts_for(actor: Actor) -> QuerySet[User]:
    """Every account, active or not, for an operator; anyone else: NotFound (the page of
    accounts does not exist for them)."""
    if not actor.is_privileged:
        raise NotFound("No such page.")
    return User.objects.order_by("email")


def access_account_by_id(actor: Actor, user_id: int) -> User:
    """Any account, active or deactivated, for an operator; anyone else: NotFound."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not actor.is_privileged:
        raise NotFound("No such user.")
    return user


def access_account_by_email(actor: Actor, email: str) -> User:
    """The same, by address (case-insensitive): for the command line."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None or not actor.is_privileged:
        raise NotFound(f"No account has the address {email.strip()}.")
    return user


def account_exists(email: str) -> bool:
    """Whether an account (active or not) has this address, case-insensitively."""
    return User.objects.filter(email__iexact=email.strip()).exists()
