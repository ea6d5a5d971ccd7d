"""The OSV, CVE JSON 5 and CSAF 2.0 renderers, checked against the official schemas (and, for
CSAF, the standard's mandatory tests) on a realistic advisory."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cvelib.cve_api import CveApi, CveRecord

from lockstep.advisories.formats.csaf import render_csaf
from lockstep.advisories.formats.cve5 import cna_container, render_cve5
from lockstep.advisories.formats.cwe import CWE_NAMES
from lockstep.advisories.formats.osv import query_response, render_osv, timestamp
from lockstep.advisories.formats.products import vers_range
from lockstep.cases.affected import VersionRange, parse_affected
from lockstep.cases.vulndata import parse_references
from tests.unit.advisories.formats_support import (
    CNA_PUBLISHED,
    COMMIT,
    CVE_RECORD,
    ORG_ID,
    OSV,
    PUBLISHED,
    SHORT_NAME,
    csaf_errors,
    sample_snapshot,
    sample_vulns,
    schema_errors,
)

# ---------------------------------------------------------------------------------------------
# OSV


def osv_docs(**changes: Any) -> list[dict[str, Any]]:
    docs = render_osv(sample_snapshot(**changes))
    for doc in docs:
        assert schema_errors(OSV, doc) == []
    return docs


def affected_by_ecosystem(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["package"]["ecosystem"]: entry for entry in doc["affected"]}


def test_osv_has_one_valid_document_per_vulnerability() -> None:
    docs = osv_docs()
    assert [d["id"] for d in docs] == [
        "x_LOCKSTEP-2026-0007-1",
        "x_LOCKSTEP-2026-0007-2",
        "x_LOCKSTEP-2026-0007-3",
    ]
    first = docs[0]
    assert first["schema_version"] == "1.7.5"
    assert first["aliases"] == ["CVE-2026-31337"]
    assert first["published"] == first["modified"] == "2026-03-10T14:00:00Z"
    assert first["summary"] == "Heap buffer overflow in the template expression parser"
    assert first["details"].startswith("The expression parser copies")
    assert first["severity"] == [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        {
            "type": "CVSS_V4",
            "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        },
    ]
    assert first["database_specific"] == {"cwe_ids": ["CWE-787"]}
    assert "aliases" not in docs[2]  # no CVE ID yet: no alias is made up


def test_osv_ranges_use_the_ecosystems_version_kind() -> None:
    by_eco = affected_by_ecosystem(osv_docs()[0])
    pypi = by_eco["PyPI"]
    assert pypi["package"] == {
        "ecosystem": "PyPI",
        "name": "tmplkit-core",
        "purl": "pkg:pypi/tmplkit-core",
    }
    assert [r["type"] for r in pypi["ranges"]] == ["ECOSYSTEM"] * 3
    assert [r["events"] for r in pypi["ranges"]] == [
        [{"introduced": "1.0.0"}, {"last_affected": "1.9.7"}],
        [{"introduced": "2.0.0"}, {"fixed": "2.4.1"}],
        [{"introduced": "3.0.0"}, {"fixed": "3.0.2"}],
    ]
    assert pypi["versions"] == ["3.0.0rc1"]
    npm = by_eco["npm"]
    assert npm["package"]["name"] == "@tmplkit/wasm"
    assert npm["ranges"] == [
        {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "3.0.2"}]}
    ]


def test_osv_go_versions_lose_their_v_in_semver_ranges() -> None:
    go = affected_by_ecosystem(osv_docs()[1])["Go"]
    assert go["package"]["name"] == "github.com/tmplkit/tmplkit-go"
    assert go["ranges"] == [
        {"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"fixed": "2.4.1"}]}
    ]


def test_osv_semver_ecosystem_with_non_semver_bounds_uses_ecosystem_ranges() -> None:
    affected = parse_affected(
        [{"purl": "pkg:npm/left-pad", "ranges": [{"introduced": "1.0", "fixed": "1.1"}]}]
    )
    vuln = replace(sample_vulns()[2], affected=affected)
    doc = osv_docs(vulnerabilities=(vuln,))[0]
    assert doc["affected"][0]["ranges"][0]["type"] == "ECOSYSTEM"


def test_osv_maps_purl_types_to_ecosystem_names() -> None:
    cases = {
        "pkg:cargo/serde": ("crates.io", "serde"),
        "pkg:gem/rails": ("RubyGems", "rails"),
        "pkg:maven/org.apache.logging.log4j/log4j-core": (
            "Maven",
            "org.apache.logging.log4j:log4j-core",
        ),
        "pkg:nuget/Newtonsoft.Json": ("NuGet", "Newtonsoft.Json"),
        "pkg:composer/laravel/framework": ("Packagist", "laravel/framework"),
        "pkg:hex/phoenix": ("Hex", "phoenix"),
        "pkg:pub/http": ("Pub", "http"),
        "pkg:cran/ggplot2": ("CRAN", "ggplot2"),
        "pkg:hackage/aeson": ("Hackage", "aeson"),
        "pkg:swift/github.com/apple/swift-nio": ("SwiftURL", "github.com/apple/swift-nio"),
        "pkg:pypi/zope.interface": ("PyPI", "zope-interface"),
    }
    affected = parse_affected(
        [{"purl": purl, "ranges": [{"introduced": "0", "fixed": "9.9.9"}]} for purl in cases]
    )
    vuln = replace(sample_vulns()[2], affected=affected)
    doc = osv_docs(vulnerabilities=(vuln,))[0]
    found = {
        e["package"]["purl"]: (e["package"]["ecosystem"], e["package"]["name"])
        for e in doc["affected"]
    }
    expected = {
        parse_affected([{"purl": p, "versions": ["1"]}])[0].purl: v for p, v in cases.items()
    }
    assert found == expected


def test_osv_git_ranges_only_for_commit_hashes() -> None:
    git = affected_by_ecosystem(osv_docs()[0])["GIT"]
    assert git["package"] == {
        "ecosystem": "GIT",
        "name": "https://github.com/tmplkit/tmplkit",
        "purl": "pkg:github/tmplkit/tmplkit",
    }
    assert git["ranges"] == [
        {
            "type": "GIT",
            "repo": "https://github.com/tmplkit/tmplkit",
            "events": [{"introduced": "0"}, {"fixed": COMMIT}],
        }
    ]
    assert git["versions"] == ["v3.0.0", "v3.0.1"]
    # Tags cannot be a GIT range: kept as stored, not dropped.
    assert git["database_specific"] == {
        "source_ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "v3.0.0"}, {"fixed": "v3.0.2"}]}
        ]
    }


def test_osv_keeps_packages_without_an_ecosystem_in_database_specific() -> None:
    doc = osv_docs()[1]
    assert "pkg:generic/tmplkit-cli" not in json.dumps(doc["affected"])
    assert doc["database_specific"]["unmapped_affected"] == [
        {
            "purl": "pkg:generic/tmplkit-cli",
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}]}],
            "versions": [],
        }
    ]


def test_osv_references_and_credits() -> None:
    doc = osv_docs()[0]
    assert doc["references"][0] == {
        "type": "ADVISORY",
        "url": "https://lockstep.example/advisories/LOCKSTEP-2026-0007/",
    }
    assert {"type": "FIX", "url": f"https://github.com/tmplkit/tmplkit/commit/{COMMIT}"} in doc[
        "references"
    ]
    assert doc["credits"] == [
        {"name": "Ana Ruiz", "type": "FINDER", "contact": ["https://ana.example/"]},
        {"name": "Fuzzer Example Ltd.", "type": "TOOL"},
        {"name": "Björn Åkesson", "type": "REMEDIATION_DEVELOPER"},
    ]


def test_osv_single_vulnerability_carries_the_full_details() -> None:
    vuln = sample_vulns()[0]
    doc = osv_docs(vulnerabilities=(vuln,))[0]
    assert doc["details"].startswith(vuln.description)
    assert "__globals__[SECRET_KEY]" in doc["details"]


def test_osv_timestamps_are_utc_with_z() -> None:
    east = timezone(timedelta(hours=2))
    doc = osv_docs(
        published=datetime(2026, 3, 10, 16, 0, tzinfo=east),
        modified=datetime(2026, 3, 11, 9, 0, 0, 1500, tzinfo=UTC),
    )[0]
    assert doc["published"] == "2026-03-10T14:00:00Z"
    assert doc["modified"] == "2026-03-11T09:00:00.001500Z"
    with pytest.raises(ValueError, match="aware"):
        timestamp(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_osv_query_response_shape() -> None:
    docs = osv_docs()
    assert query_response(docs) == {"vulns": docs}
    assert query_response([]) == {"vulns": []}


# ---------------------------------------------------------------------------------------------
# CVE JSON 5


def cve_record(vuln_index: int = 0, **changes: Any) -> dict[str, Any]:
    snapshot = sample_snapshot(**changes)
    record = render_cve5(
        snapshot,
        snapshot.vulnerabilities[vuln_index],
        assigner_org_id=ORG_ID,
        assigner_short_name=SHORT_NAME,
    )
    assert schema_errors(CVE_RECORD, record) == []
    assert schema_errors(CNA_PUBLISHED, cna_container(record)) == []
    return record


def test_cve_record_metadata() -> None:
    record = cve_record()
    assert record["dataType"] == "CVE_RECORD"
    assert record["dataVersion"] == "5.1"
    assert record["cveMetadata"] == {
        "cveId": "CVE-2026-31337",
        "assignerOrgId": ORG_ID,
        "assignerShortName": SHORT_NAME,
        "state": "PUBLISHED",
        "datePublished": "2026-03-10T14:00:00Z",
    }
    cna = record["containers"]["cna"]
    assert cna["providerMetadata"] == {"orgId": ORG_ID, "shortName": SHORT_NAME}
    assert cna["title"] == "Heap buffer overflow in the template expression parser"
    assert cna["datePublic"] == "2026-03-10T14:00:00Z"
    assert cna["descriptions"][0]["lang"] == "en"
    assert cna["descriptions"][0]["value"].startswith("The expression parser copies")


def test_cve_affected_versions() -> None:
    affected = cve_record()["containers"]["cna"]["affected"]
    pypi, npm, github = affected
    assert pypi["vendor"] == "Tmplkit"
    assert (pypi["collectionURL"], pypi["packageName"]) == (
        "https://pypi.python.org",
        "tmplkit-core",
    )
    assert pypi["defaultStatus"] == "unaffected"
    assert pypi["versions"] == [
        {
            "version": "1.0.0",
            "status": "affected",
            "versionType": "python",
            "lessThanOrEqual": "1.9.7",
        },
        {"version": "2.0.0", "status": "affected", "versionType": "python", "lessThan": "2.4.1"},
        {"version": "3.0.0", "status": "affected", "versionType": "python", "lessThan": "3.0.2"},
        {"version": "3.0.0rc1", "status": "affected"},
    ]
    assert npm["versions"] == [
        {"version": "0", "status": "affected", "versionType": "semver", "lessThan": "3.0.2"}
    ]
    assert github["repo"] == "https://github.com/tmplkit/tmplkit"
    assert github["versions"][0] == {
        "version": "0",
        "status": "affected",
        "versionType": "git",
        "lessThan": COMMIT,
    }
    go = cve_record(1)["containers"]["cna"]["affected"][2]
    assert go["collectionURL"] == "https://pkg.go.dev"
    assert go["versions"] == [
        {"version": "2.0.0", "status": "affected", "versionType": "semver", "lessThan": "2.4.1"}
    ]
    cli = cve_record(1)["containers"]["cna"]["affected"][3]
    assert "collectionURL" not in cli
    assert cli["versions"][0]["lessThan"] == "*"  # open range: every later version


def test_cve_metrics_are_computed_from_the_vectors() -> None:
    metrics = cve_record()["containers"]["cna"]["metrics"]
    v3 = metrics[0]["cvssV3_1"]
    assert (v3["version"], v3["baseScore"], v3["baseSeverity"]) == ("3.1", 9.8, "CRITICAL")
    assert v3["vectorString"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    v4 = metrics[1]["cvssV4_0"]
    assert (v4["version"], v4["baseScore"], v4["baseSeverity"]) == ("4.0", 9.3, "CRITICAL")
    assert v4["attackRequirements"] == "NONE"
    assert v4["subConfidentialityImpact"] == "NONE"


def test_cve_problem_type_references_credits_timeline() -> None:
    cna = cve_record()["containers"]["cna"]
    assert cna["problemTypes"] == [
        {
            "descriptions": [
                {
                    "lang": "en",
                    "type": "CWE",
                    "cweId": "CWE-787",
                    "description": "CWE-787: Out-of-bounds Write",
                }
            ]
        }
    ]
    refs = {r["url"]: r.get("tags") for r in cna["references"]}
    assert refs[f"https://github.com/tmplkit/tmplkit/commit/{COMMIT}"] == ["patch"]
    assert refs["https://github.com/tmplkit/tmplkit/issues/4242"] == ["issue-tracking"]
    assert refs["https://lockstep.example/advisories/LOCKSTEP-2026-0007/"] is None
    assert cna["credits"] == [
        {"lang": "en", "value": "Ana Ruiz", "type": "finder"},
        {"lang": "en", "value": "Fuzzer Example Ltd.", "type": "tool"},
        {"lang": "en", "value": "Björn Åkesson", "type": "remediation developer"},
    ]
    assert [t["value"] for t in cna["timeline"]] == [
        "Reported to Tmplkit.",
        "Coordination started.",
        "Shared under embargo with the distributions list.",
        "Public disclosure.",
    ]
    assert "2.4.1" in cna["solutions"][0]["value"]


def test_cve_unknown_cwe_keeps_its_id_without_a_made_up_name() -> None:
    snapshot = sample_snapshot()
    vuln = replace(snapshot.vulnerabilities[2], cve_id="CVE-2026-31339")
    snapshot = sample_snapshot(vulnerabilities=(*snapshot.vulnerabilities[:2], vuln))
    record = render_cve5(snapshot, vuln, assigner_org_id=ORG_ID, assigner_short_name=SHORT_NAME)
    assert schema_errors(CVE_RECORD, record) == []
    problem = record["containers"]["cna"]["problemTypes"][0]["descriptions"][0]
    assert problem == {
        "lang": "en",
        "type": "CWE",
        "cweId": "CWE-99999",
        "description": "CWE-99999",
    }


def test_cve_long_texts_are_cut_to_the_schema_limits() -> None:
    vuln = replace(sample_vulns()[0], title="Overflow " * 40, description="word " * 2000, cwe="")
    record = cve_record(vulnerabilities=(vuln,))
    cna = record["containers"]["cna"]
    assert len(cna["title"]) <= 256
    value = cna["descriptions"][0]["value"]
    assert len(value) <= 4096
    assert value.endswith("(Full text: https://lockstep.example/advisories/LOCKSTEP-2026-0007/)")
    assert cna["problemTypes"][0]["descriptions"][0]["type"] == "text"


def test_cve_without_packages_names_the_project() -> None:
    vuln = replace(sample_vulns()[0], affected=())
    affected = cve_record(vulnerabilities=(vuln,))["containers"]["cna"]["affected"]
    assert affected == [{"vendor": "Tmplkit", "product": "Tmplkit", "defaultStatus": "unknown"}]


@pytest.mark.parametrize(
    ("vuln_index", "org_id", "short_name", "message"),
    [
        (2, ORG_ID, SHORT_NAME, "no CVE ID"),
        (0, "not-a-uuid", SHORT_NAME, "version 4 UUID"),
        (0, ORG_ID, "x", "2 to 32"),
    ],
)
def test_cve_record_refuses_what_cannot_be_a_record(
    vuln_index: int, org_id: str, short_name: str, message: str
) -> None:
    snapshot = sample_snapshot()
    with pytest.raises(ValueError, match=message):
        render_cve5(
            snapshot,
            snapshot.vulnerabilities[vuln_index],
            assigner_org_id=org_id,
            assigner_short_name=short_name,
        )


def test_cve_record_of_a_vulnerability_from_elsewhere_is_refused() -> None:
    stranger = replace(sample_vulns()[0], osv_id="x_OTHER-1")
    with pytest.raises(ValueError, match="not a vulnerability of"):
        render_cve5(
            sample_snapshot(), stranger, assigner_org_id=ORG_ID, assigner_short_name=SHORT_NAME
        )


class _Response:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict[str, Any]:
        return self.body


class _RecordingApi(CveApi):
    """cvelib's client with the HTTP call replaced by a recorder (nothing leaves the process)."""

    def __init__(self) -> None:
        super().__init__(username="u@example.org", org=SHORT_NAME, api_key="k", env="test")
        self.sent: list[tuple[str, Any]] = []

    def _post(self, path: str, **kwargs: Any) -> Any:
        self.sent.append((path, kwargs["json"]))
        return _Response({"created": kwargs["json"]})


def test_cna_container_is_what_cvelib_publish_takes() -> None:
    record = cve_record()
    container = cna_container(record)
    assert container == record["containers"]["cna"]
    assert container is not record["containers"]["cna"]
    CveRecord.validate(container, CveRecord.Schemas.CNA_PUBLISHED)  # raises when invalid
    api = _RecordingApi()
    api.publish("CVE-2026-31337", cna_container(record))
    assert api.sent == [("cve/CVE-2026-31337/cna", {"cnaContainer": container})]


# ---------------------------------------------------------------------------------------------
# CSAF 2.0


def csaf(**changes: Any) -> dict[str, Any]:
    doc = render_csaf(sample_snapshot(**changes))
    assert csaf_errors(doc) == []
    return doc


def products(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """product_id -> (package branch name, leaf category, product) over the whole tree."""
    found = {}
    (vendor,) = doc["product_tree"]["branches"]
    for package in vendor["branches"]:
        if "product" in package:
            found[package["product"]["product_id"]] = ("", "project", package["product"])
            continue
        for leaf in package["branches"]:
            found[leaf["product"]["product_id"]] = (
                package["name"],
                leaf["category"],
                leaf["product"],
            )
    return found


def test_csaf_document_passes_schema_and_mandatory_tests() -> None:
    doc = csaf()
    document = doc["document"]
    assert document["category"] == "csaf_security_advisory"
    assert document["csaf_version"] == "2.0"
    assert document["publisher"] == {
        "category": "coordinator",
        "name": "Lockstep Example",
        "namespace": "https://lockstep.example",
    }
    assert document["tracking"]["id"] == "LOCKSTEP-2026-0007"
    assert document["tracking"]["status"] == "final"
    assert document["tracking"]["version"] == "1"
    assert document["distribution"]["tlp"]["label"] == "WHITE"
    assert "TLP:CLEAR" in document["distribution"]["text"]
    assert {r["category"]: r["url"] for r in document["references"]} == {
        "self": "https://lockstep.example/advisories/LOCKSTEP-2026-0007.csaf.json",
        "external": "https://lockstep.example/advisories/LOCKSTEP-2026-0007/",
    }
    notes = {n["category"]: n["text"] for n in document["notes"]}
    assert notes["details"] == sample_snapshot().details.strip()
    assert document["aggregate_severity"] == {"text": "Critical"}


def test_csaf_product_tree_has_ranges_versions_and_purls() -> None:
    doc = csaf()
    found = products(doc)
    by_name = {(pkg, p["name"]): (cat, p) for pkg, cat, p in found.values()}
    cat, product = by_name[("tmplkit-core", "Tmplkit tmplkit-core vers:pypi/>=2.0.0|<2.4.1")]
    assert cat == "product_version_range"
    assert product["product_identification_helper"] == {"purl": "pkg:pypi/tmplkit-core"}
    cat, product = by_name[("tmplkit-core", "Tmplkit tmplkit-core 2.4.1")]
    assert cat == "product_version"
    assert product["product_identification_helper"] == {"purl": "pkg:pypi/tmplkit-core@2.4.1"}
    assert ("tmplkit-core", "Tmplkit tmplkit-core vers:pypi/>=1.0.0|<=1.9.7") in by_name
    assert ("@tmplkit/wasm", "Tmplkit @tmplkit/wasm vers:npm/<3.0.2") in by_name
    assert ("tmplkit-cli", "Tmplkit tmplkit-cli vers:generic/>=2.0") in by_name
    assert sorted(found) == [f"CSAFPID-{n:04d}" for n in range(1, len(found) + 1)]


def test_csaf_vulnerability_status_remediations_and_scores() -> None:
    doc = csaf()
    found = products(doc)
    first = doc["vulnerabilities"][0]
    assert first["cve"] == "CVE-2026-31337"
    assert first["cwe"] == {"id": "CWE-787", "name": "Out-of-bounds Write"}
    affected = {found[p][2]["name"] for p in first["product_status"]["known_affected"]}
    fixed = {found[p][2]["name"] for p in first["product_status"]["fixed"]}
    assert "Tmplkit tmplkit-core 3.0.0rc1" in affected
    assert {"Tmplkit tmplkit-core 2.4.1", "Tmplkit tmplkit-core 3.0.2"} <= fixed
    assert not affected & fixed
    fixes = [r for r in first["remediations"] if r["category"] == "vendor_fix"]
    assert any("2.4.1" in r["details"] for r in fixes)
    assert all(
        set(r["product_ids"]) <= set(first["product_status"]["known_affected"]) for r in fixes
    )
    none = [r for r in first["remediations"] if r["category"] == "none_available"]
    assert any("1.9.7" in r["details"] for r in none)
    (score,) = first["scores"]
    assert score["cvss_v3"]["baseScore"] == 9.8
    assert score["products"] == first["product_status"]["known_affected"]
    notes = {n["title"]: n["text"] for n in first["notes"]}
    assert "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" in notes["CVSS v4.0"]
    assert [a["names"] for a in first["acknowledgments"]] == [
        ["Ana Ruiz"],
        ["Fuzzer Example Ltd."],
        ["Björn Åkesson"],
    ]
    assert first["acknowledgments"][0]["urls"] == ["https://ana.example/"]
    assert first["release_date"] == "2026-03-10T14:00:00Z"


def test_csaf_unknown_cwe_becomes_a_note() -> None:
    third = csaf()["vulnerabilities"][2]
    assert "cwe" not in third
    assert "cve" not in third
    assert third["ids"] == [
        {"system_name": "Lockstep Example OSV", "text": "x_LOCKSTEP-2026-0007-3"}
    ]
    assert {"category": "other", "title": "CWE", "text": "Weakness: CWE-99999."} in third["notes"]


def test_csaf_listed_version_that_reads_as_a_range_is_a_range() -> None:
    affected = parse_affected([{"purl": "pkg:maven/org.example/lib", "versions": ["1.x", "2.0"]}])
    doc = csaf(vulnerabilities=(replace(sample_vulns()[2], affected=affected),))
    leaves = {p["name"]: cat for _, cat, p in products(doc).values()}
    assert leaves == {
        "Tmplkit org.example:lib vers:maven/1.x": "product_version_range",
        "Tmplkit org.example:lib 2.0": "product_version",
    }


def test_csaf_vulnerability_without_versions_affects_the_project() -> None:
    doc = csaf(vulnerabilities=(replace(sample_vulns()[0], affected=()),))
    (project,) = doc["vulnerabilities"][0]["product_status"]["known_affected"]
    assert products(doc)[project] == ("", "project", {"name": "Tmplkit", "product_id": project})


def test_csaf_revision_history_follows_modification() -> None:
    tracking = csaf(modified=PUBLISHED + timedelta(days=2))["document"]["tracking"]
    assert tracking["version"] == "2"
    assert [r["number"] for r in tracking["revision_history"]] == ["1", "2"]
    assert tracking["current_release_date"] == "2026-03-12T14:00:00Z"


def test_csaf_refuses_what_cannot_be_valid() -> None:
    with pytest.raises(ValueError, match="at least one vulnerability"):
        render_csaf(sample_snapshot(vulnerabilities=()))
    first, second, _ = sample_vulns()
    twice = (first, replace(second, cve_id=first.cve_id))
    with pytest.raises(ValueError, match="CVE-2026-31337"):
        render_csaf(sample_snapshot(vulnerabilities=twice))


def test_csaf_cwe_names_match_the_cwe_catalog() -> None:
    from csaf.csaf.v20 import validate  # noqa: PLC0415 - heavy import

    doc = csaf()
    doc["vulnerabilities"] = [
        {"cwe": {"id": cwe, "name": name}, "title": cwe} for cwe, name in CWE_NAMES.items()
    ]
    report = validate(doc, only_rules=frozenset({"6.1.11"}))
    failures = [e.message for r in report.results if not r.skipped for e in r.errors]
    assert failures == []


@pytest.mark.parametrize(
    ("span", "vers"),
    [
        (VersionRange("0", fixed="1.2.3"), "vers:npm/<1.2.3"),
        (VersionRange("1.0", fixed="1.2.3"), "vers:npm/>=1.0|<1.2.3"),
        (VersionRange("1.0", last_affected="1.4"), "vers:npm/>=1.0|<=1.4"),
        (VersionRange("1.0"), "vers:npm/>=1.0"),
        (VersionRange("0"), "vers:npm/*"),
        (VersionRange("1.0", last_affected="1.0"), "vers:npm/1.0"),
        (VersionRange("1.0", fixed="1.0"), None),
        (VersionRange("1|2", fixed="3!"), "vers:npm/>=1%7C2|<3%21"),
    ],
)
def test_vers_ranges(span: VersionRange, vers: str | None) -> None:
    assert vers_range("npm", span) == vers


# ---------------------------------------------------------------------------------------------
# Less travelled paths


def test_osv_edge_cases() -> None:
    affected = parse_affected(
        [
            {"purl": "pkg:github/acme/tool", "versions": ["v1.0"]},
            {"purl": "pkg:gitlab/acme/lib", "ranges": [{"introduced": "v1.0"}]},
        ]
    )
    advisory_url = "https://lockstep.example/advisories/LOCKSTEP-2026-0007/"
    vuln = replace(
        sample_vulns()[2],
        title="  ",
        description="",
        affected=affected,
        references=parse_references([{"type": "WEB", "url": advisory_url}]),
    )
    doc = osv_docs(vulnerabilities=(vuln,), details="")[0]
    assert "summary" not in doc
    assert "details" not in doc
    assert doc["references"] == [{"type": "ADVISORY", "url": advisory_url}]
    github, gitlab = doc["affected"]
    assert github == {
        "package": {
            "ecosystem": "GIT",
            "name": "https://github.com/acme/tool",
            "purl": "pkg:github/acme/tool",
        },
        "versions": ["v1.0"],
    }
    assert gitlab["package"]["name"] == "https://gitlab.com/acme/lib"
    assert "ranges" not in gitlab
    assert gitlab["database_specific"] == {
        "source_ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "v1.0"}]}]
    }


def test_csaf_repeated_ranges_and_same_named_packages() -> None:
    affected = parse_affected(
        [
            {
                "purl": "pkg:npm/tmplkit",
                "ranges": [
                    {"introduced": "1.0.0", "fixed": "2.0.0"},
                    {"introduced": "1.0.0", "fixed": "2.0.0"},
                    {"introduced": "1.5.0", "fixed": "2.0.0"},
                ],
            },
            {"purl": "pkg:pypi/tmplkit", "ranges": [{"introduced": "0", "fixed": "1.0"}]},
        ]
    )
    doc = csaf(vulnerabilities=(replace(sample_vulns()[2], affected=affected),))
    (vendor,) = doc["product_tree"]["branches"]
    assert [p["name"] for p in vendor["branches"]] == ["tmplkit", "tmplkit (pypi)"]
    status = doc["vulnerabilities"][0]["product_status"]
    assert len(status["known_affected"]) == 3  # two distinct npm ranges, one PyPI range
    assert len(status["fixed"]) == 2  # npm 2.0.0 once, PyPI 1.0


def test_cve_edge_cases() -> None:
    snapshot = sample_snapshot()
    with pytest.raises(ValueError, match="is not a CVE ID"):
        render_cve5(
            snapshot,
            replace(snapshot.vulnerabilities[0], cve_id="CVE-26-1"),
            assigner_org_id=ORG_ID,
            assigner_short_name=SHORT_NAME,
        )
    vuln = replace(sample_vulns()[0], title="x" * 300)
    title = cve_record(vulnerabilities=(vuln,))["containers"]["cna"]["title"]
    assert title == "x" * 253 + "..."


@pytest.mark.parametrize("embargo_broken", [False, True])
def test_a_bare_advisory_renders_valid_everywhere(embargo_broken: bool) -> None:
    bare = replace(
        sample_vulns()[2],
        cve_id="",
        cwe="",
        cvss3_vector="",
        cvss3_score=None,
        affected=parse_affected(
            [
                {
                    "purl": "pkg:pypi/tmplkit",
                    "ranges": [{"introduced": "0"}, {"introduced": "1.0", "fixed": "1.0"}],
                },
                {"purl": "pkg:npm/tmplkit-js", "versions": ["1.0.0"]},
            ]
        ),
    )
    unlisted = replace(bare, osv_id="x_LOCKSTEP-2026-0007-2", affected=(), cve_id="CVE-2026-1000")
    snapshot = sample_snapshot(
        summary="",
        details="",
        timeline=(),
        embargo_broken=embargo_broken,
        vulnerabilities=(bare, unlisted, replace(unlisted, osv_id="x_3", cve_id="")),
    )
    docs = render_osv(snapshot)
    assert [schema_errors(OSV, doc) for doc in docs] == [[], [], []]
    assert docs[0]["affected"][1] == {
        "package": {"ecosystem": "npm", "name": "tmplkit-js", "purl": "pkg:npm/tmplkit-js"},
        "versions": ["1.0.0"],
    }
    assert {"aliases", "severity", "credits", "database_specific"}.isdisjoint(docs[0])
    assert docs[1]["aliases"] == ["CVE-2026-1000"]
    assert "affected" not in docs[1]
    record = render_cve5(snapshot, unlisted, assigner_org_id=ORG_ID, assigner_short_name=SHORT_NAME)
    assert schema_errors(CVE_RECORD, record) == []
    assert {"metrics", "credits", "timeline", "solutions"}.isdisjoint(record["containers"]["cna"])
    doc = render_csaf(snapshot)
    assert csaf_errors(doc) == []
    assert ("notes" in doc["document"]) is embargo_broken
    assert "aggregate_severity" not in doc["document"]
    first, second, third = doc["vulnerabilities"]
    open_range, _listed = first["product_status"]["known_affected"]  # the empty range is left out
    assert products(doc)[open_range][2]["name"] == "Tmplkit tmplkit vers:pypi/*"
    assert first["remediations"][0]["details"].endswith("all versions are affected.")
    assert "fixed" not in first["product_status"]  # 1.0 is "fixed" only by an empty range
    project = [p for p, (_, cat, _) in products(doc).items() if cat == "project"]
    assert second["product_status"]["known_affected"] == project
    assert third["product_status"]["known_affected"] == project
    assert {"scores", "references", "acknowledgments", "remediations"}.isdisjoint(second)
