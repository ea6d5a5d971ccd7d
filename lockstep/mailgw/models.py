"""The outbox: one row per recipient copy, written in the transaction that caused it."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from typing_extensions import override


class Protection(models.TextChoices):
    PGP = "pgp", "Signed and encrypted to the recipient's key"
    NOTICE = "notice", "Content-free notice (log in to read)"
    PLAIN = "plain", "Plain text"


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    HELD = "held", "Held for a coordinator"
    DROPPED = "dropped", "Dropped"


class OutboundMessage(models.Model):
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default="queued")
    protection = models.CharField(max_length=16, choices=Protection.choices)
    from_address = models.EmailField()
    to_address = models.EmailField()
    # The recipient's public key as it was when the copy was queued (for PGP copies).
    recipient_key = models.TextField(blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    message_id = models.CharField(max_length=250, unique=True)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "next_attempt_at"], name="mailgw_outbox_due_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.protection} copy to {self.to_address} ({self.status})"
