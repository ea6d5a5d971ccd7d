"""The demo world is built through actions: realistic, complete, audited, and idempotent."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from lockstep.accounts.models import User
from lockstep.advisories.models import Advisory
from lockstep.audit.record import verify
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.models import Participant
from lockstep.cases.policy import LEADING_ROLES
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.models import Channel, ChannelKind
from lockstep.core.actor import Actor
from lockstep.demo.world import build_demo_world
from lockstep.embargo.routing import Route, decide_route
from lockstep.intake.actions import Acceptance, ReportInput, do_accept_report, do_submit_report
from lockstep.mailgw.models import OutboundMessage, Protection
from lockstep.mailgw.outbound.pgpmime import verify_signed
from lockstep.mailgw.outbound.protect import list_public_key, render_pgp
from lockstep.orgs.models import OpenPGPKey, Organization, OrgKind
from lockstep.projects.models import Project
from lockstep.projects.queries import routing_facts_for
from tests.conftest import actor_for
from tests.factories.gpg import GnuPG

pytestmark = pytest.mark.django_db


def test_demo_world_has_what_the_issue_names() -> None:
    world = build_demo_world()
    assert world.created
    vendors = Organization.objects.filter(kind=OrgKind.VENDOR)
    assert vendors.count() == 3
    for vendor in vendors:
        assert vendor.memberships.count() == 2
        assert OpenPGPKey.objects.filter(org=vendor, can_encrypt=True).count() == 1
        for membership in vendor.memberships.all():
            assert OpenPGPKey.objects.filter(user=membership.user, can_encrypt=True).count() == 1
    private = Channel.objects.get(kind=ChannelKind.PRIVATE)
    assert (private.max_embargo_days, private.preferred_embargo_days) == (14, 7)
    assert private.members.count() == 3
    assert Channel.objects.filter(kind=ChannelKind.PUBLIC).count() == 1
    project = Project.objects.get(slug="libquokka")
    decision = decide_route(routing_facts_for(project, already_public=False))
    assert decision.route is Route.PRIVATE_COORDINATION
    advisory = Advisory.objects.get()
    assert advisory.osv[0]["affected"][0]["package"] == {
        "ecosystem": "PyPI",
        "name": "quokka-python",
        "purl": "pkg:pypi/quokka-python",
    }
    assert advisory.public_post is not None  # posted to the demo's public list
    assert verify().ok
    assert build_demo_world().created is False


@pytest.mark.usefixtures("list_key")
def test_a_demo_members_copy_decrypts_with_gnupg_2_2(tmp_path: Path) -> None:
    """Keys the demo hands out are for people's own GnuPG: a copy of a case post to a demo
    member opens with `gpg --decrypt` and its list-key signature verifies."""
    build_demo_world(keys_dir=tmp_path / "keys")
    project = Project.objects.get(slug="libquokka")
    reported = do_submit_report(
        project,
        ReportInput(title="Overflow in quokka_inflate()", description="A long header."),
        actor=Actor.anonymous(),
    )
    case = do_accept_report(
        reported.report,
        Acceptance(channel=Channel.objects.get(kind=ChannelKind.PRIVATE)),
        actor=Actor.system("test"),
    )
    assert case.route == Route.PRIVATE_COORDINATION
    lead = Participant.objects.filter(case=case, role__in=LEADING_ROLES).first()
    assert lead is not None
    author = lead.org.memberships.first()
    assert author is not None
    OutboundMessage.objects.all().delete()
    actor = actor_for(author.user)
    do_add_post(access_case_by_id(actor, case.pk), body="Patch v3 is ready.", actor=actor)
    copy = OutboundMessage.objects.filter(protection=Protection.PGP).first()
    assert copy is not None
    gpg = GnuPG(tmp_path / "gnupg")
    gpg.import_key((tmp_path / "keys" / f"{copy.to_address}.asc").read_text())
    gpg.import_key(list_public_key())
    wire = message_from_bytes(render_pgp(copy), policy=default)
    armored = wire.get_payload()[1].get_content()
    entity = gpg.run("--decrypt", stdin=armored.encode() if isinstance(armored, str) else armored)
    assert b"Patch v3 is ready." in entity
    assert verify_signed(entity, public_key=list_public_key())


def test_the_demo_prints_its_logins_again_on_a_second_start(settings: Any, tmp_path: Path) -> None:
    """`lockstep serve --demo` on an instance that has the demo world already: the logins are
    printed again (issue 12), only those that still exist and may sign in."""
    settings.DATA_DIR = tmp_path
    first, again = StringIO(), StringIO()
    call_command("lockstep_demo", stdout=first)
    assert "Demo world created" in first.getvalue()
    User.objects.filter(email="eli@kestrel.example").update(is_active=False)
    call_command("lockstep_demo", stdout=again)
    text = again.getvalue()
    assert "already here; nothing changed" in text
    for email in ("quinn@libquokka.example", "olga@openlist.example", "ana@northwind.example"):
        assert email in text
        assert email in first.getvalue()
    assert "rita@research.example" in text
    assert "eli@kestrel.example" not in text
    assert "password: quokka-demo-password (unless someone changed it)" in text
    assert f"{tmp_path / 'demo-keys'}/" in text
    logins = [line for line in first.getvalue().splitlines() if "@" in line]
    assert [line for line in text.splitlines() if "@" in line] == [
        line for line in logins if "eli@" not in line
    ]
