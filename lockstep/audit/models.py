"""Audit rows and the chain head. Rows are only ever inserted, by `audit.record.record`."""

from __future__ import annotations

from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from typing_extensions import override


class AuditEvent(models.Model):
    """One state change. `hash` covers every other field and the previous row's hash."""

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16)
    actor_label = models.CharField(max_length=254)
    # A plain integer, not a foreign key: the log outlives and never follows its subjects.
    actor_user_id = models.BigIntegerField(null=True)
    tag = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    org_id = models.BigIntegerField(null=True, db_index=True)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ("seq",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"#{self.seq} {self.tag} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """A single row: the last sequence number and hash. Appenders lock it to serialise.

    It also lets `verify` notice rows cut from the end of the log, which a chain alone
    cannot show.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    @override
    def __str__(self) -> str:
        return f"audit head at #{self.last_seq}"
