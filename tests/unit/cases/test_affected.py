"""The structure of affected packages (cases.affected): OSV events, the older range shape, spans."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockstep.cases.affected import (
    AffectedPackage,
    AffectedRange,
    Event,
    EventKind,
    RangeType,
    VersionRange,
    affected_to_json,
    parse_affected,
    range_of,
    repository_of,
)
from lockstep.core.errors import InvalidFields

COMMIT = "4f2a9c1e0b7d3a5f6e8c9b1a2d3e4f5a6b7c8d9e"
INTRO, FIX, LAST, LIM = (
    EventKind.INTRODUCED,
    EventKind.FIXED,
    EventKind.LAST_AFFECTED,
    EventKind.LIMIT,
)


def _events(*pairs: tuple[EventKind, str]) -> AffectedRange:
    return AffectedRange(tuple(Event(kind, version) for kind, version in pairs))


def test_events_round_trip() -> None:
    data = [
        {
            "purl": "pkg:pypi/quokka",
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "2.0"}],
                },
                {
                    "type": "GIT",
                    "repo": "https://git.example/q.git",
                    "events": [{"introduced": "0"}],
                },
            ],
            "versions": ["0.9"],
        }
    ]
    parsed = parse_affected(data)
    assert affected_to_json(parsed) == data
    assert parse_affected(affected_to_json(parsed)) == parsed


def test_the_older_shape_reads_as_one_interval() -> None:
    old = [{"purl": "pkg:pypi/quokka", "ranges": [{"introduced": "0", "fixed": "1.2.3"}]}]
    (package,) = parse_affected(old)
    assert package.ranges == (_events((INTRO, "0"), (FIX, "1.2.3")),)
    assert affected_to_json((package,))[0]["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}
    ]


@pytest.mark.parametrize(
    ("span_range", "spans"),
    [
        (_events((INTRO, "0")), [VersionRange("0")]),
        (_events((INTRO, "1"), (FIX, "2")), [VersionRange("1", fixed="2")]),
        (
            _events((INTRO, "1"), (FIX, "2"), (INTRO, "3"), (LAST, "4")),
            [VersionRange("1", fixed="2"), VersionRange("3", last_affected="4")],
        ),
        (_events((INTRO, "1"), (LIM, "5")), [VersionRange("1", limit="5")]),
        (_events((INTRO, "1"), (LIM, "*")), [VersionRange("1")]),
        (_events((INTRO, "1"), (FIX, "2"), (LIM, "5")), [VersionRange("1", fixed="2")]),
        (_events((INTRO, "1"), (INTRO, "2"), (FIX, "3")), [VersionRange("1", fixed="3")]),
        (_events((INTRO, "1"), (FIX, "2"), (FIX, "3")), [VersionRange("1", fixed="2")]),
    ],
)
def test_spans(span_range: AffectedRange, spans: list[VersionRange]) -> None:
    assert list(span_range.spans) == spans


@pytest.mark.parametrize(
    "span", [VersionRange("0"), VersionRange("1", fixed="2"), VersionRange("1", limit="3")]
)
def test_range_of_a_span_gives_it_back(span: VersionRange) -> None:
    assert range_of(span).spans == (span,)


def _range(**fields: Any) -> list[dict[str, Any]]:
    return [{"purl": "pkg:pypi/q", "ranges": [fields]}]


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ("nope", "affected", "expected a list"),
        (["x"], "affected[0]", "expected an object"),
        ([{"purl": "pkg:pypi/q@1", "versions": ["1"]}], "affected[0].purl", "without a version"),
        ([{"purl": "pkg:pypi/q"}], "affected[0]", "at least one range or version"),
        (
            [{"purl": "pkg:pypi/q", "versions": ["1"], "package": {}}],
            "affected[0].package",
            "unknown",
        ),
        (_range(introduced="1.0", limit="2.0"), "affected[0].ranges[0].limit", "need events"),
        (_range(introduced="1.0", fixd="2.0"), "affected[0].ranges[0].fixd", "unknown field"),
        (_range(fixed="1"), "affected[0].ranges[0].introduced", "needs introduced"),
        (
            _range(introduced="0", fixed="1", last_affected="1"),
            "affected[0].ranges[0]",
            "not both",
        ),
        (_range(introduced="1 .0"), "affected[0].ranges[0].introduced", "without spaces"),
        (_range(type="ECOSYSTEM"), "affected[0].ranges[0].events", "give events"),
        (
            _range(events=[{"introduced": "0"}, {"fixd": "1"}]),
            "affected[0].ranges[0].events[1].fixd",
            "unknown event",
        ),
        (
            _range(events=[{"introduced": "0", "fixed": "1"}]),
            "affected[0].ranges[0].events[0]",
            "exactly one",
        ),
        (_range(events=[{}]), "affected[0].ranges[0].events[0]", "got: nothing"),
        (_range(events=[{"fixed": "1"}]), "affected[0].ranges[0].events", "introduced event"),
        (
            _range(events=[{"introduced": "0"}, {"fixed": "1"}, {"last_affected": "2"}]),
            "affected[0].ranges[0]",
            "OSV forbids",
        ),
        (_range(type="RPM", events=[{"introduced": "0"}]), "affected[0].ranges[0].type", "types"),
        (
            _range(type="GIT", events=[{"introduced": "v1.0"}], repo="https://x.example/r"),
            "affected[0].ranges[0].events[0].introduced",
            "commit hashes",
        ),
        (
            _range(type="GIT", events=[{"introduced": COMMIT}]),
            "affected[0].ranges[0].repo",
            "needs repo",
        ),
        (
            _range(events=[{"introduced": "0"}], repo="https://x.example/r"),
            "affected[0].ranges[0].repo",
            "only a GIT range",
        ),
        (
            _range(type="GIT", events=[{"introduced": "0"}], repo="not a url"),
            "affected[0].ranges[0].repo",
            "clone URL",
        ),
        (
            [{"purl": "pkg:pypi/q", "versions": ["1"]}, {"purl": "pkg:pypi/q", "versions": ["2"]}],
            "affected[1].purl",
            "listed twice",
        ),
        ([{"purl": "pkg:pypi/q", "versions": ["1"]}] * 201, "affected", "at most 200"),
        ([{"purl": "pkg:pypi/q", "ranges": ["0-1.2"]}], "affected[0].ranges[0]", "an object"),
        ([{"purl": "pkg:pypi/q", "versions": "1.0"}], "affected[0].versions", "a list"),
    ],
)
def test_structure_errors_name_their_path(data: Any, field: str, fragment: str) -> None:
    with pytest.raises(InvalidFields) as caught:
        parse_affected(data)
    found = dict(caught.value.errors)
    assert field in found, caught.value.errors
    assert fragment in found[field]


def test_a_broken_stored_purl_has_no_repository() -> None:
    package = AffectedPackage("not a purl", (AffectedRange((Event(INTRO, "0"),), RangeType.GIT),))
    assert repository_of(package, package.ranges[0]) == ""


def test_git_hosted_packages_need_no_repo() -> None:
    data = [
        {
            "purl": "pkg:github/acme/tool",
            "ranges": [{"type": "git", "events": [{"introduced": COMMIT}]}],
        }
    ]
    (package,) = parse_affected(data)
    assert package.ranges[0].type is RangeType.GIT


def test_all_errors_are_reported_at_once() -> None:
    with pytest.raises(InvalidFields) as caught:
        parse_affected(
            [
                {"purl": "nope", "versions": ["1"]},
                {"purl": "pkg:pypi/q", "ranges": [{"introduced": "1", "fixd": "2"}]},
            ]
        )
    assert [field for field, _ in caught.value.errors] == [
        "affected[0].purl",
        "affected[1].ranges[0].fixd",
    ]
    assert caught.value.field == "affected[0].purl"


versions = st.text(alphabet="0123456789.abc-", min_size=1, max_size=10)


@given(st.lists(st.tuples(versions, versions), min_size=1, max_size=5))
def test_affected_round_trips(pairs: list[tuple[str, str]]) -> None:
    events = [e for a, b in pairs for e in ({"introduced": a}, {"fixed": b})]
    data = [{"purl": "pkg:pypi/q", "ranges": [{"type": "ECOSYSTEM", "events": events}]}]
    parsed = parse_affected(data)
    assert parse_affected(affected_to_json(parsed)) == parsed
