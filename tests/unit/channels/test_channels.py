"""Channels: private lists carry an embargo policy and are visible only to those concerned."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from lockstep.channels.actions import (
    do_add_channel_member,
    do_change_channel_policy,
    do_create_channel,
    do_remove_channel_member,
)
from lockstep.channels.models import Channel, ChannelKind
from lockstep.channels.queries import access_channel_by_slug, list_channels_for, policy_of
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.embargo.policy import DISTROS, NINETY_DAY
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import OrgKind
from tests.conftest import actor_for
from tests.factories.world import ChannelFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_private_list_keeps_its_policy(system: Actor) -> None:
    channel = ChannelFactory(slug="distros", kind=ChannelKind.PRIVATE, policy=DISTROS)
    policy = policy_of(channel)
    assert policy is not None
    assert (policy.max_days, policy.preferred_days, policy.min_hours) == (14, 7, 24)
    public = ChannelFactory(kind=ChannelKind.PUBLIC)
    assert policy_of(public) is None


def test_policy_must_match_kind(system: Actor) -> None:
    with pytest.raises(ValidationError, match="needs an embargo policy"):
        do_create_channel(name="x", kind=ChannelKind.PRIVATE, actor=system)
    with pytest.raises(ValidationError):
        do_create_channel(name="y", kind=ChannelKind.PUBLIC, policy=DISTROS, actor=system)
    with pytest.raises(PermissionDenied):
        do_create_channel(name="z", kind=ChannelKind.PUBLIC, actor=actor_for(UserFactory()))
    with pytest.raises(ValidationError, match="not a coordinator"):
        do_create_channel(
            name="w", kind=ChannelKind.PUBLIC, operated_by=OrganizationFactory(), actor=system
        )
    ChannelFactory(slug="dup", kind=ChannelKind.PUBLIC)
    with pytest.raises(Conflict):
        do_create_channel(name="dup", slug="dup", kind=ChannelKind.PUBLIC, actor=system)


def test_database_refuses_an_inconsistent_policy(system: Actor) -> None:
    channel = ChannelFactory(kind=ChannelKind.PRIVATE)
    with pytest.raises(IntegrityError):
        Channel.objects.filter(pk=channel.pk).update(preferred_embargo_days=30)


def test_coordinator_changes_policy_and_members(system: Actor) -> None:
    coordinator = OrganizationFactory(kind=OrgKind.COORDINATOR)
    olga, vendor_member = UserFactory(), UserFactory()
    do_add_member(coordinator, olga, actor=system)
    channel = ChannelFactory(kind=ChannelKind.PRIVATE, operated_by=coordinator)
    vendor = OrganizationFactory(kind=OrgKind.VENDOR)
    do_add_member(vendor, vendor_member, actor=system)
    with pytest.raises(PermissionDenied):
        do_add_channel_member(channel, vendor, actor=actor_for(vendor_member))
    seat = do_add_channel_member(channel, vendor, actor=actor_for(olga))
    with pytest.raises(Conflict):
        do_add_channel_member(channel, vendor, actor=actor_for(olga))
    with pytest.raises(ValidationError, match="neither"):
        do_add_channel_member(
            channel, OrganizationFactory(kind=OrgKind.RESEARCHER), actor=actor_for(olga)
        )
    changed = do_change_channel_policy(channel, policy=NINETY_DAY, actor=actor_for(olga))
    assert changed.max_embargo_days == NINETY_DAY.max_days
    do_remove_channel_member(seat, actor=actor_for(olga))
    assert not channel.members.exists()


def test_public_list_has_no_policy_to_change(system: Actor) -> None:
    with pytest.raises(ValidationError, match="no embargo policy"):
        do_change_channel_policy(
            ChannelFactory(kind=ChannelKind.PUBLIC), policy=DISTROS, actor=system
        )


def test_private_list_is_invisible_to_outsiders(system: Actor) -> None:
    coordinator = OrganizationFactory(kind=OrgKind.COORDINATOR)
    vendor, outsider_org = OrganizationFactory(), OrganizationFactory()
    olga, member, outsider = UserFactory(), UserFactory(), UserFactory()
    do_add_member(coordinator, olga, actor=system)
    do_add_member(vendor, member, actor=system)
    do_add_member(outsider_org, outsider, actor=system)
    private = ChannelFactory(slug="distros", operated_by=coordinator)
    public = ChannelFactory(slug="oss", kind=ChannelKind.PUBLIC)
    do_add_channel_member(private, vendor, actor=system)
    for who in (olga, member):
        assert access_channel_by_slug(actor_for(who), "distros") == private
    with pytest.raises(NotFound):
        access_channel_by_slug(actor_for(outsider), "distros")
    with pytest.raises(NotFound):
        access_channel_by_slug(Actor.anonymous(), "distros")
    assert access_channel_by_slug(Actor.anonymous(), "oss") == public
    assert list(list_channels_for(actor_for(outsider))) == [public]
    assert set(list_channels_for(actor_for(member))) == {private, public}
    assert set(list_channels_for(system)) == {private, public}
