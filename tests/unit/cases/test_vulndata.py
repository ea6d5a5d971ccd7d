"""What a vulnerability carries: CVSS, CWE, affected ranges, references, credits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockstep.cases.vulndata import (
    CreditType,
    ReferenceType,
    affected_to_json,
    credits_to_json,
    fixed_versions,
    normalise_cwe,
    parse_affected,
    parse_credits,
    parse_cvss,
    parse_references,
    references_to_json,
)
from lockstep.core.errors import ValidationError


@pytest.mark.parametrize(
    ("vector", "version", "score", "rating"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8, "Critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "3.1", 8.8, "High"),
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L", "3.1", 1.8, "Low"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, "Critical"),
    ],
)
def test_cvss_scores(vector: str, version: str, score: float, rating: str) -> None:
    severity = parse_cvss(vector)
    assert (severity.version, severity.base_score, severity.rating) == (version, score, rating)
    assert severity.vector == vector


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "AV:N/AC:L",
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N",
        "CVSS:4.0/AV:N",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    ],
)
def test_bad_cvss_is_refused(vector: str) -> None:
    with pytest.raises(ValidationError):
        parse_cvss(vector, field="cvss3")


@pytest.mark.parametrize(
    ("text", "cwe"), [("CWE-79", "CWE-79"), ("cwe-787", "CWE-787"), (" 20 ", "CWE-20")]
)
def test_cwe(text: str, cwe: str) -> None:
    assert normalise_cwe(text) == cwe


@pytest.mark.parametrize("text", ["", "CWE-", "CWE-0", "XSS", "CWE-79a"])
def test_bad_cwe(text: str) -> None:
    with pytest.raises(ValidationError):
        normalise_cwe(text)


GOOD = [
    {"purl": "pkg:pypi/quokka", "ranges": [{"introduced": "0", "fixed": "1.2.3"}]},
    {
        "purl": "pkg:npm/%40q/core",
        "ranges": [{"introduced": "2.0", "last_affected": "2.4"}],
        "versions": ["2.0", "2.1"],
    },
]


def test_affected_round_trip_and_fixed_versions() -> None:
    parsed = parse_affected(GOOD)
    assert affected_to_json(parsed)[0] == {
        "purl": "pkg:pypi/quokka",
        "ranges": [{"introduced": "0", "fixed": "1.2.3"}],
        "versions": [],
    }
    assert parse_affected(affected_to_json(parsed)) == parsed
    assert fixed_versions(parsed) == ("1.2.3",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("nope", "expected a list"),
        (["x"], r"affected\[0\]: expected an object"),
        ([{"purl": "pkg:pypi/q@1", "ranges": [{"introduced": "0"}]}], "without a version"),
        ([{"purl": "pkg:pypi/q"}], "at least one range or version"),
        ([{"purl": "pkg:pypi/q", "ranges": [{"fixed": "1"}]}], r"ranges\[0\].introduced"),
        (
            [
                {
                    "purl": "pkg:pypi/q",
                    "ranges": [{"introduced": "0", "fixed": "1", "last_affected": "1"}],
                }
            ],
            "not both",
        ),
        ([{"purl": "pkg:pypi/q", "ranges": [{"introduced": "1 .0"}]}], "without spaces"),
        ([*GOOD, GOOD[0]], "listed twice"),
        ([GOOD[0]] * 201, "at most 200"),
    ],
)
def test_bad_affected(data: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_affected(data)


def test_references_and_credits() -> None:
    refs = parse_references(
        [{"type": "fix", "url": "https://git.example/c/1"}, {"url": "https://x.example"}]
    )
    assert [r.type for r in refs] == [ReferenceType.FIX, ReferenceType.WEB]
    assert parse_references(references_to_json(refs)) == refs
    parsed = parse_credits(
        [{"name": "Rita", "type": "finder", "contact": ["https://rita.example"]}]
    )
    assert parsed[0].type is CreditType.FINDER
    assert parse_credits(credits_to_json(parsed)) == parsed


@pytest.mark.parametrize(
    ("parse", "data", "message"),
    [
        (parse_references, [{"type": "FIX", "url": "ftp://x"}], "http"),
        (parse_references, [{"type": "NEWS", "url": "https://x.example"}], "type must be one of"),
        (parse_references, [{"url": "https://x.example"}] * 2, "listed twice"),
        (parse_credits, [{"name": ""}], "a name"),
        (parse_credits, [{"name": "R", "type": "HERO"}], "type must be one of"),
    ],
)
def test_bad_references_and_credits(parse: Any, data: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse(data)


versions = st.text(alphabet="0123456789.abc-", min_size=1, max_size=10)


@given(st.lists(st.tuples(versions, versions), min_size=1, max_size=5))
def test_affected_round_trips(pairs: list[tuple[str, str]]) -> None:
    data = [{"purl": "pkg:pypi/q", "ranges": [{"introduced": a, "fixed": b} for a, b in pairs]}]
    parsed = parse_affected(data)
    assert parse_affected(affected_to_json(parsed)) == parsed
