"""The only write path for users: creating them, their password and mail settings, and
deactivating them (an operator closes an account without deleting its record)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from lockstep.accounts.models import ApiToken, User
from lockstep.accounts.sessions import end_sessions_of
from lockstep.audit.record import record
from lockstep.audit.tags import AccountTag
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, PermissionDenied, ValidationError
from lockstep.mailgw.outbound.holds import cancel_copies_to


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="password") from None


def clean_email(email: str) -> str:
    """An address as Lockstep keeps it (lower case), or ValidationError on the `email` field."""
    email = User.objects.normalize_email(email.strip())
    try:
        validate_email(email)
    except DjangoValidationError:
        msg = f"{email!r} is not a valid e-mail address."
        raise ValidationError(msg, field="email") from None
    return email


@transaction.atomic
def do_create_user(  # noqa: PLR0913 - a user's facts, each named
    *,
    email: str,
    password: str | None,
    display_name: str = "",
    is_staff: bool = False,
    time_zone: str = "UTC",
    actor: Actor,
) -> User:
    """Create a user. `password=None` creates one who cannot log in until a password is set."""
    if is_staff and not actor.is_privileged:
        msg = "Only an operator can create another operator."
        raise PermissionDenied(msg)
    email = clean_email(email)
    if User.objects.filter(email__iexact=email).exists():
        msg = f"A user with the e-mail address {email} already exists."
        raise Conflict(msg, field="email")
    user = User(
        email=email,
        display_name=display_name.strip(),
        is_staff=is_staff,
        is_superuser=is_staff,
        time_zone=time_zone,
    )
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    user.save()
    record(
        AccountTag.USER_CREATED,
        actor=actor,
        object_type="user",
        object_id=user.pk,
        data={"email": email, "is_staff": is_staff},
    )
    return user


@transaction.atomic
def do_set_password(user: User, *, password: str, actor: Actor) -> User:
    if actor.user_id != user.pk and not actor.is_privileged:
        msg = "You can only change your own password."
        raise PermissionDenied(msg)
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(AccountTag.PASSWORD_CHANGED, actor=actor, object_type="user", object_id=user.pk)
    return user


@transaction.atomic
def do_set_plain_mail(user: User, *, plain: bool, actor: Actor) -> User:
    """A member chooses clear-text mail when they have no usable key (where a channel allows
    it); otherwise such mail is a content-free notice."""
    if actor.user_id != user.pk and not actor.is_privileged:
        raise PermissionDenied("You can only change your own mail settings.")
    user.plain_mail = plain
    user.save(update_fields=["plain_mail"])
    record(
        AccountTag.MAIL_PREFERENCE_CHANGED,
        actor=actor,
        object_type="user",
        object_id=user.pk,
        data={"plain_mail": plain},
    )
    return user


def revoke_tokens_of(user: User, *, actor: Actor, reason: str) -> list[int]:
    """Revoke every active API token of `user`, each audited; return their ids. Composed into
    the caller's transaction, whose action has decided who may do this."""
    tokens = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True))
    now = clock.now()
    for token in tokens:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        record(
            AccountTag.TOKEN_REVOKED,
            actor=actor,
            object_type="api_token",
            object_id=token.pk,
            data={"user_id": user.pk, "name": token.name, "prefix": token.prefix, "reason": reason},
        )
    return [token.pk for token in tokens]


def _locked_for_operator(user: User, *, actor: Actor) -> User:
    if not actor.is_privileged:
        raise PermissionDenied("Only an operator can deactivate or reactivate an account.")
    if actor.user_id == user.pk:
        raise PermissionDenied("You cannot deactivate or reactivate your own account.")
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def do_deactivate_user(user: User, *, actor: Actor) -> User:
    """Close an account at once: it can no longer log in or use the API (every session ends,
    every token is revoked), and the mail still waiting for its address is cancelled. Nothing
    else is removed: its memberships, keys and posts stay on record, and an inactive account
    is skipped wherever access or mail is decided (`is_active`)."""
    locked = _locked_for_operator(user, actor=actor)
    if not locked.is_active:
        msg = f"{locked.email} is already deactivated."
        raise Conflict(msg)
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    reason = f"the account {locked.email} was deactivated by {actor.label}"
    sessions = end_sessions_of(locked.pk)
    tokens = revoke_tokens_of(locked, actor=actor, reason=reason)
    copies = cancel_copies_to(locked.email, case_ids=None, reason=reason, actor=actor)
    record(
        AccountTag.DEACTIVATED,
        actor=actor,
        object_type="user",
        object_id=locked.pk,
        data={
            "email": locked.email,
            "sessions_ended": sessions,
            "tokens_revoked": tokens,
            "copies_cancelled": copies,
        },
    )
    return locked


@transaction.atomic
def do_reactivate_user(user: User, *, actor: Actor) -> User:
    """Open a closed account again. It logs in afresh (its sessions are gone) and makes new
    tokens (the old ones stay revoked); its memberships give it its cases back."""
    locked = _locked_for_operator(user, actor=actor)
    if locked.is_active:
        msg = f"{locked.email} is active."
        raise Conflict(msg)
    locked.is_active = True
    locked.save(update_fields=["is_active"])
    record(
        AccountTag.REACTIVATED,
        actor=actor,
        object_type="user",
        object_id=locked.pk,
        data={"email": locked.email},
    )
    return locked
