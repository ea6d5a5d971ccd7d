"""The outbox (one row per recipient copy, written in the transaction that caused it) and
the inbox (every received message, raw, before it is read)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from typing_extensions import override


class Protection(models.TextChoices):
    PGP = "pgp", "Signed and encrypted to the recipient's key"
    NOTICE = "notice", "Content-free notice (log in to read)"
    PLAIN = "plain", "Plain text"
    SIGNED = "signed", "Plain text, signed by the list key"


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
    # The heartbeat id of the worker that claimed the copy ("" outside a worker): when that
    # worker stops beating, a live one releases the claim (ops.recovery).
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    last_error = models.TextField(blank=True)
    # The current run of failed attempts: when it began and when the last one failed (both
    # cleared when the copy is sent). /healthz and /metrics judge the relay by them.
    first_failed_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ("id",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "next_attempt_at"], name="mailgw_outbox_due_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.protection} copy to {self.to_address} ({self.status})"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received, waiting to be processed"
    ACCEPTED = "accepted", "Accepted"
    HELD = "held", "Held for a coordinator"
    REJECTED = "rejected", "Rejected"
    DISCARDED = "discarded", "Discarded"


class InboundMessage(models.Model):
    """Every message the SMTP server takes, stored raw before anything reads it."""

    received_at = models.DateTimeField(db_index=True)
    peer = models.CharField(max_length=100, blank=True)
    mail_from = models.CharField(max_length=320, blank=True)  # the envelope sender
    rcpt_to = models.JSONField(default=list)
    raw = models.BinaryField()
    # A message to several recipients is one row per recipient (each is decided on its own);
    # the raw bytes are stored once, in the first row, which the others point at.
    raw_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Read from the headers when stored (best effort, for lists and loops).
    message_id = models.CharField(max_length=250, blank=True)
    from_header = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=16, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    rule = models.CharField(max_length=40, blank=True)  # the rule that decided, if any
    reason = models.TextField(blank=True)
    # What the pipeline found: encrypted to the list key, the sender's signature.
    encrypted = models.BooleanField(default=False)
    signature = models.CharField(max_length=16, blank=True)
    signer = models.CharField(max_length=64, blank=True)
    # Where it went: a report, a post in a case (ids only: mailgw sits below those apps).
    route = models.CharField(max_length=16, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    report_id = models.BigIntegerField(null=True, blank=True)
    # The project a report address names: its maintainers see the message if it is held.
    project_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    post_id = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "received_at"], name="mailgw_inbound_status_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"mail from {self.mail_from or '<>'} ({self.status})"

    def raw_bytes(self) -> bytes:
        """The message as received (stored once for all its recipients)."""
        source = self.raw_from if self.raw_from_id is not None else self
        return bytes(source.raw) if source is not None else b""
