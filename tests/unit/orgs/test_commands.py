"""The management commands behind `lockstep invite`, `deactivate-user` and `reactivate-user`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lockstep.accounts.models import User
from lockstep.audit.models import AuditEvent
from lockstep.cli import build_parser, cmd_deactivate_user, cmd_invite, cmd_reactivate_user
from lockstep.mailgw.models import OutboundMessage
from lockstep.orgs.models import Invitation, Role
from tests.factories.world import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _run(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()


def test_invite_prints_the_link_and_queues_the_mail() -> None:
    OrganizationFactory(name="Northwind Linux", slug="northwind")
    out = _run("lockstep_invite", "cy@example.org", "--org", "northwind", "--role", "admin")
    link = out.strip().splitlines()[-1]
    assert link.startswith("https://lockstep.example.org/invitations/")
    assert "Invited cy@example.org to Northwind Linux as administrator" in out
    invitation = Invitation.objects.get()
    assert invitation.role == Role.ADMIN
    assert invitation.invited_by is None
    body = OutboundMessage.objects.get(pk=invitation.outbound_id).body
    assert link in body
    assert body.startswith("An operator of Lockstep invites you to join Northwind Linux")
    event = AuditEvent.objects.get(tag="org:invitation:sent")
    assert event.actor_label == "system:invite"
    with pytest.raises(CommandError, match="No such organisation"):
        _run("lockstep_invite", "cy@example.org", "--org", "nowhere")
    with pytest.raises(CommandError, match="pending invitation"):
        _run("lockstep_invite", "cy@example.org", "--org", "northwind")


def test_deactivate_and_reactivate_by_address() -> None:
    user = UserFactory(email="bo@example.org")
    assert "Deactivated bo@example.org" in _run("lockstep_deactivate_user", "BO@example.org")
    assert not User.objects.get(pk=user.pk).is_active
    with pytest.raises(CommandError, match="already deactivated"):
        _run("lockstep_deactivate_user", "bo@example.org")
    assert "Reactivated bo@example.org" in _run("lockstep_reactivate_user", "bo@example.org")
    assert User.objects.get(pk=user.pk).is_active
    with pytest.raises(CommandError, match="No account has the address"):
        _run("lockstep_reactivate_user", "nobody@example.org")


def test_the_lockstep_command_knows_them() -> None:
    parser = build_parser()
    invite = parser.parse_args(["invite", "--org", "northwind", "cy@example.org"])
    assert (invite.func, invite.email, invite.org, invite.role) == (
        cmd_invite,
        "cy@example.org",
        "northwind",
        "member",
    )
    assert parser.parse_args(["deactivate-user", "a@b.example"]).func is cmd_deactivate_user
    assert parser.parse_args(["reactivate-user", "a@b.example"]).func is cmd_reactivate_user
    with pytest.raises(SystemExit):
        parser.parse_args(["invite", "--org", "northwind", "--role", "owner", "a@b.example"])
