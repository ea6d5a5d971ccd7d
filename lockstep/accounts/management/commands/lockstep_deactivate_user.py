"""`lockstep deactivate-user EMAIL`: close an account at once (see do_deactivate_user)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from typing_extensions import override

from lockstep.accounts.actions import do_deactivate_user
from lockstep.accounts.queries import access_account_by_email
from lockstep.core.actor import Actor
from lockstep.core.errors import LockstepError


class Command(BaseCommand):
    help = (
        "Deactivate an account: it is logged out everywhere, its API tokens are revoked and "
        "the mail waiting for it is cancelled. Its memberships stay on record."
    )

    @override
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("deactivate-user")
        try:
            user = do_deactivate_user(access_account_by_email(actor, options["email"]), actor=actor)
        except LockstepError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Deactivated {user.email}: logged out everywhere, tokens revoked.")
