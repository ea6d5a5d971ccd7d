"""The write path for what happens around signing in: each is audited."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount
from django.db import transaction

from lockstep.accounts.models import User
from lockstep.accounts.sessions import end_sessions_of, sessions_of
from lockstep.audit.record import record
from lockstep.audit.tags import AccountTag
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound


def _note(tag: AccountTag, user: User, *, actor: Actor, data: dict[str, object]) -> None:
    with transaction.atomic():
        record(tag, actor=actor, object_type="user", object_id=user.pk, data=data)


def do_note_sign_in(user: User, *, client: str, method: str) -> None:
    _note(
        AccountTag.SIGNED_IN,
        user,
        actor=Actor.for_user(user),
        data={"client": client, "method": method},
    )


def do_note_sign_out(user: User, *, client: str) -> None:
    _note(AccountTag.SIGNED_OUT, user, actor=Actor.for_user(user), data={"client": client})


def do_note_sign_in_refused(user: User, *, client: str) -> None:
    _note(AccountTag.SIGNIN_REFUSED, user, actor=Actor.system("signin"), data={"client": client})


def do_connect_sso_identity(user: User, *, account: SocialAccount, client: str) -> None:
    """Connect an identity provider's identity (`account`, not yet saved) to `user`: at the
    first single sign-on whose verified address is the account's (lockstep.signin.sso)."""
    with transaction.atomic():
        account.user = user
        account.save()
        data = {"provider": account.provider, "subject": account.uid, "client": client}
        record(
            AccountTag.SSO_CONNECTED,
            actor=Actor.for_user(user),
            object_type="user",
            object_id=user.pk,
            data=data,
        )


def do_note_sso_refused(
    user: User | None, *, provider: str, subject: str, reason: str, client: str
) -> None:
    """A single sign-on that signed nobody in: recorded on the account it named, if any, else
    on the provider (the provider's subject, never the address it gave)."""
    data: dict[str, object] = {
        "provider": provider,
        "subject": subject,
        "reason": reason,
        "client": client,
    }
    actor = Actor.system("signin")
    if user is not None:
        _note(AccountTag.SSO_REFUSED, user, actor=actor, data=data)
        return
    with transaction.atomic():
        record(
            AccountTag.SSO_REFUSED,
            actor=actor,
            object_type="sso-provider",
            object_id=provider,
            data=data,
        )


def do_note_second_factor(tag: AccountTag, user: User, *, kind: str) -> None:
    _note(tag, user, actor=Actor.for_user(user), data={"type": kind})


@transaction.atomic
def do_end_sessions(user: User, *, keep: str | None, actor: Actor, reason: str) -> int:
    """End `user`'s sessions but `keep`: by themself or an operator (anyone else: NotFound)."""
    if actor.user_id != user.pk and not actor.is_privileged:
        raise NotFound("No such user.")
    ended = end_sessions_of(user.pk, keep=keep)
    _note(AccountTag.SESSIONS_ENDED, user, actor=actor, data={"count": ended, "reason": reason})
    return ended


@transaction.atomic
def do_end_session(user: User, *, session_id: int, actor: Actor) -> None:
    """End one of `user`'s own sessions, named by its row id."""
    session = sessions_of(user.pk).filter(pk=session_id).first()
    if session is None or actor.user_id != user.pk:
        raise NotFound("No such session.")
    session.end()
    reason = "ended by its owner"
    _note(AccountTag.SESSIONS_ENDED, user, actor=actor, data={"count": 1, "reason": reason})
