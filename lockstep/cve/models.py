"""CVE IDs held by this instance: reserved, assigned to a vulnerability, published, rejected."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from typing_extensions import override

from lockstep.cases.models import Case, Vulnerability


class CveState(models.TextChoices):
    RESERVED = "reserved", "Reserved"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"


class CveSource(models.TextChoices):
    LOCAL = "local", "This instance's own block"
    SERVICES = "services", "CVE Services"


class CveId(models.Model):
    """One CVE ID. Rows are never deleted: a row is what keeps a block's ID from being handed
    out twice, so its case and vulnerability are set to NULL if those ever go.

    The CVE JSON 5 record is held here (`record`) until `publish_due_at`: CVE Services
    publishes at once and refuses a future `datePublic`, so Lockstep pushes it at the date.
    A push that fails is retried at `next_attempt_at`; a refusal that retrying cannot cure
    leaves `next_attempt_at` empty and the reason in `last_error` until the record is held
    again. `claimed_until` is a worker's lease while it pushes the record.
    """

    cve_id = models.CharField(max_length=32, unique=True)
    year = models.PositiveSmallIntegerField()
    # The number after the year, for allocating from a block (NULL beyond 64 bits).
    number = models.PositiveBigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=CveState.choices, default=CveState.RESERVED)
    source = models.CharField(max_length=16, choices=CveSource.choices)
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="cve_ids"
    )
    vulnerability = models.OneToOneField(
        Vulnerability, on_delete=models.SET_NULL, null=True, blank=True, related_name="cve"
    )
    reserved_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    record = models.JSONField(null=True, blank=True)
    publish_due_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("year", "number", "cve_id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # Two reservations from the local block can never take the same number.
            models.UniqueConstraint(fields=["year", "number"], name="cve_cveid_year_number"),
            models.CheckConstraint(
                condition=Q(state__in=CveState.values), name="cve_cveid_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=CveState.PUBLISHED) | Q(published_at__isnull=False),
                name="cve_cveid_published_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state=CveState.REJECTED) | Q(rejected_at__isnull=False),
                name="cve_cveid_rejected_has_time",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["state", "next_attempt_at"], name="cve_cveid_due_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.cve_id} ({self.state})"

    @property
    def held(self) -> bool:
        """A record waits here to be published."""
        return self.state == CveState.RESERVED and self.record is not None

    @property
    def needs_attention(self) -> bool:
        """The held record was refused and will not be retried until it is held again."""
        return self.held and self.next_attempt_at is None and bool(self.last_error)
