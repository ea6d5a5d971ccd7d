"""`lockstep reactivate-user EMAIL`: open a deactivated account again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from typing_extensions import override

from lockstep.accounts.actions import do_reactivate_user
from lockstep.accounts.queries import access_account_by_email
from lockstep.core.actor import Actor
from lockstep.core.errors import LockstepError


class Command(BaseCommand):
    help = "Reactivate a deactivated account: it may log in again (its old tokens stay revoked)."

    @override
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("reactivate-user")
        try:
            user = do_reactivate_user(access_account_by_email(actor, options["email"]), actor=actor)
        except LockstepError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Reactivated {user.email}.")
