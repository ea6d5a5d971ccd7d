"""How late publication happens, for /metrics.

A case under embargo is published at its disclosure date by a task (`tasks.publish_at_date`),
or by the sweep when no worker ran then (`tasks.catch_up`). Two numbers tell whether that
works: how long after its date the last such case was published (`Case.published_at` minus
`Case.disclosure_at`, set once by `actions.publication.publish_locked`), and which cases are past
their date and still not public. A broken embargo is published early on purpose and is not
counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min

from lockstep.cases.models import Case, EndReason
from lockstep.embargo.routing import Route


@dataclass(frozen=True)
class PublicationLag:
    last_lag_seconds: float | None  # the most recent publication at a date (None: none yet)
    overdue: int  # cases past their date, not published
    oldest_overdue_seconds: float | None  # how long past its date the oldest of those is


def publication_lag(now: datetime) -> PublicationLag:
    dated = Case.objects.filter(route=Route.PRIVATE_COORDINATION, disclosure_at__isnull=False)
    last = (
        dated.filter(published_at__isnull=False, end_reason=EndReason.DATE)
        .order_by("-published_at")
        .only("published_at", "disclosure_at")
        .first()
    )
    overdue = dated.filter(published_at__isnull=True, disclosure_at__lte=now).aggregate(
        n=Count("id"), oldest=Min("disclosure_at")
    )
    oldest = overdue["oldest"]
    lag = None
    if last and last.published_at and last.disclosure_at:
        lag = max((last.published_at - last.disclosure_at).total_seconds(), 0.0)
    return PublicationLag(
        last_lag_seconds=lag,
        overdue=overdue["n"],
        oldest_overdue_seconds=(now - oldest).total_seconds() if oldest else None,
    )
