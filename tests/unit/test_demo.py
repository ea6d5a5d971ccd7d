"""The demo world is built through actions: realistic, complete, audited, and idempotent."""

from __future__ import annotations

import pytest

from lockstep.advisories.models import Advisory
from lockstep.audit.record import verify
from lockstep.channels.models import Channel, ChannelKind
from lockstep.demo.world import build_demo_world
from lockstep.embargo.routing import Route, decide_route
from lockstep.orgs.models import OpenPGPKey, Organization, OrgKind
from lockstep.projects.models import Project
from lockstep.projects.queries import routing_facts_for

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
