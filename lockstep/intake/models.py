"""Reports as they arrive, their attachments, and the conversation with the reporter."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from typing_extensions import override

from lockstep.cases.models import Case, StoredFile
from lockstep.projects.models import Project


class ReportStatus(models.TextChoices):
    NEW = "new", "New"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    DUPLICATE = "duplicate", "Duplicate"
    SPAM = "spam", "Spam"


class Report(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reports")
    title = models.CharField(max_length=200)
    description = models.TextField()
    affected_versions = models.CharField(max_length=500, blank=True)
    proof_of_concept = models.TextField(blank=True)
    already_public = models.BooleanField(default=False)
    public_url = models.URLField(max_length=2000, blank=True)
    proposed_disclosure_at = models.DateTimeField(null=True, blank=True)
    credit_as = models.CharField(max_length=200, blank=True)
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_email = models.EmailField(blank=True)
    # The reporter's OpenPGP public key (checked, re-armoured), if they gave one: their receipt
    # and news of the report are encrypted to it.
    reporter_key = models.TextField(blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # SHA-256 of the reporter's tracking token: the token itself is shown once, never stored.
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default="new")
    decision_reason = models.TextField(blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    case = models.OneToOneField(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="report"
    )
    submitted_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # News of the report mailed to the reporter (intake/news.py): when last, when the next
    # (batched) mail is due if one is waiting, and the newest message and case post mailed.
    news_mailed_at = models.DateTimeField(null=True, blank=True)
    news_due_at = models.DateTimeField(null=True, blank=True)
    news_message_id = models.PositiveBigIntegerField(default=0)
    news_post_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ("-submitted_at",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["project", "status", "submitted_at"], name="intake_inbox_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"report {self.pk}: {self.title}"


class ReportAttachment(StoredFile):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")

    class Meta:
        ordering = ("id",)


class MessageKind(models.TextChoices):
    REPORTER = "reporter", "Reporter"
    MAINTAINER = "maintainer", "Maintainer"
    SYSTEM = "system", "Lockstep"


class ReportMessage(models.Model):
    """The conversation on the tracking page: reporter, maintainers, and Lockstep's notices."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "id")

    @override
    def __str__(self) -> str:
        return f"{self.kind} message on report {self.report_id}"
