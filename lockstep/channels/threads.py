"""Threads of list mail, as mail clients build them from Message-ID, In-Reply-To and
References. Pure: no ORM.

`thread_keys` gives every message of an import the key its thread shares. Messages that name
each other, directly or through a message the archive never had, are one thread (a missing
parent joins its replies, as in JWZ's threading). A thread the archive already holds keeps
its key; a new thread's key is the Message-ID of its first message without references, else
the oldest message its first message names.

`thread_order` lays the posts of one thread out for reading: each reply under the post it
answers, replies in date order, depth-first; a reply whose parent is not there stands at the
top level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar


class Threaded(Protocol):
    @property
    def message_id(self) -> str: ...

    @property
    def references(self) -> tuple[str, ...]: ...


class Placed(Protocol):
    @property
    def message_id(self) -> str: ...

    @property
    def in_reply_to(self) -> str: ...


P = TypeVar("P", bound=Placed)
DEPTH_MAX = 12


class _Sets:
    """Union-find over Message-IDs."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        root = self.parent.setdefault(item, item)
        while root != self.parent[root]:
            root = self.parent[root]
        while item != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def join(self, one: str, other: str) -> None:
        first, second = self.find(one), self.find(other)
        if first != second:
            self.parent[second] = first


def thread_keys(messages: Iterable[Threaded], known: Mapping[str, str]) -> dict[str, str]:
    """Message-ID → thread key for each of `messages` (in file order). `known`: Message-ID →
    thread key of the posts the archive already has among those named."""
    sets, order = _Sets(), []
    for message in messages:
        order.append(message)
        sets.find(message.message_id)
        for reference in message.references:
            sets.join(message.message_id, reference)
    keys: dict[str, str] = {}
    for message_id, key in sorted(known.items(), key=lambda item: item[1]):
        keys.setdefault(sets.find(message_id), key)  # the smallest key of a thread kept
    for message in order:  # a new thread: its first message without references, or ...
        if not message.references:
            keys.setdefault(sets.find(message.message_id), message.message_id)
    for message in order:  # ... the oldest message its first message names
        root = sets.find(message.message_id)
        if root not in keys:
            keys[root] = message.references[0]
    return {message.message_id: keys[sets.find(message.message_id)] for message in order}


def thread_order(posts: Sequence[P]) -> list[tuple[P, int]]:
    """(post, depth) in reading order; `posts` in date order."""
    present = {post.message_id for post in posts}
    children: dict[str, list[P]] = {}
    tops: list[P] = []
    for post in posts:
        parent = post.in_reply_to
        if parent and parent in present and parent != post.message_id:
            children.setdefault(parent, []).append(post)
        else:
            tops.append(post)
    placed: list[tuple[P, int]] = []
    seen: set[str] = set()
    for top in [*tops, *posts]:  # then any a loop of replies left out
        if top.message_id in seen:
            continue
        stack = [(top, 0)]
        while stack:
            post, depth = stack.pop()
            if post.message_id in seen:
                continue
            seen.add(post.message_id)
            placed.append((post, min(depth, DEPTH_MAX)))
            replies = children.get(post.message_id, [])
            stack.extend((reply, depth + 1) for reply in reversed(replies))
    return placed
