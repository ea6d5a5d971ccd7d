"""What every answer depends on: the database and space on the data folder's disk.

Two questions, asked from two places. `/healthz` and `/metrics` ask how much space is left
(`disk_status`). The error handlers of the API and the web pages ask, of an exception that
ended a request, whether it means one of these resources is missing (`shortage_of`): the
database cannot be reached (503, try again soon) or a disk is full (507, an operator must
make room). Anything else is a bug and stays a 500.
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError

# SQLSTATE class 53 "insufficient resources": disk_full (PostgreSQL's own disk).
PG_DISK_FULL = "53100"
SQLITE_FULL = "database or disk is full"  # SQLITE_FULL's message, as sqlite3 words it
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class Shortage(StrEnum):
    DATABASE = "database"  # unreachable, or not answering in time
    DISK = "disk"  # no space left (the data folder's, or the database server's)


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return True
    if isinstance(exc, OperationalError):
        cause = exc.__cause__
        if getattr(cause, "sqlstate", None) == PG_DISK_FULL:
            return True
        return SQLITE_FULL in str(exc).lower()
    return False


def shortage_of(exc: BaseException) -> Shortage | None:
    """Which missing resource `exc` stands for, if any.

    Django wraps the driver's errors: a connection refused, dropped or timed out, and a lock
    not granted in time, are `OperationalError` or `InterfaceError`; SQLite's full database
    is an `OperationalError` too, told apart by its message, and PostgreSQL's by SQLSTATE.
    """
    if _is_disk_full(exc):
        return Shortage.DISK
    if isinstance(exc, OperationalError | InterfaceError):
        return Shortage.DATABASE
    return None


def disk_status(folder: Path | None = None) -> dict[str, Any]:
    """Free space on the disk that holds the data folder (the SQLite database, attachments,
    the outbox folder, the list key): "low" under `LOCKSTEP_DISK_LOW_PERCENT` of the disk or
    under `LOCKSTEP_DISK_LOW_BYTES`, whichever comes first; "unknown" if it cannot be read.
    The folder's path is not shown: `/healthz` is public."""
    try:
        usage = shutil.disk_usage(folder or Path(settings.DATA_DIR))
    except OSError as exc:
        return {"status": "unknown", "error": exc.strerror or type(exc).__name__}
    percent = round(100 * usage.free / usage.total, 1) if usage.total else 0.0
    low = (
        percent < settings.LOCKSTEP_DISK_LOW_PERCENT
        or usage.free < settings.LOCKSTEP_DISK_LOW_BYTES
    )
    return {
        "status": "low" if low else "ok",
        "free_bytes": usage.free,
        "total_bytes": usage.total,
        "free_percent": percent,
    }


@dataclass(frozen=True)
class ShortageAnswer:
    """What the API (in its JSON error shape) and the pages answer for a shortage. The
    message never names a host, a port, a path or the driver's words: those go to the log."""

    status: int
    code: str
    message: str
    retry_after: int  # seconds, for the Retry-After header


ANSWERS = {
    Shortage.DATABASE: ShortageAnswer(
        503,
        "unavailable",
        "The service cannot reach its database at the moment. Try again in a little while.",
        30,
    ),
    Shortage.DISK: ShortageAnswer(
        507,
        "insufficient_storage",
        "The server has run out of storage space. Try again later.",
        300,
    ),
}
