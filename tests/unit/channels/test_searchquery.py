"""The archive's query syntax (public-inbox's): read whatever is typed, never fail, and never
hand a search engine anything but quoted words and our own operators."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from lockstep.channels.searchquery import (
    TERMS_MAX,
    Node,
    Term,
    parse,
    render_fts5,
    render_tsquery,
)


def _fts5(text: str) -> str:
    node = parse(text).text
    return "" if node is None else render_fts5(node)


def test_the_public_inbox_query_set_reads_as_meant() -> None:
    assert _fts5("overflow") == '"overflow"'
    assert _fts5("bounds check") == '("bounds") AND ("check")'
    assert _fts5('"heap buffer overflow"') == '"heap buffer overflow"'
    assert _fts5("s:PATCH") == 'title : "PATCH"'
    assert _fts5("s:SECURITY AND b:embargo") == '(title : "SECURITY") AND (text : "embargo")'
    assert _fts5("f:alice") == 'author : "alice"'
    assert _fts5("sanit*") == '"sanit" *'
    assert _fts5("(ssh OR tls) AND overflow") == '(("ssh") OR ("tls")) AND ("overflow")'
    assert _fts5("CVE-2024-54453") == '"CVE 2024 54453"'
    assert _fts5("dfn:lib/ssl.py") == 'text : "lib ssl py"'
    assert _fts5("bs:x") == '{title text} : "x"'
    dates = parse("d:2023-06-01..2023-06-30")
    assert dates.text is None
    assert (dates.since, dates.until) == (
        datetime(2023, 6, 1, tzinfo=UTC),
        datetime(2023, 7, 1, tzinfo=UTC),
    )
    message = parse("m:20230101004345.1.586ac6e6@security.test")
    assert message.message_id == "<20230101004345.1.586ac6e6@security.test>"
    assert parse("m:<a@b>").message_id == "<a@b>"


def test_negation_dates_and_oddities() -> None:
    assert _fts5("overflow -heap") == '("overflow") NOT ("heap")'
    assert _fts5("overflow NOT heap NOT stack") == '(("overflow") NOT ("heap")) NOT ("stack")'
    assert _fts5("NOT heap") == ""  # only what is not there: nothing to look for
    assert _fts5("title:quokka") == '"title quokka"'  # not a field of ours: its words
    assert _fts5("https://example.org/a") == '"https example org a"'
    assert _fts5("a OR") == '"a"'
    assert _fts5("(a b") == '("a") AND ("b")'
    assert _fts5("a) b") == '("a") AND ("b")'
    assert _fts5("(NOT) x") == '"x"'
    assert _fts5("s* x*") == '("s") AND ("x")'  # a one-letter prefix is a word
    assert _fts5('"unbalanced') == '"unbalanced"'
    assert parse("d:2024-02-03").until == datetime(2024, 2, 4, tzinfo=UTC)
    assert parse("d:20240203..").since == datetime(2024, 2, 3, tzinfo=UTC)
    assert parse("d:..2024-02-03").since is None
    assert _fts5("d:yesterday") == '"d yesterday"'
    assert _fts5("-d:2024-01-01") == ""
    assert parse(" ".join(f"w{n}" for n in range(30))).terms == TERMS_MAX
    assert parse("\x00 \x00").is_empty


def test_postgresql_gets_each_term_as_typed_with_its_field() -> None:
    node = parse("s:PATCH AND (b:lib/ssl.py OR f:alice) -sanit* bs:it's").text
    assert node is not None
    assert render_tsquery(node) == (
        "((('PATCH':A) & (('lib/ssl.py':B) | ('alice':C))) & ('it s':AB)) & ! ('sanit':*)"
    )
    assert parse("back\\slash").text == Term(words=("back", "slash"), raw="back slash")


def _terms(node: Node) -> list[Term]:
    return [node] if isinstance(node, Term) else [*_terms(node.left), *_terms(node.right)]


@given(st.text(alphabet=st.sampled_from(list("ab \"()*-:ORNDTsfmd\\'\x00.@<>")), max_size=60))
def test_anything_typed_parses_and_renders(text: str) -> None:
    node = parse(text).text
    if node is None:
        return
    for term in _terms(node):  # what goes inside the quotes cannot end them
        assert term.words
        assert all(word.replace("_", "").isalnum() for word in term.words)
        assert "'" not in term.raw
        assert "\\" not in term.raw
    assert render_fts5(node).count('"') % 2 == 0
    assert render_tsquery(node).count("'") % 2 == 0
