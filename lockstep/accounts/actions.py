"""The only write path for users."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from lockstep.accounts.models import User
from lockstep.audit.record import record
from lockstep.audit.tags import AccountTag
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, PermissionDenied, ValidationError


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="password") from None


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
    email = User.objects.normalize_email(email.strip())
    try:
        validate_email(email)
    except DjangoValidationError:
        msg = f"{email!r} is not a valid e-mail address."
        raise ValidationError(msg, field="email") from None
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
