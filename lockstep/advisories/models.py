"""Published advisories: the public archive. A row exists only once its case is public.

Publication writes everything at once, in one transaction: the frozen snapshot, every export
rendered from it, the public post text and the rows the archive searches and filters by.
Readers still filter on `published_at <= now` (see queries), so a row written ahead of its
time by any future path would stay invisible.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from typing_extensions import override

from lockstep.cases.models import Case
from lockstep.channels.models import PublicPost


class Advisory(models.Model):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="advisory")
    public_id = models.CharField(max_length=32, unique=True)  # LOCKSTEP-2026-0001
    title = models.CharField(max_length=300)
    summary = models.TextField()
    project_name = models.CharField(max_length=200)
    published_at = models.DateTimeField(db_index=True)
    modified_at = models.DateTimeField()
    embargo_broken = models.BooleanField(default=False)
    snapshot = models.JSONField()
    osv = models.JSONField()  # list of OSV documents, one per vulnerability
    csaf = models.JSONField()
    cve_records = models.JSONField(default=dict)  # CVE ID -> CVE JSON 5 record
    post_subject = models.CharField(max_length=300)
    post_body = models.TextField()
    changelog = models.TextField()
    announcement = models.TextField()
    # All the text a search should find, in one column (indexed by the database's full-text
    # engine: a GIN index on PostgreSQL, an FTS5 table on SQLite; see migrations).
    search_text = models.TextField()
    # The public-list post: by the reporter (who confirms) or by Lockstep.
    public_post = models.ForeignKey(
        PublicPost, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reporter_post_due_at = models.DateTimeField(null=True, blank=True)
    reporter_posted_url = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering = ("-published_at", "-id")

    @override
    def __str__(self) -> str:
        return f"{self.public_id}: {self.title}"


class AdvisoryAlias(models.Model):
    """A CVE ID (or other alias) of a published advisory: per-CVE URLs look it up here."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=64, db_index=True)
    position = models.PositiveIntegerField()  # which vulnerability of the advisory (0-based)

    class Meta:
        ordering = ("advisory_id", "position")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["advisory", "alias"], name="advisories_alias_unique"),
        ]

    @override
    def __str__(self) -> str:
        return self.alias


class AdvisoryPackage(models.Model):
    """A package an advisory affects, by canonical versionless purl: the OSV query's index."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="packages")
    purl = models.CharField(max_length=512, db_index=True)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ("advisory_id", "position", "purl")

    @override
    def __str__(self) -> str:
        return self.purl


class AdvisorySequence(models.Model):
    """The last advisory number given out per year (locked while the next one is taken)."""

    year = models.PositiveIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    @override
    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
