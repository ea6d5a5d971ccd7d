"""Channels and their member organisations."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from typing_extensions import override

from lockstep.orgs.models import Organization

SYSTEM_LABEL_PREFIX = "system:"  # core.actor.Actor.system's audit labels


class ChannelKind(models.TextChoices):
    PRIVATE = "private", "Private list (embargoed)"
    PUBLIC = "public", "Public list"


class Channel(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    description = models.TextField(blank=True)
    post_address = models.EmailField(blank=True)
    subject_tag = models.CharField(max_length=32, blank=True)
    # Mail policy: may members without a key who asked for it get embargoed mail in clear?
    allows_plain_mail = models.BooleanField(default=False)
    # Members' mail without a valid signature is posted (marked "sender not verified") rather
    # than held; set by the list's coordinators, audited.
    accepts_unsigned_mail = models.BooleanField(default=False)
    # A public list's posts are relayed to these addresses (e.g. the real oss-security list).
    relay_to = models.JSONField(default=list, blank=True)
    operated_by = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="operated_channels", null=True
    )
    # Embargo policy: set for private lists only.
    max_embargo_days = models.PositiveIntegerField(null=True)
    preferred_embargo_days = models.PositiveIntegerField(null=True)
    min_embargo_hours = models.PositiveIntegerField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("name",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="private",
                        max_embargo_days__gt=0,
                        preferred_embargo_days__gt=0,
                        preferred_embargo_days__lte=F("max_embargo_days"),
                        min_embargo_hours__isnull=False,
                    )
                    | Q(
                        kind="public",
                        max_embargo_days__isnull=True,
                        preferred_embargo_days__isnull=True,
                        min_embargo_hours__isnull=True,
                    )
                ),
                name="channels_policy_matches_kind",
            ),
        ]

    @override
    def __str__(self) -> str:
        return self.name

    @property
    def is_private(self) -> bool:
        return self.kind == ChannelKind.PRIVATE


class ChannelMember(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="members")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="channel_seats")
    joined_at = models.DateTimeField()

    class Meta:
        ordering = ("channel_id", "org__name")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["channel", "org"], name="channels_member_unique"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.org_id} on {self.channel_id}"


class PublicPost(models.Model):
    """A post on a public list: the public archive. Everything here is public by definition."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="public_posts")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    author_label = models.CharField(max_length=200)
    author_org = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message_id = models.CharField(max_length=250, unique=True)
    # Threading, as mail has it: the Message-ID this post answers (In-Reply-To, else the last
    # of References), and the key every post of its thread shares (the first post's
    # Message-ID as far as the archive knows it). A post written here starts its own thread.
    in_reply_to = models.CharField(max_length=250, blank=True)
    thread_key = models.CharField(max_length=250, blank=True)
    author_address = models.CharField(max_length=254, blank=True)  # imported mail's From
    imported = models.BooleanField(default=False)  # from a list's earlier archive (an mbox)
    unverified_sender = models.BooleanField(default=False)  # see cases.Post
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["channel", "thread_key", "created_at"], name="channels_post_thread"
            ),
            models.Index(fields=["channel", "created_at"], name="channels_post_newest"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.channel.slug}: {self.subject}"

    @property
    def sender(self) -> str:
        """Who the archive names. Lockstep's own posts (advisories) carry the publisher's name;
        posts archived before that was so kept an internal label such as system:publication."""
        if self.author_label.startswith(SYSTEM_LABEL_PREFIX):
            return str(settings.LOCKSTEP_PUBLISHER_NAME)
        return self.author_label


class ArchiveKind(models.TextChoices):
    POST = "post", "Public post"
    ADVISORY = "advisory", "Advisory"


class ArchiveEntry(models.Model):
    """One public item (a list post or an advisory) as the archive's search and feeds see it.

    Written in the same transaction as the item. The full-text index over `title`, `text` and
    `author` is the database's own: an FTS5 table kept by `channels.archive` on SQLite, a GIN
    index over a stored, weighted `tsvector` column on PostgreSQL (this app's migrations).
    """

    kind = models.CharField(max_length=16, choices=ArchiveKind.choices)
    ref = models.CharField(max_length=64)  # the post's id or the advisory's public id
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=300)  # path on this site
    text = models.TextField()
    author = models.CharField(max_length=300, blank=True)  # a post's sender (searched by f:)
    published_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-published_at", "-id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["kind", "ref"], name="channels_archive_unique"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"
