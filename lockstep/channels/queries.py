"""Reads of channels. A private list, and who is on it, is visible only to those concerned."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from lockstep.channels.models import Channel, ChannelKind, ChannelMember
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound
from lockstep.embargo.policy import EmbargoPolicy
from lockstep.orgs.queries import org_ids_of


def _visible(actor: Actor) -> QuerySet[Channel]:
    channels = Channel.objects.select_related("operated_by")
    if actor.is_privileged:
        return channels
    orgs = org_ids_of(actor)
    return channels.filter(
        Q(kind=ChannelKind.PUBLIC) | Q(members__org_id__in=orgs) | Q(operated_by_id__in=orgs)
    ).distinct()


def list_channels_for(actor: Actor) -> QuerySet[Channel]:
    return _visible(actor).order_by("kind", "name")


def access_channel_by_slug(actor: Actor, slug: str) -> Channel:
    """A channel for those who may see it; a private one is NotFound to everyone else."""
    channel = (
        _visible(actor)
        .prefetch_related(Prefetch("members", queryset=ChannelMember.objects.select_related("org")))
        .filter(slug=slug)
        .first()
    )
    if channel is None:
        raise NotFound("No such channel.")
    return channel


def policy_of(channel: Channel) -> EmbargoPolicy | None:
    """The embargo policy of a private list; None for a public list."""
    if channel.kind != ChannelKind.PRIVATE:
        return None
    assert channel.max_embargo_days is not None  # noqa: S101 - guaranteed by a DB constraint
    assert channel.preferred_embargo_days is not None  # noqa: S101
    assert channel.min_embargo_hours is not None  # noqa: S101
    return EmbargoPolicy(
        max_days=channel.max_embargo_days,
        preferred_days=channel.preferred_embargo_days,
        min_hours=channel.min_embargo_hours,
        name=channel.name,
    )


def can_manage_channel(actor: Actor, channel: Channel) -> bool:
    if actor.is_privileged:
        return True
    return channel.operated_by_id is not None and channel.operated_by_id in org_ids_of(actor)


def list_routing_channels() -> QuerySet[Channel]:
    """Private lists an upstream may take a case to.

    A list's name and policy are public knowledge (anyone may write to the distros list);
    who is on it is not, and this read does not load the members.
    """
    return Channel.objects.filter(kind=ChannelKind.PRIVATE).order_by("name")


def access_routing_channel_by_slug(slug: str) -> Channel:
    channel = list_routing_channels().select_related("operated_by").filter(slug=slug).first()
    if channel is None:
        raise NotFound("No such private list.")
    return channel
