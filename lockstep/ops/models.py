"""Operational state, not domain state: not audited (a heartbeat is not a change of record)."""

from __future__ import annotations

from django.db import models
from typing_extensions import override


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True)

    @override
    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.hostname}"
