"""`lockstep invite --org SLUG EMAIL [--role admin|member]`: invite someone to an organisation
and print the link (the mail with it is queued as well). An operator at the server may create
accounts anyway, so the link may be shown here; the web page and the API never show it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from typing_extensions import override

from lockstep.core.actor import Actor
from lockstep.core.errors import LockstepError
from lockstep.orgs.invitations import do_invite_member
from lockstep.orgs.models import Role
from lockstep.orgs.queries import access_org_by_slug


class Command(BaseCommand):
    help = "Invite an e-mail address to an organisation; prints the invitation's link."

    @override
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--role", choices=Role.values, default=Role.MEMBER.value)

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("invite")
        try:
            org = access_org_by_slug(actor, options["org"])
            sent = do_invite_member(
                org, email=options["email"], role=Role(options["role"]), actor=actor
            )
        except LockstepError as exc:
            raise CommandError(exc.message) from None
        invitation = sent.invitation
        self.stdout.write(
            f"Invited {invitation.email} to {org.name} as {invitation.get_role_display().lower()}"
            f" (a mail with the link is queued). The link works once, until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC:\n{sent.url}"
        )
