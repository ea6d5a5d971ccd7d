"""The case room page: the same number of queries whatever the case's size; paging."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from lockstep.cases.actions.participants import do_invite_channel
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.actions import do_add_channel_member
from lockstep.orgs.models import OrgKind
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, CaseWorld, build_case_world
from tests.factories.world import OrganizationFactory

pytestmark = pytest.mark.django_db


def _grow(world: CaseWorld, *, vendors: int, posts: int, vulns: int) -> None:
    for _ in range(vendors):
        do_add_channel_member(world.channel, OrganizationFactory(kind=OrgKind.VENDOR), actor=SYSTEM)
    actor = actor_for(world.maintainer)
    lead = access_case_by_id(actor, world.case.pk)
    do_invite_channel(lead, actor=actor)
    for n in range(vulns):
        do_add_vulnerability(lead, VulnerabilityInput(title=f"Issue {n}"), actor=actor)
    for n in range(posts):
        do_add_post(lead, body=f"post {n}", actor=actor)


def _queries(world: CaseWorld, url: str) -> int:
    client = Client()
    client.force_login(world.vendor_user)
    client.get(url)  # first view marks the case seen; measure a steady view
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "path", ["/cases/{id}/", "/api/v1/cases/{id}", "/api/v1/cases/{id}/participants"]
)
def test_query_count_does_not_grow_with_the_case(path: str) -> None:
    small, large = build_case_world(), build_case_world(tag="-b")
    _grow(small, vendors=1, posts=1, vulns=1)
    _grow(large, vendors=30, posts=60, vulns=5)
    small_count = _queries(small, path.format(id=small.case.pk))
    large_count = _queries(large, path.format(id=large.case.pk))
    assert large_count == small_count
    # 25, and since issue 12 one for the viewer's own saved statuses (the status forms) and
    # one for the navigation's links (web/context.capabilities).
    assert small_count <= 27


def test_pages_of_participants_and_posts(client: Client) -> None:
    world = build_case_world()
    _grow(world, vendors=60, posts=55, vulns=1)
    client.force_login(world.maintainer)
    first = client.get(f"/cases/{world.case.pk}/").content.decode()
    assert "next →" in first
    assert "← older posts" in first
    assert "post 54" in first
    assert "post 0<" not in first
    # 20 posts a page: post 0 is on the third.
    second = client.get(f"/cases/{world.case.pk}/?page=2&posts=3").content.decode()
    assert "← previous" in second
    assert "post 0" in second
    waiting = client.get(f"/cases/{world.case.pk}/?waiting=1").content.decode()
    assert "showing those still to answer" in waiting


def test_coordinator_sees_who_has_not_answered(client: Client) -> Any:
    world = build_case_world()
    _grow(world, vendors=2, posts=0, vulns=1)
    client.force_login(world.coordinator)
    page = client.get(f"/cases/{world.case.pk}/").content.decode()
    assert 'id="waiting"' in page
    assert "Northwind Linux" in page.split('id="waiting"')[1].split("</p>")[0]


def test_waiting_dashboard_for_leads_only(client: Client) -> None:
    world = build_case_world()
    _grow(world, vendors=1, posts=0, vulns=1)
    for lead in (world.coordinator, world.maintainer):
        client.force_login(lead)
        page = client.get("/cases/waiting/").content.decode()
        row = page.split('id="waiting-dashboard"')[1]
        assert "Heap overflow in inflate()" in row
        assert "Northwind Linux" in row
    client.force_login(world.vendor_user)
    assert "Heap overflow" not in client.get("/cases/waiting/").content.decode()
