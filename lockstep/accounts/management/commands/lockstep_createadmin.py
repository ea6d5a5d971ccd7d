"""`lockstep createadmin --email E`: an operator account, password asked for (never echoed)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from typing_extensions import override

from lockstep.accounts.actions import do_create_user
from lockstep.core.actor import Actor
from lockstep.core.errors import LockstepError


class Command(BaseCommand):
    help = "Create an operator (staff) account that can log in to the web interface."

    @override
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (for scripts)",
        )

    def _password(self, *, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        if not sys.stdin.isatty():
            msg = "No terminal to ask for a password: pass --password-stdin and pipe it in."
            raise CommandError(msg)
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            msg = "The two passwords differ."
            raise CommandError(msg)
        return first

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(from_stdin=options["password_stdin"])
        try:
            user = do_create_user(
                email=options["email"],
                password=password,
                display_name=options["name"],
                is_staff=True,
                actor=Actor.system("createadmin"),
            )
        except LockstepError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created operator {user.email}. Log in at /login/.")
