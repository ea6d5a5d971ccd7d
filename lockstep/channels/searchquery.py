"""What a search of the archive asks, read from what a person typed. Pure: no ORM, no I/O.

The syntax is the one list archives taught people (public-inbox, lore.kernel.org):

- words, all of which must appear: `heap overflow`; a phrase: `"heap buffer overflow"`;
  a prefix: `sanit*`; `AND`, `OR`, `NOT` (upper case), `-word` and parentheses;
- a field: `s:` the subject (title), `b:` the body, `f:` the sender, `bs:` subject or body;
  the diff prefixes (`dfn:`, `dfb:`, …) and `q:`/`nq:` search the body, which holds the diff;
- filters: `d:2023-06-01..2023-06-30` (either end may be left out; one date is that day),
  `m:<message-id>` (one message).

Anything else is words: `title:x` or a URL is its words, nothing in the text is ever passed
to a search engine as syntax. The parser never fails: a stray parenthesis, an unclosed quote
or a dangling operator is read as well as it can be. `render_fts5` and `render_tsquery` write
the text part for SQLite's FTS5 and PostgreSQL's `to_tsquery`, quoting every word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

QUERY_MAX = 200
TERMS_MAX = 12
PREFIX_MIN = 2  # `s*` would expand to half the index
MESSAGE_ID_MAX = 250
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<neg>-)?(?:(?P<field>[a-z]+):)?"
    r'(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s()"]+)))'
)
_OPERATORS = frozenset({"AND", "OR", "NOT"})


class Field(StrEnum):
    ANY = "any"
    SUBJECT = "subject"
    BODY = "body"
    SENDER = "sender"
    SUBJECT_OR_BODY = "subject-or-body"


FIELDS = {
    "s": Field.SUBJECT,
    "b": Field.BODY,
    "f": Field.SENDER,
    "a": Field.SENDER,
    "bs": Field.SUBJECT_OR_BODY,
    **dict.fromkeys(("dfn", "dfa", "dfb", "dfpre", "dfpost", "dfctx", "q", "nq"), Field.BODY),
}


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # a phrase when more than one
    raw: str  # the term as typed (PostgreSQL tokenises it as it tokenised the texts)
    field: Field = Field.ANY
    prefix: bool = False


@dataclass(frozen=True)
class Op:
    kind: str  # AND, OR, or NOT (binary: left and not right)
    left: Node
    right: Node


Node = Term | Op


@dataclass
class Query:
    text: Node | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    message_id: str | None = None
    terms: int = 0

    @property
    def is_empty(self) -> bool:
        return (
            self.text is None
            and self.since is None
            and self.until is None
            and (self.message_id is None)
        )


@dataclass(frozen=True)
class _Token:
    kind: str  # open, close, op, term
    value: str = ""
    field: str = ""
    negated: bool = False
    phrase: bool = False


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        if match["open"]:
            tokens.append(_Token("open"))
        elif match["close"]:
            tokens.append(_Token("close"))
        elif match["word"] in _OPERATORS and not (match["neg"] or match["field"]):
            tokens.append(_Token("op", match["word"]))
        else:
            phrase = match["phrase"] is not None
            value = match["phrase"] if phrase else match["word"]
            tokens.append(_Token("term", value, match["field"] or "", bool(match["neg"]), phrase))
    return tokens


@dataclass
class _Parser:
    tokens: list[_Token]
    query: Query = field(default_factory=Query)
    at: int = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        self.at += 1
        return self.tokens[self.at - 1]

    def top(self) -> Node | None:
        node = self.either()
        while self.peek() is not None:  # a stray ")" ends nothing: read on
            self.take()
            node = _join("AND", node, self.either())
        return node

    def either(self) -> Node | None:
        node = self.all_of()
        while (token := self.peek()) is not None and token.kind == "op" and token.value == "OR":
            self.take()
            right = self.all_of()
            node = right if node is None else node if right is None else Op("OR", node, right)
        return node

    def all_of(self) -> Node | None:
        wanted: Node | None = None
        unwanted: list[Node] = []
        while (token := self.peek()) is not None and token.kind != "close":
            if token.kind == "op" and token.value == "OR":
                break
            negate = token.kind == "op" and token.value == "NOT"
            if token.kind == "op":
                self.take()
                if not negate:
                    continue
            node, negated = self.one()
            if node is not None and (negate or negated):
                unwanted.append(node)
            elif node is not None:
                wanted = _join("AND", wanted, node)
        for node in unwanted:  # a search for what is not there alone finds nothing
            wanted = None if wanted is None else Op("NOT", wanted, node)
        return wanted

    def one(self) -> tuple[Node | None, bool]:
        ahead = self.peek()
        if ahead is None or ahead.kind == "close":  # "NOT)": the group's ")" is not ours
            return None, False
        token = self.take()
        if token.kind == "op":
            return None, False
        if token.kind == "open":
            node = self.either()
            if (closing := self.peek()) is not None and closing.kind == "close":
                self.take()
            return node, False
        return self.term(token), token.negated

    def term(self, token: _Token) -> Node | None:
        if token.field == "d" and not token.negated and _read_dates(token.value, self.query):
            return None
        if token.field == "m" and not token.negated and token.value.strip("<>"):
            self.query.message_id = f"<{token.value.strip('<>')}>"[:MESSAGE_ID_MAX]
            return None
        known = FIELDS.get(token.field)
        raw = token.value if known or not token.field else f"{token.field}:{token.value}"
        prefix = not token.phrase and raw.endswith("*")
        words = tuple(_WORD.findall(raw))
        if not words or self.query.terms >= TERMS_MAX:
            return None
        self.query.terms += 1
        prefix = prefix and len(words[-1]) >= PREFIX_MIN
        clean = raw.rstrip("*").replace("'", " ").replace("\\", " ")
        return Term(words=words, raw=clean, field=known or Field.ANY, prefix=prefix)


def _join(kind: str, left: Node | None, right: Node | None) -> Node | None:
    if left is None or right is None:
        return left or right
    return Op(kind, left, right)


def _day(text: str) -> datetime | None:
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _read_dates(value: str, query: Query) -> bool:
    """`A..B` (B's whole day included), `A..`, `..B` or one day; False if it is no date."""
    start, dots, end = value.partition("..")
    since, until = _day(start) if start else None, _day(end) if end else None
    if (start and since is None) or (end and until is None) or not (start or end):
        return False
    if not dots:
        until = since
    query.since = since
    query.until = until + timedelta(days=1) if until else None
    return True


def parse(text: str) -> Query:
    """The query in `text` (cut at QUERY_MAX characters, NULs removed)."""
    cleaned = " ".join(text.replace("\x00", " ").split())[:QUERY_MAX]
    parser = _Parser(_tokens(cleaned))
    parser.query.text = parser.top()
    return parser.query


_FTS5_COLUMNS = {
    Field.ANY: "",
    Field.SUBJECT: "title : ",
    Field.BODY: "text : ",
    Field.SENDER: "author : ",
    Field.SUBJECT_OR_BODY: "{title text} : ",
}
_FTS5_OPERATORS = {"AND": "AND", "OR": "OR", "NOT": "NOT"}


def render_fts5(node: Node) -> str:
    """FTS5 query syntax: every term a quoted phrase of its words, column filters, operators."""
    if isinstance(node, Term):
        star = " *" if node.prefix else ""
        return f'{_FTS5_COLUMNS[node.field]}"{" ".join(node.words)}"{star}'
    operator = _FTS5_OPERATORS[node.kind]
    return f"({render_fts5(node.left)}) {operator} ({render_fts5(node.right)})"


_TSQUERY_WEIGHTS = {
    Field.ANY: "",
    Field.SUBJECT: "A",
    Field.BODY: "B",
    Field.SENDER: "C",
    Field.SUBJECT_OR_BODY: "AB",
}
_TSQUERY_OPERATORS = {"AND": "&", "OR": "|", "NOT": "& !"}


def render_tsquery(node: Node) -> str:
    """`to_tsquery` syntax: each term quoted as typed (PostgreSQL splits it into lexemes the
    way it split the texts), with its field as a weight; `&`, `|`, `& !`."""
    if isinstance(node, Term):
        suffix = ("*" if node.prefix else "") + _TSQUERY_WEIGHTS[node.field]
        return f"'{node.raw}'" + (f":{suffix}" if suffix else "")
    operator = _TSQUERY_OPERATORS[node.kind]
    return f"({render_tsquery(node.left)}) {operator} ({render_tsquery(node.right)})"
