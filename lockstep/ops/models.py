"""Operational state, not domain state: not audited (a heartbeat is not a change of record)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from typing_extensions import override


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True)
    # Database outages as the worker saw them (written by the first beat it can write):
    # since when it has been waiting for the database, and the last outage it rode out.
    waiting_since = models.DateTimeField(null=True)
    last_outage_started_at = models.DateTimeField(null=True)
    last_outage_ended_at = models.DateTimeField(null=True)

    @override
    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.hostname}"


class RateLimitBucket(models.Model):
    """How many times `key` was used in the fixed window that starts at `window_start`."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["key", "window_start"], name="ops_ratelimit_key_window"
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start.isoformat()}: {self.count}"
