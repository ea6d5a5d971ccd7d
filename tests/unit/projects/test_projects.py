"""Projects, Package URLs, redistributors, and the routing facts they feed."""

from __future__ import annotations

import pytest

from lockstep.audit.models import AuditEvent
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.embargo.routing import Route, decide_route
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import OrgKind, Role
from lockstep.projects.actions import (
    do_add_package,
    do_add_redistributor,
    do_confirm_direct_use,
    do_create_project,
    do_remove_package,
    do_remove_redistributor,
)
from lockstep.projects.models import Package, Redistribution
from lockstep.projects.purls import normalise_package_purl
from lockstep.projects.queries import access_project_by_slug, redistributor_names, routing_facts_for
from tests.conftest import actor_for
from tests.factories.world import OrganizationFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("pkg:pypi/requests", "pkg:pypi/requests"),
        ("  pkg:npm/%40angular/core ", "pkg:npm/%40angular/core"),
        ("pkg:deb/debian/openssl?arch=amd64", "pkg:deb/debian/openssl?arch=amd64"),
        ("pkg:github/libquokka/libquokka", "pkg:github/libquokka/libquokka"),
    ],
)
def test_valid_purls_are_normalised(text: str, canonical: str) -> None:
    assert normalise_package_purl(text) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Give a Package URL"),
        ("requests", "not a valid Package URL"),
        ("pkg:pypi/requests@2.31.0", "without a version"),
        ("pkg:" + "a" * 600, "at most 512"),
    ],
)
def test_invalid_purls_get_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        normalise_package_purl(text)


def test_project_needs_an_upstream_admin(system: Actor) -> None:
    upstream = OrganizationFactory(kind=OrgKind.UPSTREAM)
    maintainer, stranger = UserFactory(), UserFactory()
    do_add_member(upstream, maintainer, role=Role.ADMIN, actor=system)
    with pytest.raises(PermissionDenied):
        do_create_project(upstream=upstream, name="libx", actor=actor_for(stranger))
    project = do_create_project(
        upstream=upstream,
        name="libx",
        purls=["pkg:pypi/libx", "pkg:pypi/libx"],
        actor=actor_for(maintainer),
    )
    assert [p.purl for p in project.packages.all()] == ["pkg:pypi/libx"]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.tag == "project:project:created"
    assert event.data["purls"] == ["pkg:pypi/libx"]


def test_project_refuses_non_upstream_owner_bad_purl_and_duplicate_slug(system: Actor) -> None:
    vendor = OrganizationFactory(kind=OrgKind.VENDOR)
    with pytest.raises(ValidationError, match="not an upstream"):
        do_create_project(upstream=vendor, name="liby", actor=system)
    upstream = OrganizationFactory(kind=OrgKind.UPSTREAM)
    with pytest.raises(ValidationError, match="without a version"):
        do_create_project(upstream=upstream, name="liby", purls=["pkg:pypi/y@1"], actor=system)
    with pytest.raises(ValidationError, match="needs a name"):
        do_create_project(upstream=upstream, name=" ", actor=system)
    do_create_project(upstream=upstream, name="liby", actor=system)
    with pytest.raises(Conflict):
        do_create_project(upstream=upstream, name="liby", actor=system)


def test_packages_added_and_removed(system: Actor) -> None:
    project = ProjectFactory()
    package = do_add_package(project, purl="pkg:cargo/quokka", actor=system)
    with pytest.raises(Conflict):
        do_add_package(project, purl="pkg:cargo/quokka", actor=system)
    do_remove_package(package, actor=system)
    assert not Package.objects.filter(project=project).exists()


def test_redistributors_drive_the_routing_decision(system: Actor) -> None:
    project = ProjectFactory(name="libquokka")
    # Nothing recorded: unknown, so the safe choice (treat as redistributed).
    assert redistributor_names(project) is None
    unknown = decide_route(routing_facts_for(project, already_public=False))
    assert unknown.route is Route.PRIVATE_COORDINATION
    # The maintainer says nobody redistributes.
    do_confirm_direct_use(project, actor=system)
    assert redistributor_names(project) == ()
    assert decide_route(routing_facts_for(project, already_public=False)).route is (
        Route.DIRECT_RELEASE
    )
    # A vendor ships it after all: the statement is withdrawn.
    vendor = OrganizationFactory(name="Northwind Linux", kind=OrgKind.VENDOR)
    link = do_add_redistributor(project, vendor, downstream_purl="pkg:deb/nw/q", actor=system)
    project.refresh_from_db()
    assert project.users_take_upstream_directly is False
    seen = access_project_by_slug(Actor.anonymous(), project.slug)
    assert redistributor_names(seen) == ("Northwind Linux",)
    assert decide_route(routing_facts_for(seen, already_public=True)).route is Route.PUBLIC_LIST
    with pytest.raises(Conflict):
        do_add_redistributor(project, vendor, actor=system)
    with pytest.raises(Conflict, match="contradict"):
        do_confirm_direct_use(project, actor=system)
    do_remove_redistributor(link, actor=system)
    assert not Redistribution.objects.exists()


def test_only_vendors_redistribute_and_only_maintainers_say_so(system: Actor) -> None:
    project = ProjectFactory()
    with pytest.raises(ValidationError, match="not a vendor"):
        do_add_redistributor(project, OrganizationFactory(kind=OrgKind.RESEARCHER), actor=system)
    with pytest.raises(PermissionDenied):
        do_add_redistributor(project, OrganizationFactory(), actor=actor_for(UserFactory()))


def test_missing_project_is_not_found() -> None:
    with pytest.raises(NotFound):
        access_project_by_slug(Actor.anonymous(), "nope")
