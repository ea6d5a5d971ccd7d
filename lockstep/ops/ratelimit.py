"""Fixed-window rate limits kept in the database, so every web process shares them.

`check_rate(key, limit=10, window_seconds=3600, now=now)` counts one use of `key` in the
window that contains `now` and raises `RateLimited` once the count passes `limit`.

How the count stays exact with many processes: one statement,

    INSERT INTO bucket (key, window_start, count) VALUES (%s, %s, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = bucket.count + 1
    RETURNING count

inserts the window's row or increments it, and hands back the new value. PostgreSQL takes the
row lock for the conflicting row inside that statement, so two processes can never both read
"9" and both write "10"; SQLite (3.35 or newer, for RETURNING) runs every writing statement
under its single database write lock. The ORM has no "increment on conflict" (its
`bulk_create(update_conflicts=True)` can only copy the new row's values), and the
alternatives cost more: `select_for_update()` needs a transaction and two or three round trips,
and `update(count=F(...) + 1)` followed by a read can see other processes' increments.

Call it at the edge (a view, an endpoint), outside the action's transaction: if it ran inside
and the action failed, the rollback would take the count back with it.

This is operational state, not a change of record, so nothing here is audited.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from django.db import connection

from lockstep.core.clock import require_aware
from lockstep.core.errors import RateLimited
from lockstep.ops.models import RateLimitBucket

# Buckets older than this are deleted; it also caps how long a window may be.
KEEP_BUCKETS = timedelta(days=1)
# check_rate prunes on this share of its calls, so no scheduled job is needed.
PRUNE_CHANCE = 0.01
MAX_KEY_LENGTH = 200


def window_start_of(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed window holding `now`; windows are aligned to the Unix epoch."""
    epoch = math.floor(require_aware(now, name="now").timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=UTC)


def _increment(key: str, window_start: datetime) -> int:
    table = connection.ops.quote_name(RateLimitBucket._meta.db_table)  # noqa: SLF001 - Django's public Options API
    key_col, start_col, count_col = (
        connection.ops.quote_name(name) for name in ("key", "window_start", "count")
    )
    sql = (
        f"INSERT INTO {table} ({key_col}, {start_col}, {count_col}) VALUES (%s, %s, 1) "  # noqa: S608 - names are quoted identifiers of our own table; values are bound
        f"ON CONFLICT ({key_col}, {start_col}) "
        f"DO UPDATE SET {count_col} = {table}.{count_col} + 1 "
        f"RETURNING {count_col}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, connection.ops.adapt_datetimefield_value(window_start)])
        row = cursor.fetchone()
    return int(row[0])


def check_rate(
    key: str,
    *,
    limit: int,
    window_seconds: int,
    now: datetime,
    prune_chance: float = PRUNE_CHANCE,
) -> None:
    """Count one use of `key`; raise `RateLimited` when this window's count exceeds `limit`.

    Refused attempts count too, so hammering a limit does not reopen it early.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        msg = f"a rate-limit key must have 1 to {MAX_KEY_LENGTH} characters"
        raise ValueError(msg)
    if not 0 < window_seconds <= KEEP_BUCKETS.total_seconds():
        msg = f"window_seconds must be between 1 and {int(KEEP_BUCKETS.total_seconds())}"
        raise ValueError(msg)
    start = window_start_of(now, window_seconds)
    count = _increment(key, start)
    if random.random() < prune_chance:  # noqa: S311 - chance of housekeeping, not security
        prune_rate_buckets(now)
    if count > limit:
        wait = math.ceil((start + timedelta(seconds=window_seconds) - now).total_seconds())
        wait = max(1, wait)
        msg = f"Too many attempts. Try again in {wait} seconds."
        raise RateLimited(msg, retry_after=wait)


def prune_rate_buckets(now: datetime) -> int:
    """Delete buckets whose window started more than a day before `now`; return how many."""
    cutoff = require_aware(now, name="now") - KEEP_BUCKETS
    deleted, _ = RateLimitBucket.objects.filter(window_start__lt=cutoff).delete()
    return deleted


def current_count(key: str, *, window_seconds: int, now: datetime) -> int:
    """How many uses `key` has in the window holding `now` (for tests and the admin)."""
    start = window_start_of(now, window_seconds)
    bucket = RateLimitBucket.objects.filter(key=key, window_start=start).first()
    return bucket.count if bucket else 0
