"""Archive search with the list-archive syntax, and its cost bound: a common word ranks only
the newest RANK_WINDOW matches, says so, and pages through them; fields, dates, a message;
nothing before its time, not even in a count. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockstep.channels import archive
from lockstep.channels.archive import index_entry, search
from lockstep.channels.models import ArchiveKind, ChannelKind
from lockstep.channels.public import do_post_public
from lockstep.core.actor import Actor
from tests.factories.world import ChannelFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _entry(
    n: int, text: str, *, title: str = "", author: str = "", at: datetime | None = None
) -> None:
    index_entry(
        kind=ArchiveKind.ADVISORY,  # refs apart from the posts' (test_dates_and_one_message)
        ref=str(n),
        title=title or f"Post {n}",
        url=f"/lists/oss/{n}/",
        text=text,
        author=author,
        published_at=at or NOW - timedelta(days=100 - n),  # later rows are newer
    )


def test_a_common_word_ranks_the_newest_window_and_pages_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archive, "RANK_WINDOW", 10)
    for n in range(30):
        _entry(n, "wombat " * (1 + n % 3) + "in the burrow")
    first = search("wombat", now=NOW, limit=4)
    assert (first.total, first.total_capped, first.has_more) == (10, True, True)
    pages = [search("wombat", now=NOW, limit=4, offset=k * 4) for k in range(3)]
    refs = [e.ref for page in pages for e in page.entries]
    assert sorted(refs, key=int) == [str(n) for n in range(20, 30)]  # the newest ten, once each
    assert [page.has_more for page in pages] == [True, True, False]
    assert [e.ref for e in first.entries] == ["29", "26", "23", "20"]  # most wombats, then newest
    rare = search("wombat burrow", now=NOW, limit=50)
    assert len(rare.entries) == 10


def test_fewer_matches_than_the_window_are_counted_exactly() -> None:
    for n in range(5):
        _entry(n, "numbat sighting")
    found = search("numbat", now=NOW)
    assert (found.total, found.total_capped, found.has_more) == (5, False, False)


def test_fields_phrases_prefixes_and_operators() -> None:
    _entry(
        1,
        "a note about the kernel",
        title="[PATCH] quokka: fix overflow",
        author="Alice Smith <a@x.test>",
    )
    _entry(2, "the quokka patch was applied, heap buffer overflow fixed", author="Bob <b@x.test>")
    _entry(3, "sanitizers found nothing in ssh", title="tls question", author="Carol <c@x.test>")
    assert [e.ref for e in search("s:quokka", now=NOW).entries] == ["1"]
    assert [e.ref for e in search("b:quokka", now=NOW).entries] == ["2"]
    assert {e.ref for e in search("quokka", now=NOW).entries} == {"1", "2"}
    assert search("quokka", now=NOW).entries[0].ref == "1"  # the subject weighs more
    assert [e.ref for e in search("f:alice", now=NOW).entries] == ["1"]
    assert [e.ref for e in search('"heap buffer overflow"', now=NOW).entries] == ["2"]
    assert [e.ref for e in search('"buffer heap overflow"', now=NOW).entries] == []
    assert [e.ref for e in search("sanit*", now=NOW).entries] == ["3"]
    assert {e.ref for e in search("(ssh OR kernel) AND note", now=NOW).entries} == {"1"}
    assert {e.ref for e in search("quokka -applied", now=NOW).entries} == {"1"}


def test_dates_and_one_message(system: Actor) -> None:
    for n in range(10):
        _entry(n, "platypus report", at=datetime(2023, 6, 1 + n * 3, 12, tzinfo=UTC))
    june = search("d:2023-06-01..2023-06-30", now=NOW, limit=50)
    assert {e.ref for e in june.entries} == {str(n) for n in range(10) if 1 + n * 3 <= 30}
    assert [e.ref for e in search("d:2023-06-04", now=NOW).entries] == ["1"]
    both = search("platypus d:2023-06-10..2023-06-16", now=NOW)
    assert {e.ref for e in both.entries} == {"3", "4", "5"}
    channel = ChannelFactory(kind=ChannelKind.PUBLIC, slug="oss")
    post = do_post_public(channel, subject="Echidna", body="spines", actor=system)
    found = search(f"m:{post.message_id}", now=NOW + timedelta(days=365 * 5))
    assert [e.title for e in found.entries] == ["Echidna"]
    assert search(f"m:{post.message_id} spines", now=NOW + timedelta(days=3650)).total == 1
    assert search("m:<nobody@nowhere>", now=NOW).entries == []


def test_nothing_before_its_time_not_even_in_a_count() -> None:
    _entry(1, "bilby advisory", at=NOW + timedelta(hours=1))
    _entry(2, "bilby notes", at=NOW - timedelta(hours=1))
    found = search("bilby", now=NOW)
    assert ([e.ref for e in found.entries], found.total) == (["2"], 1)
    assert search("advisory", now=NOW).total == 0
    assert search("d:2026-12-01", now=NOW).total == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab \"()*-:ORNDTsfmbd\\'\x00.@<>0123456789")), max_size=40
    )
)
def test_no_query_reaches_the_database_as_an_error(text: str) -> None:
    search(text, now=NOW)
    search(f"{text} d:2024-01-01..", now=NOW)
