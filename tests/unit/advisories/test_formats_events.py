"""Ranges given as OSV events (several introduced/fixed pairs, limit, SEMVER, GIT with a repo):
every export keeps them, and stays valid against its official schema."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lockstep.advisories.formats.csaf import render_csaf
from lockstep.advisories.formats.cve5 import cna_container, render_cve5
from lockstep.advisories.formats.osv import render_osv
from lockstep.advisories.formats.text import range_text
from lockstep.advisories.snapshot import AdvisorySnapshot, from_json, to_json
from lockstep.cases.affected import VersionRange, parse_affected
from tests.unit.advisories.formats_support import (
    CNA_PUBLISHED,
    COMMIT,
    CVE_RECORD,
    ORG_ID,
    OSV,
    SHORT_NAME,
    csaf_errors,
    sample_snapshot,
    sample_vulns,
    schema_errors,
)

OTHER = "9" * 40
AFFECTED: list[dict[str, Any]] = [
    {
        "purl": "pkg:pypi/tmplkit-core",
        "ranges": [
            {
                "type": "ECOSYSTEM",
                "events": [
                    {"introduced": "1.0"},
                    {"fixed": "1.4.2"},
                    {"introduced": "2.0"},
                    {"fixed": "2.1.1"},
                    {"introduced": "3.0"},
                    {"limit": "3.5"},
                ],
            },
            {
                "type": "GIT",
                "repo": "https://git.example.org/tmplkit.git",
                "events": [{"introduced": "0"}, {"fixed": COMMIT}, {"fixed": OTHER}],
            },
        ],
        "versions": [],
    },
    {
        "purl": "pkg:npm/%40tmplkit/wasm",
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "3.0.1"}]}],
        "versions": [],
    },
]


def _snapshot() -> AdvisorySnapshot:
    vuln = replace(sample_vulns()[0], affected=parse_affected(AFFECTED))
    return sample_snapshot(vulnerabilities=(vuln,))


def test_osv_keeps_the_events_as_given() -> None:
    (doc,) = render_osv(_snapshot())
    assert schema_errors(OSV, doc) == []
    pypi, npm = doc["affected"]
    assert pypi["ranges"] == [
        {"type": "ECOSYSTEM", "events": AFFECTED[0]["ranges"][0]["events"]},
        {
            "type": "GIT",
            "repo": "https://git.example.org/tmplkit.git",
            "events": [{"introduced": "0"}, {"fixed": COMMIT}, {"fixed": OTHER}],
        },
    ]
    assert npm["ranges"] == AFFECTED[1]["ranges"]


def test_cve_record_has_one_entry_per_interval() -> None:
    snapshot = _snapshot()
    record = render_cve5(
        snapshot,
        snapshot.vulnerabilities[0],
        assigner_org_id=ORG_ID,
        assigner_short_name=SHORT_NAME,
    )
    assert schema_errors(CVE_RECORD, record) == []
    assert schema_errors(CNA_PUBLISHED, cna_container(record)) == []
    pypi, npm = record["containers"]["cna"]["affected"]
    assert pypi["repo"] == "https://git.example.org/tmplkit.git"
    assert pypi["versions"] == [
        {"version": "1.0", "status": "affected", "versionType": "python", "lessThan": "1.4.2"},
        {"version": "2.0", "status": "affected", "versionType": "python", "lessThan": "2.1.1"},
        {"version": "3.0", "status": "affected", "versionType": "python", "lessThan": "3.5"},
        {"version": "0", "status": "affected", "versionType": "git", "lessThan": COMMIT},
    ]
    assert npm["versions"] == [
        {
            "version": "0",
            "status": "affected",
            "versionType": "semver",
            "lessThanOrEqual": "3.0.1",
        }
    ]


def test_csaf_names_each_interval() -> None:
    doc = render_csaf(_snapshot())
    assert csaf_errors(doc) == []
    names = {
        leaf["name"]
        for vendor in doc["product_tree"]["branches"]
        for package in vendor["branches"]
        for leaf in package.get("branches", [])
    }
    assert {"vers:pypi/>=1.0|<1.4.2", "vers:pypi/>=2.0|<2.1.1", "vers:pypi/>=3.0|<3.5"} <= names


def test_snapshot_round_trips_events_and_reads_the_older_shape() -> None:
    snapshot = _snapshot()
    assert from_json(to_json(snapshot)) == snapshot
    old = to_json(sample_snapshot())
    old["vulnerabilities"][0]["affected"] = [
        {"purl": "pkg:pypi/tmplkit-core", "ranges": [{"introduced": "0", "fixed": "1.2"}]}
    ]
    (package,) = from_json(old).vulnerabilities[0].affected
    assert package.spans == (VersionRange("0", fixed="1.2"),)


def test_text_says_limit() -> None:
    assert range_text(VersionRange("3.0", limit="3.5")) == ">=3.0, <3.5"
