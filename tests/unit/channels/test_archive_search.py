"""Archive search: best matches first, newest on ties, never an entry before its time, and
the same answer whichever path the SQLite query takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockstep.channels.archive import index_entry, search
from lockstep.channels.models import ArchiveKind

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _entry(n: int, text: str, *, at: datetime) -> None:
    index_entry(
        kind=ArchiveKind.POST,
        ref=str(n),
        title=f"Post {n}",
        url=f"/lists/oss/{n}/",
        text=text,
        published_at=at,
    )


def test_ties_fill_pages_newest_first_and_the_future_stays_hidden() -> None:
    for n in range(60):  # equal ranks: the pool cannot settle the page, the full query runs
        _entry(n, "quokka overflow in the window buffer", at=NOW - timedelta(minutes=n))
    for n in range(60, 70):  # not public yet
        _entry(n, "quokka overflow in the window buffer", at=NOW + timedelta(minutes=n))
    pages = [search("quokka overflow", now=NOW, limit=20, offset=k * 20) for k in range(3)]
    titles = [e.title for page in pages for e in page.entries]
    assert titles == [f"Post {n}" for n in range(60)]
    assert [page.has_more for page in pages] == [True, True, False]


def test_relevance_first_then_syntax_is_inert() -> None:
    _entry(1, "a note that mentions quokka once", at=NOW - timedelta(days=1))
    _entry(2, "quokka quokka quokka: quokka_inflate overflows quokka buffers", at=NOW)
    _entry(3, "nothing to see", at=NOW)
    assert [e.ref for e in search("quokka", now=NOW).entries] == ["2", "1"]
    for hostile in ('"unbalanced', "NEAR(a b)", "title:quokka", "*", "quokka OR", "-", ""):
        search(hostile, now=NOW)  # no syntax error reaches the user
    assert search("   ", now=NOW).entries == []
