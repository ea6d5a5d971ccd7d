"""The vulnerability form's rows (web/vuln_form.py): typed input in, the action's input out,
every error back at its row."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.cases.models import Vulnerability
from lockstep.core.errors import InvalidFields, ValidationError
from lockstep.web.vuln_form import PURL, VulnForm

PROJECT = ["pkg:pypi/libquokka"]


def _form(**package: str) -> VulnForm:
    form = VulnForm.blank(PROJECT)
    row = form.packages[0]
    for name, value in package.items():
        setattr(row, name, value)
    row.ranges[0].events[0].version = "0"
    return form


@pytest.mark.parametrize(
    ("package", "purl", "problem"),
    [
        ({"package": PROJECT[0]}, PROJECT[0], ""),
        ({"ecosystem": "npm", "name": "@quokka/wasm"}, "pkg:npm/%40quokka/wasm", ""),
        ({"ecosystem": PURL, "name": "pkg:generic/quokka"}, "pkg:generic/quokka", ""),
        ({"ecosystem": "", "name": "pkg:cargo/quokka"}, "pkg:cargo/quokka", ""),
        ({"package": PROJECT[0], "name": "other"}, "", "not both"),
        ({"package": "pkg:pypi/forged"}, "", "from the list"),
        ({}, "", "Pick the package"),
        ({"name": "quokka"}, "", "Choose the package's ecosystem"),
        ({"ecosystem": "Maven", "name": "quokka"}, "", "not a valid Maven package name"),
    ],
)
def test_the_package_of_a_row(package: dict[str, str], purl: str, problem: str) -> None:
    form = _form(**package)
    data = form.to_input()
    assert data.affected[0]["purl"] == purl
    errors = form.packages[0].errors
    assert (problem in errors[0]) if problem else errors == []


def test_empty_rows_are_left_out_and_versions_split() -> None:
    form = VulnForm.blank(PROJECT)
    assert form.to_input().affected == []
    form.packages[0].package = PROJECT[0]
    form.packages[0].versions = "1.0, 1.1  1.2"
    form.packages[0].ranges[0].repo = " https://git.example/q.git "
    entry = form.to_input().affected[0]
    assert entry["versions"] == ["1.0", "1.1", "1.2"]
    assert entry["ranges"] == [
        {"type": "ECOSYSTEM", "events": [], "repo": "https://git.example/q.git"}
    ]


@pytest.mark.parametrize(
    ("which", "where"),
    [
        ("pkg", lambda f: len(f.packages)),
        ("ref", lambda f: len(f.references)),
        ("credit", lambda f: len(f.credits)),
        ("pkg-0-range", lambda f: len(f.packages[0].ranges)),
        ("pkg-0-range-0-event", lambda f: len(f.packages[0].ranges[0].events)),
    ],
)
def test_more_adds_one_row(which: str, where: Any) -> None:
    form = VulnForm.blank(PROJECT)
    before = where(form)
    form.add_row(which)
    assert where(form) == before + 1
    form.add_row("nonsense")
    assert where(form) == before + 1


def test_counts_are_bounded() -> None:
    post = {"pkg-count": "999999", "ref-count": "-1", "credit-count": "x", "title": None}
    form = VulnForm.from_post(post, PROJECT)
    assert (len(form.packages), len(form.references), len(form.credits)) == (200, 0, 0)
    assert form.title == ""


def test_errors_find_their_row() -> None:
    form = _form(package=PROJECT[0])
    form.references[0].url = "https://x.example"
    form.to_input()
    form.show_errors(
        InvalidFields(
            [
                ("title", "A vulnerability needs a title."),
                ("affected[0].ranges[0].events[0].introduced", "bad version"),
                ("affected[0].versions[1]", "bad listed version"),
                ("references[0].url", "bad url"),
                ("affected", "at most 200 entries."),
            ]
        )
    )
    assert form.field_errors == {"title": ["A vulnerability needs a title."]}
    assert form.packages[0].ranges[0].events[0].errors == ["bad version"]
    assert form.packages[0].errors == ["bad listed version"]
    assert form.references[0].errors == ["bad url"]
    assert form.other_errors == ["affected: at most 200 entries."]
    assert form.has_errors
    unmade = _form(name="quokka")  # no ecosystem: the form says so, once
    unmade.to_input()
    unmade.show_errors(InvalidFields([("affected[0].purl", "Give a Package URL.")]))
    assert unmade.packages[0].errors == ["Choose the package's ecosystem."]
    full = VulnForm.blank(PROJECT).packages[0].ranges[0]
    for _ in range(120):
        full.add_event()
    assert len(full.events) == 100
    plain = VulnForm.blank(PROJECT)
    plain.show_errors(ValidationError("Something else."))
    assert plain.other_errors == ["Something else."]


def test_a_stored_vulnerability_fills_the_form() -> None:
    vulnerability = Vulnerability(
        title="Overflow",
        cvss3_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        affected=[
            {"purl": "pkg:npm/%40quokka/wasm", "versions": ["1.0"]},
            {"purl": "pkg:generic/quokka", "ranges": [{"introduced": "0"}]},
        ],
        references=[{"type": "FIX", "url": "https://x.example"}],
        credits=[{"name": "Rita", "type": "FINDER", "contact": ["https://rita.example"]}],
    )
    form = VulnForm.of(vulnerability, PROJECT)
    assert form.cvss3.startswith("CVSS:3.1/")
    npm, generic = form.packages
    assert (npm.ecosystem, npm.name, npm.outside, npm.versions) == (
        "npm",
        "@quokka/wasm",
        True,
        "1.0",
    )
    assert len(npm.ranges) == 1  # a blank one, to fill in
    assert (generic.ecosystem, generic.name) == (PURL, "pkg:generic/quokka")
    assert [e.kind for e in generic.ranges[0].events] == ["introduced", "fixed"]
    assert [r.url for r in form.references] == ["https://x.example", ""]
    assert form.credits[0].contact == "https://rita.example"
    data = form.to_input()
    assert data.affected[0] == {
        "purl": "pkg:npm/%40quokka/wasm",
        "ranges": [],
        "versions": ["1.0"],
        "outside_project": True,
    }
