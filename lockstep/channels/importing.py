"""Importing a list's earlier archive (an mbox) into its public archive: `do_import_mbox`.

A distros/oss-security style list that moves onto Lockstep brings its history: every message
becomes a public post of the list (marked as imported), in its thread, with its date and its
sender, and an entry of the archive's search. Nothing is sent: imported mail is not relayed.

Two passes over the file. The first reads only headers (and writes nothing): which messages
the archive already has (the import is idempotent on Message-ID: a second run imports none),
which repeat within the file, and the thread of every message (`threads.thread_keys`, with
the threads the archive already holds). The second reads the messages to import and writes
them in batches of BATCH, each batch one transaction: a live instance's other writers (mail,
the web) get their turn between batches. The one audit event of the import is written with
the first batch, before any of its posts is committed, and says what the import is adding
(the file's SHA-256 and size, and the counts); a run stopped part-way is finished by running
it again. Afterwards the full-text index is merged (`archive.optimize_index`).

Only an operator (or Lockstep itself: the command line) imports, and only into a public list:
an embargoed list's mail is never put into a public archive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection, transaction

from lockstep.audit.record import record
from lockstep.audit.tags import ChannelTag
from lockstep.channels.archive import index_entries, optimize_index
from lockstep.channels.mbox import (
    Envelope,
    Mail,
    MboxError,
    envelope,
    mail,
    messages,
    open_mbox,
)
from lockstep.channels.models import ArchiveEntry, ArchiveKind, Channel, ChannelKind, PublicPost
from lockstep.channels.threads import thread_keys
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import PermissionDenied, ValidationError
from lockstep.core.links import public_post_path

BATCH = 1000
READ_PROGRESS_EVERY = 1000  # messages between two reports of the first pass
LOOKUP_CHUNK = 500
OPTIMIZE_FROM = 1000  # imports smaller than this leave the index's merging to FTS5 itself
FUTURE_SLACK = timedelta(days=1)  # a Date: further ahead than this is a wrong clock

# (stage, done, total): stage "reading" counts bytes of the file, "importing" messages.
Progress = Callable[[str, int, int], None]


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return


@dataclass
class Plan:
    """What the first pass found (nothing written)."""

    path: Path
    size: int
    sha256: str
    messages: int = 0
    wanted: dict[int, Envelope] = field(default_factory=dict)  # position in file → envelope
    keys: dict[str, str] = field(default_factory=dict)  # Message-ID → thread key
    already_archived: int = 0  # in this list's archive
    in_other_lists: int = 0  # Message-IDs are unique across lists
    repeated: int = 0  # the same Message-ID again in the file


@dataclass
class Summary:
    plan: Plan
    imported: int = 0
    attachments: int = 0  # parts left out (each named in its post)
    from_html: int = 0  # messages whose text was read from their HTML
    undated: int = 0  # no date, or one in the future: the time of the import
    first: datetime | None = None
    last: datetime | None = None

    def text(self) -> str:
        plan = self.plan
        lines = [
            (
                f"{plan.messages} messages in {plan.path.name}: {self.imported} imported, "
                f"{plan.already_archived} already in the archive, {plan.in_other_lists} in "
                f"another list's archive, {plan.repeated} repeated in the file"
            ),
        ]
        if self.first and self.last:
            lines.append(f"dates {self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}")
        lines.append(
            f"{self.attachments} attachments left out (named in their posts), "
            f"{self.from_html} texts read from HTML, {self.undated} undated (import time used)"
        )
        return "\n".join(lines) + "\n"


def _check(channel: Channel, actor: Actor) -> None:
    if not actor.is_privileged:
        raise PermissionDenied("Only an operator can import a list's archive.")
    if channel.kind != ChannelKind.PUBLIC:
        msg = (
            f"{channel.name} is a private list: its mail is embargoed and is never imported "
            "into a public archive."
        )
        raise ValidationError(msg, field="list")


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _existing(ids: list[str]) -> Iterator[tuple[str, int, str]]:
    """(Message-ID, list, thread key) of the posts among `ids`, in any list."""
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        found = PublicPost.objects.filter(message_id__in=chunk)
        yield from found.values_list("message_id", "channel_id", "thread_key")


def plan_import(channel: Channel, path: Path, *, progress: Progress = _no_progress) -> Plan:
    """The first pass: headers only, nothing written. MboxError if the file is no mbox."""
    plan = Plan(path=path, size=path.stat().st_size if path.exists() else 0, sha256="")
    envelopes: list[Envelope] = []
    done = 0
    with open_mbox(path) as stream:
        for raw in messages(stream):
            envelopes.append(envelope(raw))
            done += len(raw.separator) + len(raw.data) + 1
            if len(envelopes) % READ_PROGRESS_EVERY == 0:
                progress("reading", min(done, plan.size), plan.size)
    progress("reading", plan.size, plan.size)
    if not envelopes:
        raise MboxError(f"{path.name} holds no messages")
    plan.sha256, plan.messages = _sha256(path), len(envelopes)
    named = {e.message_id for e in envelopes} | {r for e in envelopes for r in e.references}
    known, taken = {}, set()
    for message_id, list_id, key in _existing(sorted(named)):
        if list_id == channel.pk:
            known[message_id] = key or message_id
        taken.add(message_id)
    plan.keys = thread_keys(envelopes, known)
    seen: set[str] = set()
    for position, item in enumerate(envelopes):
        if item.message_id in seen:
            plan.repeated += 1
        elif item.message_id in known:
            plan.already_archived += 1
        elif item.message_id in taken:
            plan.in_other_lists += 1
        else:
            plan.wanted[position] = item
        seen.add(item.message_id)
    return plan


def _audit(channel: Channel, plan: Plan, *, actor: Actor) -> None:
    record(
        ChannelTag.ARCHIVE_IMPORTED,
        actor=actor,
        object_type="channel",
        object_id=channel.pk,
        data={
            "file": plan.path.name,
            "bytes": plan.size,
            "sha256": plan.sha256,
            "messages": plan.messages,
            "importing": len(plan.wanted),
            "already_archived": plan.already_archived,
            "in_other_lists": plan.in_other_lists,
            "repeated": plan.repeated,
        },
    )


def _post(channel: Channel, item: Mail, summary: Summary, *, now: datetime) -> PublicPost:
    when = item.date
    if when is None or when > now + FUTURE_SLACK:
        when, summary.undated = now, summary.undated + 1
    summary.first = min(summary.first or when, when)
    summary.last = max(summary.last or when, when)
    summary.attachments += len(item.attachments)
    summary.from_html += item.from_html
    own = item.envelope.message_id
    return PublicPost(
        channel=channel,
        subject=item.subject,
        body=item.text,
        author_label=item.sender_name,
        author_address=item.sender_address,
        message_id=own,
        in_reply_to=item.envelope.in_reply_to,
        thread_key=summary.plan.keys.get(own, own),
        imported=True,
        created_at=when,
    )


def _entry(channel: Channel, post: PublicPost) -> ArchiveEntry:
    sender = f"{post.author_label} <{post.author_address}>" if post.author_address else ""
    return ArchiveEntry(
        kind=ArchiveKind.POST,
        ref=str(post.pk),
        title=post.subject,
        url=public_post_path(channel.slug, post.pk),
        text=post.body,
        author=(sender or post.author_label)[:300],
        published_at=post.created_at,
    )


@transaction.atomic(durable=True)
def _write_batch(
    channel: Channel, posts: list[PublicPost], *, audit: Plan | None, actor: Actor
) -> None:
    if audit is not None:
        _audit(channel, audit, actor=actor)
    created = PublicPost.objects.bulk_create(posts)
    index_entries([_entry(channel, post) for post in created])


def do_import_mbox(
    channel: Channel, path: Path, *, actor: Actor, progress: Progress = _no_progress
) -> Summary:
    """Import the mbox at `path` into `channel`'s public archive (see the module's text).
    MboxError if the file is not an mbox; nothing is written then."""
    _check(channel, actor)
    summary = Summary(plan=plan_import(channel, path, progress=progress))
    if summary.plan.wanted:
        _import(channel, summary, actor=actor, progress=progress)
    if summary.imported >= OPTIMIZE_FROM and not connection.in_atomic_block:
        optimize_index()
    return summary


def _import(channel: Channel, summary: Summary, *, actor: Actor, progress: Progress) -> None:
    """The second pass: the messages the plan wants, in batches."""
    plan, now, batch = summary.plan, clock.now(), list[PublicPost]()
    with open_mbox(plan.path) as stream:
        for position, raw in enumerate(messages(stream)):
            if position in plan.wanted:
                batch.append(_post(channel, mail(raw), summary, now=now))
            if len(batch) == BATCH:
                _flush(channel, batch, summary, actor=actor, progress=progress)
                batch = []
    if batch:
        _flush(channel, batch, summary, actor=actor, progress=progress)


def _flush(
    channel: Channel,
    batch: list[PublicPost],
    summary: Summary,
    *,
    actor: Actor,
    progress: Progress,
) -> None:
    first = summary.imported == 0  # the import's audit event goes with its first posts
    _write_batch(channel, batch, audit=summary.plan if first else None, actor=actor)
    summary.imported += len(batch)
    progress("importing", summary.imported, len(summary.plan.wanted))
