"""Shared by the advisory format tests: the official schemas as validators, a realistic
snapshot, and Hypothesis strategies for valid snapshots."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cvelib
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator

from lockstep.advisories.formats.cwe import CWE_NAMES
from lockstep.advisories.snapshot import AdvisorySnapshot, TimelineEntry, VulnSnapshot
from lockstep.cases.affected import parse_affected
from lockstep.cases.vulndata import (
    CreditType,
    ReferenceType,
    parse_credits,
    parse_cvss,
    parse_references,
)

ROOT = Path(__file__).resolve().parents[3]
OSV_SCHEMA_PATH = ROOT / "tests" / "fixtures" / "schemas" / "osv-schema.json"
CVELIB_SCHEMAS = Path(cvelib.__file__).parent / "schemas"
ORG_ID = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"
SHORT_NAME = "lockstep-test"

# ---------------------------------------------------------------------------------------------
# Formats. jsonschema checks "date-time" and "uri" only with optional packages that are not
# installed here, so these two checkers are ours (RFC 3339 section 5.6, RFC 3986 absolute URI).

_DATE_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

FORMATS = FormatChecker()


@FORMATS.checks("date-time")
def is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


@FORMATS.checks("uri")
def is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_URI.match(value)) and not _BAD_ESCAPE.search(value)


def _validator(cls: Any, path: Path) -> Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=FORMATS)
    return validator


OSV = _validator(Draft202012Validator, OSV_SCHEMA_PATH)
CVE_RECORD = _validator(Draft7Validator, CVELIB_SCHEMAS / "CVE_JSON_bundled_5.1.1.json")
CNA_PUBLISHED = _validator(
    Draft7Validator, CVELIB_SCHEMAS / "CVE_JSON_cnaPublishedContainer_5.1.1.json"
)


def schema_errors(validator: Validator, instance: object) -> list[str]:
    """Every error, with the path to the value at fault (empty when the instance is valid)."""
    return sorted(
        f"/{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(instance)
    )


def csaf_errors(doc: dict[str, Any]) -> list[str]:
    """Failures of the csaf package's schema check and mandatory tests (preset "basic")."""
    from csaf.csaf.v20 import validate  # noqa: PLC0415 - heavy import, only where used

    report = validate(doc, preset="basic")
    failures = [
        f"{result.id} {error.instance_path}: {error.message}"
        for result in report.results
        if not result.passed and not result.skipped
        for error in result.errors
    ]
    assert report.overall_valid == (not failures), failures
    return failures


# ---------------------------------------------------------------------------------------------
# A realistic advisory: three vulnerabilities, several ecosystems.

PUBLISHED = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
COMMIT = "4f2a9c1e0b7d3a5f6e8c9b1a2d3e4f5a6b7c8d9e"
V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N"
V4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:P"
DETAILS = """\
Tmplkit renders user-supplied templates in a sandbox. Two flaws let a template escape it.

1. The expression parser copies attribute names into a fixed buffer without checking their
   length. A name longer than 256 bytes overwrites the parser's state.

2. The `|format` filter forwards its argument to the host's string formatting, which can read
   attributes of any object reachable from the template context, including configuration
   secrets. A template such as

       {{ "{0.__init__.__globals__[SECRET_KEY]}" | format(user) }}

   prints the application's secret key.

Both are fixed in 2.4.1 and 3.0.2. The 1.x series is no longer maintained; its last release,
1.9.7, is affected and will not be fixed. See https://docs.tmplkit.example/security/sandbox.html
for the sandbox's design.
"""


def sample_vulns() -> tuple[VulnSnapshot, ...]:
    overflow = VulnSnapshot(
        osv_id="x_LOCKSTEP-2026-0007-1",
        title="Heap buffer overflow in the template expression parser",
        description=(
            "The expression parser copies attribute names into a fixed 256-byte buffer "
            "without checking their length. A crafted template overwrites the parser's state, "
            "which can lead to code execution in the rendering process."
        ),
        cve_id="CVE-2026-31337",
        cwe="CWE-787",
        cvss3_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss3_score=9.8,
        cvss4_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        cvss4_score=9.3,
        affected=parse_affected(
            [
                {
                    "purl": "pkg:pypi/Tmplkit_Core",
                    "ranges": [
                        {"introduced": "1.0.0", "last_affected": "1.9.7"},
                        {"introduced": "2.0.0", "fixed": "2.4.1"},
                        {"introduced": "3.0.0", "fixed": "3.0.2"},
                    ],
                    "versions": ["3.0.0rc1"],
                },
                {
                    "purl": "pkg:npm/%40tmplkit/wasm",
                    "ranges": [{"introduced": "0", "fixed": "3.0.2"}],
                },
                {
                    "purl": "pkg:github/tmplkit/tmplkit",
                    "ranges": [
                        {"introduced": "0", "fixed": COMMIT},
                        {"introduced": "v3.0.0", "fixed": "v3.0.2"},
                    ],
                    "versions": ["v3.0.0", "v3.0.1"],
                },
            ]
        ),
        references=parse_references(
            [
                {"type": "FIX", "url": f"https://github.com/tmplkit/tmplkit/commit/{COMMIT}"},
                {"type": "REPORT", "url": "https://github.com/tmplkit/tmplkit/issues/4242"},
                {"type": "WEB", "url": "https://docs.tmplkit.example/security/sandbox.html"},
            ]
        ),
        credits=parse_credits(
            [
                {"name": "Ana Ruiz", "type": "FINDER", "contact": ["https://ana.example/"]},
                {"name": "Fuzzer Example Ltd.", "type": "TOOL"},
                {"name": "Björn Åkesson", "type": "REMEDIATION_DEVELOPER"},
            ]
        ),
    )
    leak = VulnSnapshot(
        osv_id="x_LOCKSTEP-2026-0007-2",
        title="Sandbox escape through the format filter exposes application secrets",
        description=(
            "The `|format` filter forwards its argument to the host's string formatting. A "
            "template can read attributes of any object reachable from its context."
        ),
        cve_id="CVE-2026-31338",
        cwe="CWE-1336",
        cvss3_vector=V3,
        cvss3_score=9.1,
        cvss4_vector=V4,
        cvss4_score=8.8,
        affected=parse_affected(
            [
                {
                    "purl": "pkg:pypi/tmplkit-core",
                    "ranges": [
                        {"introduced": "2.0.0", "fixed": "2.4.1"},
                        {"introduced": "3.0.0", "fixed": "3.0.2"},
                    ],
                },
                {
                    "purl": "pkg:maven/org.tmplkit/tmplkit-jvm",
                    "ranges": [{"introduced": "2.0", "fixed": "2.4.1"}],
                },
                {
                    "purl": "pkg:golang/github.com/tmplkit/tmplkit-go",
                    "ranges": [{"introduced": "v2.0.0", "fixed": "v2.4.1"}],
                },
                {"purl": "pkg:generic/tmplkit-cli", "ranges": [{"introduced": "2.0"}]},
            ]
        ),
        references=parse_references(
            [{"type": "EVIDENCE", "url": "https://gist.example/ana/0123456789abcdef"}]
        ),
        credits=parse_credits([{"name": "Ana Ruiz", "type": "REPORTER"}]),
    )
    dos = VulnSnapshot(
        osv_id="x_LOCKSTEP-2026-0007-3",
        title="Denial of service through deeply nested loops",
        description="Deeply nested `for` loops exhaust the renderer's stack.",
        cwe="CWE-99999",
        cvss3_vector="CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:L",
        cvss3_score=4.3,
        affected=parse_affected(
            [
                {
                    "purl": "pkg:cargo/tmplkit",
                    "ranges": [{"introduced": "0.3.0", "fixed": "0.3.9"}],
                    "versions": ["0.3.8"],
                }
            ]
        ),
    )
    return (overflow, leak, dos)


def sample_snapshot(**changes: Any) -> AdvisorySnapshot:
    values: dict[str, Any] = {
        "id": "LOCKSTEP-2026-0007",
        "title": "Tmplkit: sandbox escapes in the template engine",
        "summary": "Crafted templates can escape Tmplkit's sandbox: memory corruption and "
        "disclosure of application secrets. Upgrade to 2.4.1 or 3.0.2.",
        "details": DETAILS,
        "project_name": "Tmplkit",
        "published": PUBLISHED,
        "modified": PUBLISHED,
        "url": "https://lockstep.example/advisories/LOCKSTEP-2026-0007/",
        "publisher_name": "Lockstep Example",
        "publisher_url": "https://lockstep.example",
        "vulnerabilities": sample_vulns(),
        "timeline": (
            TimelineEntry(datetime(2026, 1, 12, 9, 30, tzinfo=UTC), "Reported to Tmplkit."),
            TimelineEntry(datetime(2026, 1, 13, 10, 0, tzinfo=UTC), "Coordination started."),
            TimelineEntry(
                datetime(2026, 2, 2, 16, 0, tzinfo=UTC),
                "Shared under embargo with the distributions list.",
            ),
            TimelineEntry(PUBLISHED, "Public disclosure."),
        ),
    }
    values.update(changes)
    return AdvisorySnapshot(**values)


# ---------------------------------------------------------------------------------------------
# Hypothesis: valid snapshots, built through the same parsers the application uses.

_NAMESPACES: dict[str, st.SearchStrategy[str | None]] = {
    "maven": st.sampled_from(["org.example", "io.github.someone"]),
    "golang": st.sampled_from(["github.com/example", "golang.org/x"]),
    "composer": st.sampled_from(["acme", "symfony"]),
    "swift": st.sampled_from(["github.com/apple", "github.com/example"]),
    "github": st.sampled_from(["example", "some-org"]),
    "gitlab": st.sampled_from(["example", "group"]),
    "npm": st.sampled_from([None, "@scope"]),
    "deb": st.just("debian"),
}
PURL_TYPES = [
    *["pypi", "npm", "cargo", "gem", "maven", "golang", "nuget", "composer", "hex", "pub"],
    *["cran", "hackage", "swift", "github", "gitlab", "generic", "deb", "conan", "docker"],
]
_NAME = st.from_regex(r"[a-z][a-z0-9]{0,8}(?:[-_.][a-z0-9]{1,5})?", fullmatch=True)


@st.composite
def purls(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(PURL_TYPES))
    namespace = draw(_NAMESPACES.get(kind, st.none()))
    name = draw(_NAME)
    return f"pkg:{kind}/{namespace}/{name}" if namespace else f"pkg:{kind}/{name}"


_ODD = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S"], exclude_characters=" "),
    min_size=1,
    max_size=12,
)
VERSIONS = st.one_of(
    st.from_regex(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)", fullmatch=True),
    st.from_regex(r"v?[1-9]\.[0-9]{1,2}(\.[0-9])?(-(rc|beta)\.[1-9])?(\+b[0-9])?", fullmatch=True),
    st.from_regex(r"[0-9a-f]{40}", fullmatch=True),
    st.sampled_from(["1.x", "2.*", "<3", "before-2", "2024-01-01", "1.0.post1", "r1234"]),
    _ODD,
)


@st.composite
def version_ranges(draw: st.DrawFn) -> dict[str, str]:
    span = {"introduced": draw(st.one_of(st.just("0"), VERSIONS))}
    end = draw(st.sampled_from(["fixed", "last_affected", None]))
    if end is not None:
        same = draw(st.integers(0, 9)) == 0  # an empty (or one-version) range, now and then
        span[end] = span["introduced"] if same else draw(VERSIONS)
    return span


@st.composite
def packages(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = draw(st.lists(purls(), max_size=3, unique=True))
    result = []
    for purl in found:
        ranges = draw(st.lists(version_ranges(), max_size=3))
        versions = draw(st.lists(VERSIONS, min_size=0 if ranges else 1, max_size=3, unique=True))
        result.append({"purl": purl, "ranges": ranges, "versions": versions})
    return result


_TEXT = st.characters(categories=["L", "N", "P", "S", "Zs"])
TITLES = st.text(alphabet=_TEXT, min_size=1, max_size=100).filter(str.strip)
PROSE = st.text(alphabet=st.one_of(_TEXT, st.just("\n")), max_size=500)
URLS = st.builds(
    "https://{}/{}".format,
    st.sampled_from(["example.org", "git.example.com", "lists.example.net"]),
    st.from_regex(r"[a-z0-9_/-]{0,30}", fullmatch=True),
)
_V3_EXTRA = ["", "/E:P/RL:O/RC:C", "/E:U", "/CR:H/IR:L/AR:M/MAV:L/MAC:H/MPR:N/MUI:R/MS:C/MC:L"]
_V4_EXTRA = ["", "/E:A", "/E:P/CR:H/IR:M/AR:L", "/MAV:A/MSI:S/S:P/AU:Y/R:A/V:D/RE:L/U:Amber"]
V3_VECTORS = st.builds(
    "CVSS:3.1/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}{}".format,
    *(st.sampled_from(v) for v in ["NALP", "LH", "NLH", "NR", "UC", "HLN", "HLN", "HLN"]),
    st.sampled_from(_V3_EXTRA),
)
V4_VECTORS = st.builds(
    "CVSS:4.0/AV:{}/AC:{}/AT:{}/PR:{}/UI:{}/VC:{}/VI:{}/VA:{}/SC:{}/SI:{}/SA:{}{}".format,
    *(st.sampled_from(v) for v in ["NALP", "LH", "NP", "NLH", "NPA", *["HLN"] * 6]),
    st.sampled_from(_V4_EXTRA),
)
CWES = st.one_of(st.just(""), st.sampled_from(sorted(CWE_NAMES)), st.just("CWE-99999"))


@st.composite
def vulns(draw: st.DrawFn, osv_id: str, cve_id: str) -> VulnSnapshot:
    v3 = draw(st.one_of(st.just(""), V3_VECTORS))
    v4 = draw(st.one_of(st.just(""), V4_VECTORS))
    refs = draw(
        st.lists(
            st.builds(dict, type=st.sampled_from(list(ReferenceType)), url=URLS),
            max_size=3,
            unique_by=lambda r: (r["type"], r["url"]),
        )
    )
    credits_ = draw(
        st.lists(
            st.builds(
                dict,
                name=TITLES,
                type=st.sampled_from(list(CreditType)),
                contact=st.lists(URLS, max_size=2),
            ),
            max_size=3,
        )
    )
    return VulnSnapshot(
        osv_id=osv_id,
        title=draw(TITLES),
        description=draw(PROSE),
        cve_id=cve_id,
        cwe=draw(CWES),
        cvss3_vector=v3,
        cvss3_score=parse_cvss(v3).base_score if v3 else None,
        cvss4_vector=v4,
        cvss4_score=parse_cvss(v4).base_score if v4 else None,
        affected=parse_affected(draw(packages())),
        references=parse_references([dict(r, type=r["type"].value) for r in refs]),
        credits=parse_credits([dict(c, type=c["type"].value) for c in credits_]),
    )


@st.composite
def snapshots(draw: st.DrawFn) -> AdvisorySnapshot:
    count = draw(st.integers(min_value=1, max_value=3))
    numbers = draw(
        st.lists(st.integers(1000, 9_999_999), min_size=count, max_size=count, unique=True)
    )
    with_cve = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    items = tuple(
        draw(vulns(f"x_LOCKSTEP-2026-0042-{n + 1}", f"CVE-2026-{number}" if has else ""))
        for n, (number, has) in enumerate(zip(numbers, with_cve, strict=True))
    )
    published = draw(
        st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001 - bounds of a strategy
    )
    later = draw(st.sampled_from([timedelta(0), timedelta(days=3, microseconds=250)]))
    timeline = draw(
        st.lists(
            st.builds(
                TimelineEntry,
                at=st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1), timezones=st.just(UTC)),  # noqa: DTZ001
                text=TITLES,
            ),
            max_size=4,
        )
    )
    return AdvisorySnapshot(
        id="LOCKSTEP-2026-0042",
        title=draw(TITLES),
        summary=draw(PROSE),
        details=draw(PROSE),
        project_name=draw(TITLES),
        published=published,
        modified=published + later,
        url="https://lockstep.example/advisories/LOCKSTEP-2026-0042/",
        publisher_name=draw(TITLES),
        publisher_url="https://lockstep.example",
        vulnerabilities=items,
        timeline=tuple(timeline),
        embargo_broken=draw(st.booleans()),
    )
