"""A case: participants, vulnerabilities, per-organisation statuses, posts and attachments."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from typing_extensions import override

from lockstep.channels.models import Channel
from lockstep.embargo.routing import ROUTE_CHOICES, Route
from lockstep.orgs.models import Organization
from lockstep.projects.models import Project


class EndReason(models.TextChoices):
    DATE = "date", "The disclosure date came"
    BROKEN = "broken", "The embargo was broken"


class Case(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=200)
    route = models.CharField(max_length=32, choices=ROUTE_CHOICES)
    route_reasons = models.JSONField(default=list)
    route_overridden = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="cases", null=True, blank=True
    )
    # The proposed public disclosure date-time (CRD), UTC; and when the embargo clock started.
    disclosure_at = models.DateTimeField(null=True, blank=True)
    embargo_started_at = models.DateTimeField(null=True, blank=True)
    # When the leads confirmed the current date as agreed (cleared whenever the date moves).
    disclosure_agreed_at = models.DateTimeField(null=True, blank=True)
    # When the case went public (the advisory appeared), and why: the date came, or the
    # embargo broke. Set once, by the publication action only.
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    # Who posts the full details to the public list at the date: the reporter (Lockstep
    # posts if they have not after a grace period) or Lockstep itself.
    reporter_posts = models.BooleanField(default=False)
    # The advisory's words, written by the leads before the date (empty: built from the
    # vulnerabilities), and the upstream release that fixes it (named in the changelog).
    advisory_summary = models.TextField(blank=True)
    advisory_details = models.TextField(blank=True)
    release_version = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at",)

    @override
    def __str__(self) -> str:
        return f"case {self.pk}: {self.title}"

    @property
    def is_embargoed(self) -> bool:
        """Whether the case is confidential (private coordination under embargo): the one
        test, for mail, pages and publication alike."""
        return Route(self.route).is_embargoed


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
    # Posted from mail that no signature on file proves (a list that accepts unsigned mail,
    # or held mail a lead let through): shown, and mailed, as "sender not verified".
    unverified_sender = models.BooleanField(default=False)
    # The reporter reads a case's posts on their tracking page; a post marked so is for the
    # participating organisations only (queries.list_reporter_posts leaves it out).
    participants_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)
    # When its author last edited it (None: never); the old text is in the audit trail.
    edited_at = models.DateTimeField(null=True, blank=True)

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


class RequestState(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    GRANTED = "granted", "Granted"
    PARTIALLY_GRANTED = "partially_granted", "Granted up to the policy's maximum"
    REFUSED = "refused", "Refused"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ExtensionRequest(models.Model):
    """A participant asks to move the disclosure date later, with a reason; a lead decides."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extension_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_by_org = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    current_date = models.DateTimeField()
    requested_date = models.DateTimeField()
    reason = models.TextField()
    state = models.CharField(
        max_length=20, choices=RequestState.choices, default=RequestState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    new_date = models.DateTimeField(null=True, blank=True)
    decision_reasons = models.JSONField(default=list)

    class Meta:
        ordering = ("-requested_at", "-id")

    @override
    def __str__(self) -> str:
        return f"extension {self.pk} of case {self.case_id}: {self.state}"


class EmbargoBreach(models.Model):
    """A report that the issue leaked or its fix went public; a lead confirms or dismisses."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="breaches")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reported_by_org = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reported_at = models.DateTimeField()
    evidence_url = models.URLField(max_length=2048, blank=True)
    evidence_text = models.TextField(blank=True)
    state = models.CharField(
        max_length=20, choices=RequestState.choices, default=RequestState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ("-reported_at", "-id")

    @override
    def __str__(self) -> str:
        return f"breach report {self.pk} in case {self.case_id}: {self.state}"


class EarlyReleaseOption(models.TextChoices):
    WITHOUT_FIX = "without_fix", "Release without the fix"
    SILENT_FIX = "silent_fix", "Release with the fix, no mention of security impact (discouraged)"


class EarlyRelease(models.Model):
    """The upstream must ship before the date: the option chosen and the neutral changelog."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="early_releases")
    option = models.CharField(max_length=16, choices=EarlyReleaseOption.choices)
    version = models.CharField(max_length=128)
    changelog = models.TextField()
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    chosen_at = models.DateTimeField()

    class Meta:
        ordering = ("-chosen_at", "-id")

    @override
    def __str__(self) -> str:
        return f"early release {self.version} of case {self.case_id}: {self.option}"


class DateAgreement(models.Model):
    """One organisation agrees to the case's current disclosure date."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="date_agreements")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    disclosure_at = models.DateTimeField()
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    agreed_at = models.DateTimeField()

    class Meta:
        ordering = ("agreed_at", "id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["case", "org", "disclosure_at"], name="cases_date_agreement_unique"
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.org_id} agrees to {self.disclosure_at} in case {self.case_id}"


class ReminderKind(models.TextChoices):
    T_72H = "t-72h", "72 hours before the date"
    T_24H = "t-24h", "24 hours before the date"
    T_1H = "t-1h", "1 hour before the date"
    T_0 = "t-0", "At the date"
    EXPLOITS = "exploits", "Exploits must be public within 7 days"


class Reminder(models.Model):
    """A reminder sent for one disclosure date: the unique key makes each one go out once."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    disclosure_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("sent_at", "id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["case", "kind", "disclosure_at"], name="cases_reminder_once"
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.kind} reminder for case {self.case_id}"
