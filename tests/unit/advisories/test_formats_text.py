"""The plain-text renderings: public post, changelog entry, release announcement."""

from __future__ import annotations

import re
from dataclasses import replace

from lockstep.advisories.formats.text import (
    WIDTH,
    block,
    render_announcement,
    render_changelog,
    render_public_post,
    unbreakable,
    wrap,
)
from lockstep.advisories.snapshot import AdvisorySnapshot
from tests.unit.advisories.formats_support import DETAILS, sample_snapshot, sample_vulns

CVE = re.compile(r"CVE-\d{4}-\d{4,}")


def overlong(text: str) -> list[str]:
    """Lines wider than WIDTH that hold no URL, Package URL or CVSS vector (should be none)."""
    return [
        line
        for line in text.splitlines()
        if len(line) > WIDTH and not any(unbreakable(word) for word in line.split())
    ]


def words(text: str) -> list[str]:
    return text.split()


def assert_no_invented_cve(text: str, snapshot: AdvisorySnapshot) -> None:
    assert set(CVE.findall(text)) <= set(snapshot.cve_ids)


def test_post_subject_names_project_title_and_cve_ids() -> None:
    subject, _ = render_public_post(sample_snapshot())
    assert subject == (
        "Tmplkit: Tmplkit: sandbox escapes in the template engine "
        "(CVE-2026-31337, CVE-2026-31338, CVE ID pending)"
    )


def test_post_body_carries_everything_inline() -> None:
    snapshot = sample_snapshot()
    _, body = render_public_post(snapshot)
    flat = " ".join(body.split())
    # The full details, not only a link: every word, in order.
    assert " ".join(words(DETAILS)) in flat
    # A preformatted line that fits is kept as it is.
    assert '\n       {{ "{0.__init__.__globals__[SECRET_KEY]}" | format(user) }}\n' in body
    assert " ".join(words(snapshot.summary)) in flat
    for vuln in snapshot.vulnerabilities:
        assert " ".join(words(vuln.description)) in flat
        assert vuln.title in flat
        assert vuln.osv_id in body
        for ref in vuln.references:
            assert ref.url in body
        for credit in vuln.credits:
            assert credit.name in body
    for cve in ("CVE-2026-31337", "CVE-2026-31338"):
        assert cve in body
    assert "CVE ID:   CVE ID pending" in body
    assert "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" in body
    assert "9.8 (Critical)" in body
    assert "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" in body
    assert "CWE-787: Out-of-bounds Write" in body
    assert "CWE:      CWE-99999" in body
    assert snapshot.url in body
    assert_no_invented_cve(body, snapshot)


def test_post_lists_affected_and_fixed_versions_per_package() -> None:
    _, body = render_public_post(sample_snapshot())
    assert "tmplkit-core (PyPI) pkg:pypi/tmplkit-core" in body
    assert "affected: >=1.0.0, <=1.9.7; no fixed version named" in body
    assert "affected: >=2.0.0, <2.4.1; fixed in 2.4.1" in body
    assert "affected versions: 3.0.0rc1" in body
    assert "fixed versions: 2.4.1, 3.0.2" in body
    assert "affected: all versions" not in body
    assert "affected: >=2.0; no fixed version" in body  # tmplkit-cli: open range


def test_post_timeline_is_in_order() -> None:
    _, body = render_public_post(sample_snapshot())
    timeline = body.split("Timeline\n========\n", 1)[1]
    assert timeline.index("2026-01-12 09:30 UTC  Reported to Tmplkit.") < timeline.index(
        "2026-03-10 14:00 UTC  Public disclosure."
    )


def test_post_lines_fit_in_72_columns() -> None:
    _, body = render_public_post(sample_snapshot())
    assert overlong(body) == []
    long_lines = [line for line in body.splitlines() if len(line) > WIDTH]
    assert long_lines  # the CVSS 4.0 vectors are longer; they stay whole
    assert all("CVSS:4.0/" in line or "://" in line for line in long_lines)


def test_post_says_when_the_embargo_ended_early() -> None:
    _, body = render_public_post(sample_snapshot(embargo_broken=True))
    assert "embargo ended early" in " ".join(body.split())


def test_post_without_any_cve_id_never_makes_one_up() -> None:
    vulns = tuple(replace(v, cve_id="") for v in sample_vulns())
    snapshot = sample_snapshot(vulnerabilities=vulns)
    subject, body = render_public_post(snapshot)
    assert subject.endswith("(CVE ID pending)")
    assert "CVE IDs:   CVE ID pending" in body
    assert CVE.findall(subject + body) == []


def test_wrap_keeps_urls_and_vectors_whole_and_cuts_other_long_words() -> None:
    url = "https://example.org/" + "a" * 90
    lines = wrap(f"See {url} now, and {'q' * 100} too.", first="  ")
    assert f"  {url}" in lines
    assert all(len(line) <= WIDTH for line in lines if url not in line)
    assert "".join(line.strip() for line in lines).count("q") == 100


def test_block_keeps_short_lines_and_wraps_long_ones_at_their_indentation() -> None:
    text = "Short line.\n\n    code()  # indented\n" + "    " + "word " * 30
    lines = block(text, indent="  ")
    assert lines[:3] == ["  Short line.", "", "      code()  # indented"]
    assert all(line.startswith("      ") and len(line) <= WIDTH for line in lines[3:])


def test_changelog_has_one_bullet_per_vulnerability() -> None:
    snapshot = sample_snapshot()
    text = render_changelog(snapshot, version="3.0.2")
    assert text.startswith("Tmplkit 3.0.2\n-------------\n")
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(bullets) == len(snapshot.vulnerabilities)
    flat = " ".join(text.split())
    assert "- Fix Heap buffer overflow in the template expression parser (CVE-2026-31337)." in flat
    assert "(CVE-2026-31338)" in flat
    assert "- Fix Denial of service through deeply nested loops (CVE ID pending)." in flat
    assert "The expression parser copies attribute names" in flat
    assert "Severity: Critical (CVSS 3.1 base score 9.8; CVSS 4.0 base score 9.3)." in flat
    assert "Credit: Ana Ruiz (found the vulnerability)" in flat
    assert snapshot.url in text
    assert overlong(text) == []
    assert_no_invented_cve(text, snapshot)


def test_changelog_short_description_is_the_first_sentence() -> None:
    vuln = replace(sample_vulns()[0], description="First sentence. " + "More words here. " * 40)
    text = render_changelog(sample_snapshot(vulnerabilities=(vuln,)), version="3.0.2")
    assert "First sentence." in text
    assert "More words here" not in text


def test_announcement_names_cves_severity_upgraders_and_credits() -> None:
    snapshot = sample_snapshot()
    text = render_announcement(snapshot, version="3.0.2")
    flat = " ".join(text.split())
    assert text.startswith("Tmplkit 3.0.2 released with security fixes\n")
    assert "It fixes 3 security vulnerabilities." in flat
    assert "The most severe is rated Critical (CVSS 3.1 base score 9.8)." in flat
    assert "- CVE-2026-31337: Heap buffer overflow in the template expression parser" in flat
    assert "- CVE-2026-31338: Sandbox escape" in flat
    assert "- CVE ID pending: Denial of service through deeply nested loops" in flat
    assert "Severity: Medium (CVSS 3.1 base score 4.3)" in flat
    assert "Everyone who uses an affected version should upgrade to 3.0.2:" in flat
    assert (
        "- tmplkit-core (PyPI): >=1.0.0, <=1.9.7; >=2.0.0, <2.4.1; >=3.0.0, <3.0.2; 3.0.0rc1 "
        "(fixed in 2.4.1, 3.0.2)"
    ) in flat
    assert "- tmplkit (crates.io): >=0.3.0, <0.3.9; 0.3.8 (fixed in 0.3.9)" in flat
    assert "Ana Ruiz (found the vulnerability)" in flat
    assert "Ana Ruiz (reported the vulnerability)" in flat
    assert snapshot.url in text
    assert overlong(text) == []
    assert_no_invented_cve(text, snapshot)


def test_announcement_for_unscored_vulnerability_without_packages() -> None:
    vuln = replace(
        sample_vulns()[2], cvss3_vector="", cvss3_score=None, affected=(), credits=(), cve_id=""
    )
    text = render_announcement(sample_snapshot(vulnerabilities=(vuln,)), version="0.4.0")
    flat = " ".join(text.split())
    assert "It fixes 1 security vulnerability." in flat
    assert "Severity: not scored" in flat
    assert "Everyone who uses Tmplkit should upgrade to 0.4.0." in flat
    assert "Credits" not in text
    assert CVE.findall(text) == []


def test_texts_of_an_advisory_without_vulnerabilities() -> None:
    snapshot = sample_snapshot(vulnerabilities=())
    subject, body = render_public_post(snapshot)
    assert subject == "Tmplkit: Tmplkit: sandbox escapes in the template engine"
    assert "CVE IDs:   none" in body
    assert "It fixes 0 security vulnerabilities." in render_announcement(snapshot, version="1")


def test_changelog_cuts_a_long_first_sentence() -> None:
    vuln = replace(sample_vulns()[0], description="word " * 100)
    text = render_changelog(sample_snapshot(vulnerabilities=(vuln,)), version="3.0.2")
    bullet = " ".join(text.split("\n\n")[2].split())
    assert bullet.count("word") < 60
    assert "word... Severity" in bullet


def test_texts_of_a_bare_vulnerability() -> None:
    bare = replace(
        sample_vulns()[2],
        cve_id="",
        cwe="",
        description=" ",
        cvss3_vector="",
        cvss3_score=None,
        affected=(),
    )
    snapshot = sample_snapshot(vulnerabilities=(bare,), timeline=(), embargo_broken=True)
    _, body = render_public_post(snapshot)
    assert "Timeline" not in body
    assert "CWE:" not in body
    assert "CVSS" not in body
    assert "Not given as package versions; see the details." in body
    changelog = render_changelog(snapshot, version="0.3.9")
    assert "- Fix Denial of service through deeply nested loops (CVE ID pending).\n" in changelog
    announcement = " ".join(render_announcement(snapshot, version="0.3.9").split())
    assert "It comes earlier than planned because the issue became public." in announcement
