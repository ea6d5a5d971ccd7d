"""A small world with a case in it, built through the same actions the product uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lockstep.accounts.models import User
from lockstep.cases.models import Case
from lockstep.channels.actions import do_add_channel_member
from lockstep.channels.models import Channel, ChannelKind
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.intake.actions import (
    Acceptance,
    ReportInput,
    Submitted,
    do_accept_report,
    do_submit_report,
)
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import Organization, OrgKind, Role
from lockstep.projects.actions import do_add_redistributor
from lockstep.projects.models import Project
from tests.factories.world import ChannelFactory, OrganizationFactory, ProjectFactory, UserFactory

SYSTEM = Actor.system("factories")


@dataclass
class CaseWorld:
    project: Project
    upstream: Organization
    maintainer: User
    coordinator_org: Organization
    coordinator: User
    channel: Channel
    vendor: Organization  # ships the project and sits on the list: in the case
    vendor_user: User
    listed_only: Organization  # on the list, does not ship it: not in the case by default
    listed_only_user: User
    unlisted: Organization  # ships it, not on the list: not in the case
    outsider: Organization
    outsider_user: User
    submitted: Submitted
    case: Case


def _member(org: Organization, role: Role = Role.MEMBER) -> User:
    user = UserFactory()
    do_add_member(org, user, role=role, actor=SYSTEM)
    return user


def disclosure_in(days: int) -> datetime:
    when = clock.now() + timedelta(days=days)
    return when.replace(hour=14, minute=0, second=0, microsecond=0)


def build_case_world(*, accept: bool = True, tag: str = "") -> CaseWorld:
    """`tag` makes names unique when a test needs two worlds."""
    upstream = OrganizationFactory(name=f"libquokka team{tag}", kind=OrgKind.UPSTREAM)
    maintainer = _member(upstream, Role.ADMIN)
    project = ProjectFactory(
        name=f"libquokka{tag}",
        slug=f"libquokka{tag}",
        upstream=upstream,
        purls=[f"pkg:pypi/libquokka{tag}"],
    )
    coordinator_org = OrganizationFactory(name=f"Openlist{tag}", kind=OrgKind.COORDINATOR)
    coordinator = _member(coordinator_org, Role.ADMIN)
    channel = ChannelFactory(
        name=f"distros{tag}",
        slug=f"distros{tag}",
        kind=ChannelKind.PRIVATE,
        operated_by=coordinator_org,
    )
    vendor = OrganizationFactory(name=f"Northwind Linux{tag}", slug=f"northwind{tag}")
    listed_only = OrganizationFactory(name=f"Bluefin OS{tag}", slug=f"bluefin{tag}")
    unlisted = OrganizationFactory(name=f"Kestrel BSD{tag}", slug=f"kestrel{tag}")
    outsider = OrganizationFactory(name=f"Elsewhere Inc{tag}", slug=f"elsewhere{tag}")
    for org in (vendor, listed_only):
        do_add_channel_member(channel, org, actor=SYSTEM)
    for org in (vendor, unlisted):
        do_add_redistributor(project, org, actor=SYSTEM)
    submitted = do_submit_report(
        project,
        ReportInput(title="Heap overflow in inflate()", description="A crafted stream overflows."),
        actor=Actor.anonymous(),
    )
    world = CaseWorld(
        project=project,
        upstream=upstream,
        maintainer=maintainer,
        coordinator_org=coordinator_org,
        coordinator=coordinator,
        channel=channel,
        vendor=vendor,
        vendor_user=_member(vendor),
        listed_only=listed_only,
        listed_only_user=_member(listed_only),
        unlisted=unlisted,
        outsider=outsider,
        outsider_user=_member(outsider),
        submitted=submitted,
        case=Case(),
    )
    if accept:
        world.case = do_accept_report(
            submitted.report,
            Acceptance(channel=channel, disclosure_at=disclosure_in(7)),
            actor=SYSTEM,
        )
    return world
