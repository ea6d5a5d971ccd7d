"""A case: participants, vulnerabilities, per-organisation statuses, posts and attachments."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from typing_extensions import override

from lockstep.channels.models import Channel
from lockstep.orgs.models import Organization
from lockstep.projects.models import Project


class Route(models.TextChoices):
    DIRECT_RELEASE = "direct-release", "Direct release (no embargo)"
    PRIVATE_COORDINATION = "private-coordination", "Private coordination under embargo"
    PUBLIC_LIST = "public-list", "Public list now (no embargo)"


class CaseState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Case(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=200)
    route = models.CharField(max_length=32, choices=Route.choices)
    route_reasons = models.JSONField(default=list)
    route_overridden = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="cases", null=True, blank=True
    )
    # The proposed public disclosure date-time (CRD), UTC; and when the embargo clock started.
    disclosure_at = models.DateTimeField(null=True, blank=True)
    embargo_started_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=CaseState.choices, default=CaseState.OPEN)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at",)

    @override
    def __str__(self) -> str:
        return f"case {self.pk}: {self.title}"


class ParticipantRole(models.TextChoices):
    UPSTREAM = "upstream", "Upstream"
    VENDOR = "vendor", "Vendor"
    COORDINATOR = "coordinator", "Coordinator"


class Participant(models.Model):
    """An organisation in the case. Its members see the case; nobody else does."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="case_seats")
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    added_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    first_seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("role", "org__name")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["case", "org"], name="cases_participant_unique"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.org_id} in case {self.case_id} as {self.role}"


class Vulnerability(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="vulnerabilities")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cwe = models.CharField(max_length=16, blank=True)
    cvss3_vector = models.CharField(max_length=200, blank=True)
    cvss3_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss4_vector = models.CharField(max_length=300, blank=True)
    cvss4_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    affected = models.JSONField(default=list)
    references = models.JSONField(default=list)
    credits = models.JSONField(default=list)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("id",)

    @override
    def __str__(self) -> str:
        return self.title


class Status(models.TextChoices):
    AFFECTED = "affected", "Affected"
    NOT_AFFECTED = "not_affected", "Not affected"
    FIX_READY = "fix_ready", "Fix ready"
    PUBLISHED = "published", "Published"


class VendorStatus(models.Model):
    """What one organisation says about one vulnerability. No row means "no response yet"."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="statuses")
    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.CASCADE, related_name="statuses"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    statement = models.TextField(blank=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["participant", "vulnerability"], name="cases_status_unique"
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.participant_id}/{self.vulnerability_id}: {self.status}"


class Post(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_label = models.CharField(max_length=254)
    author_org = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("created_at", "id")

    @override
    def __str__(self) -> str:
        return f"post {self.pk} in case {self.case_id}"


class StoredFile(models.Model):
    """A file kept in the database with its case or report: moved and deleted with it."""

    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        abstract = True

    @override
    def __str__(self) -> str:
        return self.filename


class Attachment(StoredFile):
    """A file in a case (a patch, a proof of concept)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="attachments", null=True, blank=True
    )

    class Meta:
        ordering = ("id",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(size__gte=0), name="cases_attachment_size"),
        ]
