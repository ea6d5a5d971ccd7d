"""The public archive: every public post and advisory, searchable, newest first.

Only `index_entry` writes (called by the actions that publish, inside their transaction).
Reads filter on `published_at <= now`, so nothing shows before its time even if a row were
written early. Search uses the database's own full-text engine:

- SQLite: the FTS5 table `channels_archive_fts` (external content: the entry rows), filled
  here on insert; the user's words become quoted FTS5 phrases, so no query syntax leaks in.
- PostgreSQL: `websearch_to_tsquery` against a GIN expression index on the same
  `to_tsvector('english', title || ' ' || text)` the query uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from lockstep.channels.models import ArchiveEntry, ArchiveKind

QUERY_MAX = 200
TERMS_MAX = 12
_WORD = re.compile(r"\w+", re.UNICODE)


def index_entry(  # noqa: PLR0913 - one entry's facts, each named
    *, kind: ArchiveKind, ref: str, title: str, url: str, text: str, published_at: datetime
) -> ArchiveEntry:
    entry = ArchiveEntry.objects.create(
        kind=kind, ref=ref, title=title[:300], url=url, text=text, published_at=published_at
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO channels_archive_fts(rowid, title, text) VALUES (%s, %s, %s)",
                [entry.pk, entry.title, entry.text],
            )
    return entry


def visible(now: datetime, kind: ArchiveKind | None = None) -> QuerySet[ArchiveEntry]:
    entries = ArchiveEntry.objects.filter(published_at__lte=now)
    return entries.filter(kind=kind) if kind else entries


def _fts5_query(text: str) -> str:
    """Each whitespace-separated term becomes a quoted phrase of its words (AND-ed)."""
    phrases = []
    for term in text.split()[:TERMS_MAX]:
        words = _WORD.findall(term)
        if words:
            phrases.append('"' + " ".join(words) + '"')
    return " ".join(phrases)


@dataclass(frozen=True)
class SearchPage:
    query: str
    entries: list[ArchiveEntry]
    has_more: bool


def search(text: str, *, now: datetime, limit: int = 20, offset: int = 0) -> SearchPage:
    """Best matches first (then newest); only entries already public at `now`."""
    query = " ".join(text.split())[:QUERY_MAX]
    ids = _matching_ids(query, now=now, limit=limit + 1, offset=offset)
    found = ArchiveEntry.objects.in_bulk(ids)
    entries = [found[pk] for pk in ids if pk in found]
    return SearchPage(query=query, entries=entries[:limit], has_more=len(entries) > limit)


def _db_time(now: datetime) -> str | datetime | None:
    """`now` as the ORM would store it (SQLite compares date-times as text)."""
    value: str | datetime | None = connection.ops.adapt_datetimefield_value(now)
    return value


def _matching_ids(query: str, *, now: datetime, limit: int, offset: int) -> list[int]:
    if connection.vendor == "sqlite":
        match = _fts5_query(query)
        if not match:
            return []
        sql = (
            "SELECT e.id FROM channels_archive_fts f JOIN channels_archiveentry e "
            "ON e.id = f.rowid WHERE channels_archive_fts MATCH %s AND e.published_at <= %s "
            "ORDER BY f.rank, e.published_at DESC LIMIT %s OFFSET %s"
        )
        params: list[str | datetime | int | None] = [match, _db_time(now), limit, offset]
    else:
        if not _WORD.search(query):
            return []
        sql = (
            "SELECT id FROM channels_archiveentry, websearch_to_tsquery('english', %s) q "
            "WHERE to_tsvector('english'::regconfig, title || ' ' || text) @@ q "
            "AND published_at <= %s ORDER BY ts_rank("
            "to_tsvector('english'::regconfig, title || ' ' || text), q) DESC, "
            "published_at DESC LIMIT %s OFFSET %s"
        )
        params = [query, _db_time(now), limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
