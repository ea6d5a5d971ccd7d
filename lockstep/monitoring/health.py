"""The whole /healthz report: the database and the workers (`ops.health`), then the data
folder's disk (`ops.resources`) and the mail (`mailgw.status`), which sit in layers that
`ops` may not read.

The status is "down" (HTTP 503) only when the database does not answer: nothing works then.
It is "degraded" (still 200) when something needs the operator but requests are served: no
live worker, the disk nearly full, or the relay failing for minutes. A probe that restarts
the web process on non-200 must not restart it for a full disk. `base_url` tells whether the
answering process was reached at `LOCKSTEP_BASE_URL` (`monitoring.reach`); it never degrades.
"""

from __future__ import annotations

from typing import Any

from lockstep.core import clock
from lockstep.core.links import base_url
from lockstep.mailgw.status import mail_status
from lockstep.monitoring import reach
from lockstep.ops import health
from lockstep.ops.resources import disk_status

OK = 200


def health_report() -> tuple[int, dict[str, Any]]:
    """(HTTP status, body)."""
    status, body = health.health_report()
    body["disk"] = disk_status()
    # Whether this process was reached at LOCKSTEP_BASE_URL (informative: never "degraded").
    body["base_url"] = reach.CHECK.status(configured=base_url())
    if status != OK:
        body["mail"] = {"status": "unknown"}
        return status, body
    body["mail"] = mail_status(clock.now())
    if body["disk"]["status"] == "low" or body["mail"]["status"] == "failing":
        body["status"] = "degraded"
    return status, body
