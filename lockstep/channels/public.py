"""Posting to a public list: the post joins the public archive and is relayed, in clear text
signed by the list key, to the list's outside addresses (e.g. the real oss-security list)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction

from lockstep.audit.record import record
from lockstep.audit.tags import ChannelTag
from lockstep.channels.archive import index_entry
from lockstep.channels.emails import relayed_post
from lockstep.channels.models import (
    ArchiveKind,
    Channel,
    ChannelKind,
    ChannelMember,
    PublicPost,
)
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import PermissionDenied, ValidationError
from lockstep.core.links import public_post_path, public_post_url
from lockstep.mailgw.outbound.outbox import UNVERIFIED_NOTE, Recipient, fan_out
from lockstep.orgs.models import Organization
from lockstep.orgs.queries import org_ids_of

SUBJECT_MAX = 300
BODY_MAX = 200_000


def may_post_public(actor: Actor, channel: Channel) -> bool:
    """Operators, the operating organisation and the list's member organisations."""
    if channel.kind != ChannelKind.PUBLIC:
        return False
    if actor.is_privileged:
        return True
    orgs = set(org_ids_of(actor))
    if channel.operated_by_id in orgs:
        return True
    return ChannelMember.objects.filter(channel=channel, org_id__in=orgs).exists()


def public_url(post: PublicPost) -> str:
    return public_post_url(post.channel.slug, post.pk)


def _check(actor: Actor, channel: Channel, subject: str, text: str) -> None:
    if not may_post_public(actor, channel):
        raise PermissionDenied(f"You cannot post to {channel.name}.")
    if not subject or not text:
        raise ValidationError("A public post needs a subject and a text.", field="body")
    if len(subject) > SUBJECT_MAX or len(text) > BODY_MAX:
        raise ValidationError("The subject or the text is too long.", field="body")


def sender_label(actor: Actor) -> str:
    """Who a post is from: a person's label, or for Lockstep's own posts (advisories) the
    publisher's name, never an internal label such as "system:publication"."""
    return (settings.LOCKSTEP_PUBLISHER_NAME if actor.is_system else actor.label)[:200]


def _archive(channel: Channel, post: PublicPost, text: str) -> None:
    """The post's entry in the archive's search and feeds (`text`: as relayed)."""
    index_entry(
        kind=ArchiveKind.POST,
        ref=str(post.pk),
        title=post.subject,
        url=public_post_path(channel.slug, post.pk),
        text=text,
        published_at=post.created_at,
        author=post.sender,
    )


@transaction.atomic
def do_post_public(  # noqa: PLR0913 - a post's facts, each named
    channel: Channel,
    *,
    subject: str,
    body: str,
    actor: Actor,
    author_org: Organization | None = None,
    unverified_sender: bool = False,
) -> PublicPost:
    """Publish: archive, then queue one signed clear-text copy per relay address.

    `unverified_sender`: mail that no signature on file proves (a list that accepts unsigned
    mail); the archived post and every relayed copy say so."""
    subject, text = " ".join(subject.split()), body.strip()
    _check(actor, channel, subject, text)
    message_id = f"<public-{secrets.token_hex(12)}@{settings.LOCKSTEP_MAIL_DOMAIN}>"
    post = PublicPost.objects.create(
        channel=channel,
        subject=subject,
        body=text,
        author_label=sender_label(actor),
        author_org=author_org,
        unverified_sender=unverified_sender,
        message_id=message_id,
        thread_key=message_id,  # a post written here starts a thread
        created_at=clock.now(),
    )
    if unverified_sender:  # the feed, the search results and every relayed copy say so
        text = f"{UNVERIFIED_NOTE}\n\n{text}"
    _archive(channel, post, text)
    fan_out(relayed_post(channel, post, text=text), [Recipient(r) for r in channel.relay_to])
    record(
        ChannelTag.PUBLIC_POSTED,
        actor=actor,
        object_type="channel",
        object_id=channel.pk,
        data={
            "post": post.pk,
            "subject": subject,
            "relayed_to": list(channel.relay_to),
            "unverified_sender": unverified_sender,
        },
    )
    return post
