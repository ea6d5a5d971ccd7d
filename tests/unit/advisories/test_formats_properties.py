"""Properties: every valid snapshot renders to schema-valid OSV, CVE JSON 5 and CSAF 2.0, and to
text that names every CVE ID and keeps to 72 columns."""

from __future__ import annotations

from hypothesis import given, settings

from lockstep.advisories.formats.csaf import render_csaf
from lockstep.advisories.formats.cve5 import cna_container, render_cve5
from lockstep.advisories.formats.osv import render_osv
from lockstep.advisories.formats.text import (
    WIDTH,
    render_announcement,
    render_changelog,
    render_public_post,
    unbreakable,
)
from lockstep.advisories.snapshot import AdvisorySnapshot
from tests.unit.advisories.formats_support import (
    CNA_PUBLISHED,
    CVE_RECORD,
    ORG_ID,
    OSV,
    SHORT_NAME,
    csaf_errors,
    is_date_time,
    is_uri,
    schema_errors,
    snapshots,
)

EXAMPLES = settings(max_examples=40, deadline=None)


def test_the_format_checkers_do_check() -> None:
    # jsonschema skips formats it has no checker for; these must not be skipped.
    assert is_date_time("2026-03-10T14:00:00Z")
    assert is_date_time("2026-03-10T14:00:00.25+02:00")
    assert not is_date_time("2026-03-10 14:00:00Z")
    assert not is_date_time("2026-02-30T14:00:00Z")
    assert is_uri("https://example.org/a?b=c#d")
    assert is_uri("pkg:npm/%40scope/name@1.0.0")
    assert not is_uri("https://example.org/a b")
    assert not is_uri("no-scheme")
    assert not is_uri("https://example.org/%zz")
    assert schema_errors(OSV, {"id": "x_A", "modified": "2026-03-10 14:00:00Z"}) != []


@EXAMPLES
@given(snapshots())
def test_osv_output_is_always_schema_valid(snapshot: AdvisorySnapshot) -> None:
    docs = render_osv(snapshot)
    assert len(docs) == len(snapshot.vulnerabilities)
    for doc in docs:
        assert schema_errors(OSV, doc) == []


@EXAMPLES
@given(snapshots())
def test_cve_records_are_always_schema_valid(snapshot: AdvisorySnapshot) -> None:
    for vuln in snapshot.vulnerabilities:
        if not vuln.cve_id:
            continue
        record = render_cve5(snapshot, vuln, assigner_org_id=ORG_ID, assigner_short_name=SHORT_NAME)
        assert schema_errors(CVE_RECORD, record) == []
        assert schema_errors(CNA_PUBLISHED, cna_container(record)) == []


@EXAMPLES
@given(snapshots())
def test_csaf_output_always_passes_the_mandatory_tests(snapshot: AdvisorySnapshot) -> None:
    assert csaf_errors(render_csaf(snapshot)) == []


@EXAMPLES
@given(snapshots())
def test_text_names_every_cve_and_fits_in_72_columns(snapshot: AdvisorySnapshot) -> None:
    subject, post = render_public_post(snapshot)
    changelog = render_changelog(snapshot, version="9.9.9")
    announcement = render_announcement(snapshot, version="9.9.9")
    for text in (post, changelog, announcement):
        for cve in snapshot.cve_ids:
            assert cve in text
        if any(not v.cve_id for v in snapshot.vulnerabilities):
            assert "CVE ID pending" in text
        for line in text.splitlines():
            assert len(line) <= WIDTH or any(unbreakable(w) for w in line.split()), line
    for cve in snapshot.cve_ids:
        assert cve in subject
    assert " ".join(snapshot.details.split()) in " ".join(post.split())
