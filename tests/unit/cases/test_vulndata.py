"""What a vulnerability carries: CVSS, CWE, references, credits (affected: test_affected*.py)."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.cases.vulndata import (
    CreditType,
    ReferenceType,
    credits_to_json,
    normalise_cwe,
    parse_credits,
    parse_cvss,
    parse_references,
    references_to_json,
)
from lockstep.core.errors import InvalidFields, ValidationError


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
    ("parse", "data", "field", "message"),
    [
        (parse_references, "nope", "references", "expected a list"),
        (parse_references, [{"type": "FIX", "url": "ftp://x"}], "references[0].url", "http"),
        (
            parse_references,
            [{"type": "NEWS", "url": "https://x.example"}],
            "references[0].type",
            "the types are",
        ),
        (parse_references, [{"url": "https://x.example"}] * 2, "references[1].url", "twice"),
        (
            parse_references,
            [{"url": "https://x.example", "kind": "FIX"}],
            "references[0].kind",
            "unknown field",
        ),
        (parse_credits, [{"name": ""}], "credits[0].name", "a name"),
        (parse_credits, [{"name": "R", "type": "HERO"}], "credits[0].type", "the types are"),
        (parse_credits, [{"name": "R", "contact": ["mailto:r"]}], "credits[0].contact[0]", "http"),
        (parse_credits, ["R"], "credits[0]", "expected an object"),
        (parse_references, ["https://x.example"], "references[0]", "expected an object"),
        (parse_references, [{"url": "https://x.example"}] * 101, "references", "at most 100"),
    ],
)
def test_bad_references_and_credits(parse: Any, data: Any, field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        parse(data)
    assert caught.value.field == field


def test_every_bad_entry_is_named() -> None:
    with pytest.raises(InvalidFields) as caught:
        parse_references([{"url": "nope"}, {"url": "https://ok.example"}, {"type": "X"}])
    assert [f for f, _ in caught.value.errors] == [
        "references[0].url",
        "references[2].type",
        "references[2].url",
    ]
