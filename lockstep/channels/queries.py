"""Reads of channels. A private list, and who is on it, is visible only to those concerned."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from lockstep.channels.models import Channel, ChannelKind, ChannelMember, PublicPost
from lockstep.channels.threads import thread_order
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


def access_public_list(slug: str) -> Channel:
    """A public list, for anyone (its archive is public); NotFound for any other slug."""
    channel = Channel.objects.filter(slug=slug, kind=ChannelKind.PUBLIC).first()
    if channel is None:
        raise NotFound("No such public list.")
    return channel


THREAD_SCAN_CHUNK = 500


@dataclass(frozen=True)
class ArchiveRow:
    post: PublicPost
    depth: int  # 0: a thread's first post (or a reply whose parent the archive lacks)

    @property
    def indent(self) -> str:
        return "\u00a0\u00a0" * self.depth + ("↳ " if self.depth else "")


def _thread_rows(posts: list[PublicPost]) -> list[ArchiveRow]:
    return [ArchiveRow(post, depth) for post, depth in thread_order(posts)]


def _thread_keys(channel: Channel, *, start: int, count: int) -> list[str]:
    """Keys of the threads `start` to `start + count`, the most recently active first: read
    from the newest post back until enough threads are seen (few posts for the first pages)."""
    seen: dict[str, None] = {}
    newest_first = (
        PublicPost.objects.filter(channel=channel)
        .order_by("-created_at", "-id")
        .values_list("thread_key", flat=True)
    )
    for key in newest_first.iterator(chunk_size=THREAD_SCAN_CHUNK):
        seen.setdefault(key)
        if len(seen) >= start + count:
            break
    return list(seen)[start : start + count]


def archive_threads(
    channel: Channel, *, page: int, per_page: int
) -> tuple[list[list[ArchiveRow]], bool]:
    """A page of a public list's threads, the most recently active first, each in reading
    order (`threads.thread_order`); and whether older threads follow."""
    keys = _thread_keys(channel, start=(page - 1) * per_page, count=per_page + 1)
    shown = keys[:per_page]
    posts = (
        PublicPost.objects.filter(channel=channel, thread_key__in=shown)
        .defer("body")
        .order_by("created_at", "id")
    )
    by_thread: dict[str, list[PublicPost]] = {key: [] for key in shown}
    for post in posts:
        by_thread[post.thread_key].append(post)
    return [_thread_rows(by_thread[key]) for key in shown], len(keys) > per_page


def thread_of(post: PublicPost) -> list[ArchiveRow]:
    """The whole thread a public post belongs to, in reading order."""
    if not post.thread_key:  # pragma: no cover - every writer sets it; the migration did
        return [ArchiveRow(post, 0)]
    posts = PublicPost.objects.filter(channel_id=post.channel_id, thread_key=post.thread_key)
    return _thread_rows(list(posts.defer("body").order_by("created_at", "id")))
