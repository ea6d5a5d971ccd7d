"""OSV export: one OSV document per vulnerability of an advisory (OSV schema 1.7.5).

`render_osv(snapshot)` gives the documents; `query_response(docs)` wraps them the way the OSV
API answers `POST /v1/query` (`{"vulns": [...]}`).

Choices the schema leaves to the database (each one schema-valid):

- `id` is the vulnerability's `osv_id` (`x_LOCKSTEP-...`: `x_` marks a local database); the CVE ID,
  when there is one, is the only alias.
- `affected[].package` comes from the purl through `advisories.versions.ecosystem_for_purl`, the
  one table between purl types and OSV ecosystem names that the query API uses too (pypi ->
  PyPI, npm -> npm, cargo -> crates.io, gem -> RubyGems, maven -> Maven "group:artifact",
  golang -> Go "module/path", nuget -> NuGet, composer -> Packagist "vendor/name", hex -> Hex,
  pub -> Pub, cran -> CRAN, hackage -> Hackage, swift -> SwiftURL "host/owner/repo", conan,
  bioconductor and the Linux distributions). PyPI names are PEP 503-normalised, as OSV asks.
- One range object per stored range (`cases.affected`), with its events as stored, in order
  (a stored range never holds both `fixed` and `last_affected`). A stored `SEMVER` range stays
  `SEMVER`, a `GIT` range stays `GIT` with its `repo`. A stored `ECOSYSTEM` range becomes
  `SEMVER` for the ecosystems whose registries enforce SemVer 2.0 (npm, crates.io, Go, Hex,
  SwiftURL: the ones OSV.dev orders as SemVer; Pub is not among them) when every version of
  the package's ECOSYSTEM ranges parses as SemVer 2.0 (Go versions lose their leading "v", as
  in the Go vulnerability database); otherwise it stays `ECOSYSTEM`. The listed `versions` are
  copied as they are.
- Git-hosted purls (github, gitlab, bitbucket) use the `GIT` ecosystem with the repository URL as
  name. A GIT range, or a range whose versions are all full commit hashes (or "0"), becomes a
  `GIT` range on that repository. A range with other versions (usually tags) cannot be a valid
  `GIT` range and has no order OSV knows, so it is kept as stored in that entry's
  `database_specific.source_ranges`; listed versions (tags) go to `versions`, which OSV.dev
  matches for `GIT` packages.
- A purl type with no OSV ecosystem (generic, docker, cocoapods, ...) cannot be an `affected`
  entry, since `package.ecosystem` must be a known name. Such packages are listed, with their
  purl, ranges and versions exactly as stored, in the top-level
  `database_specific.unmapped_affected`, so no affected package is silently dropped.
- `database_specific.cwe_ids` carries the CWE (the key GitHub's advisory database uses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from packageurl import PackageURL

from lockstep.advisories.snapshot import AdvisorySnapshot, VulnSnapshot
from lockstep.advisories.versions import ecosystem_for_purl
from lockstep.cases.affected import (
    COMMIT,
    GIT_HOSTS,
    AffectedPackage,
    AffectedRange,
    RangeType,
    affected_to_json,
    repository_of,
)
from lockstep.cases.schemes import is_semver
from lockstep.cases.vulndata import parse_cvss

OSV_SCHEMA_VERSION = "1.7.5"

# Ecosystems that OSV.dev orders as SemVer 2.0 and whose registries enforce it.
SEMVER_ECOSYSTEMS = frozenset({"npm", "crates.io", "Go", "Hex", "SwiftURL"})

_PEP503 = re.compile(r"[-_.]+")


def render_osv(snapshot: AdvisorySnapshot) -> list[dict[str, Any]]:
    """One OSV document per vulnerability, in the snapshot's order."""
    return [_document(snapshot, vuln) for vuln in snapshot.vulnerabilities]


def query_response(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The body the OSV API gives for `POST /v1/query`: the matching documents under "vulns"."""
    return {"vulns": list(docs)}


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a "Z" ("2026-03-01T12:00:00Z"): what OSV requires, and what the
    CVE and CSAF renderers use too. Microseconds are kept when there are any."""
    if value.tzinfo is None:
        raise ValueError("OSV timestamps need an aware datetime.")
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text.removesuffix(".000000") + "Z"


def _document(snapshot: AdvisorySnapshot, vuln: VulnSnapshot) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": OSV_SCHEMA_VERSION,
        "id": vuln.osv_id,
        "modified": timestamp(snapshot.modified),
        "published": timestamp(snapshot.published),
    }
    if vuln.cve_id:
        doc["aliases"] = [vuln.cve_id]
    summary = " ".join(vuln.title.split())
    if summary:
        doc["summary"] = summary
    details = _details(snapshot, vuln)
    if details:
        doc["details"] = details
    severity = _severity(vuln)
    if severity:
        doc["severity"] = severity
    affected = [entry for entry in map(_affected, vuln.affected) if entry is not None]
    if affected:
        doc["affected"] = affected
    doc["references"] = _references(snapshot, vuln)
    if vuln.credits:
        doc["credits"] = [_credit(c.name, c.type.value, c.contact) for c in vuln.credits]
    specific = _database_specific(vuln)
    if specific:
        doc["database_specific"] = specific
    return doc


def _database_specific(vuln: VulnSnapshot) -> dict[str, Any]:
    """The CWE, and the packages no OSV ecosystem can name (as stored: purl, ranges, versions)."""
    specific: dict[str, Any] = {}
    if vuln.cwe:
        specific["cwe_ids"] = [vuln.cwe]
    unmapped = [p for p in vuln.affected if _affected(p) is None]
    if unmapped:
        specific["unmapped_affected"] = affected_to_json(tuple(unmapped))
    return specific


def _details(snapshot: AdvisorySnapshot, vuln: VulnSnapshot) -> str:
    """The vulnerability's description; a single-vulnerability advisory adds its full details."""
    description = vuln.description.strip()
    if len(snapshot.vulnerabilities) != 1:
        return description
    details = snapshot.details.strip()
    if not details or description in details:
        return details or description
    return f"{description}\n\n{details}"


def _severity(vuln: VulnSnapshot) -> list[dict[str, str]]:
    found = []
    if vuln.cvss3_vector:
        found.append({"type": "CVSS_V3", "score": parse_cvss(vuln.cvss3_vector).vector})
    if vuln.cvss4_vector:
        found.append({"type": "CVSS_V4", "score": parse_cvss(vuln.cvss4_vector).vector})
    return found


def _affected(package: AffectedPackage) -> dict[str, Any] | None:
    parsed = PackageURL.from_string(package.purl)
    if parsed.type in GIT_HOSTS:
        return _git_affected(package, parsed)
    mapped = ecosystem_for_purl(package.purl)
    if mapped is None:
        return None
    ecosystem, name = mapped
    if ecosystem == "PyPI":
        name = _PEP503.sub("-", name).lower()
    entry: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": name, "purl": package.purl}
    }
    if package.ranges:
        entry["ranges"] = _ranges(ecosystem, package)
    if package.versions:
        entry["versions"] = list(package.versions)
    return entry


def _ranges(ecosystem: str, package: AffectedPackage) -> list[dict[str, Any]]:
    linear = [r for r in package.ranges if r.type is RangeType.ECOSYSTEM]
    auto, convert = range_kind(ecosystem, [v for r in linear for v in r.bounds])
    found: list[dict[str, Any]] = []
    for span_range in package.ranges:
        if span_range.type is RangeType.GIT:
            found.append(_git_range(package, span_range))
        elif span_range.type is RangeType.SEMVER:
            found.append({"type": "SEMVER", "events": _events(span_range, _same)})
        else:
            found.append({"type": auto, "events": _events(span_range, convert)})
    return found


def _git_range(package: AffectedPackage, span_range: AffectedRange) -> dict[str, Any]:
    repo = repository_of(package, span_range)
    return {"type": "GIT", "repo": repo, "events": _events(span_range, _same)}


def repository_url(parsed: PackageURL) -> str:
    """The clone URL of a git-hosted purl (pkg:github/owner/repo -> https://github.com/owner/repo)."""
    path = "/".join(part for part in (parsed.namespace, parsed.name) if part)
    return f"{GIT_HOSTS[parsed.type]}/{path}"


def is_commit_range(span_range: AffectedRange) -> bool:
    """Whether the range is GIT, or every version in it is a full git commit hash (or "0")."""
    return span_range.type is RangeType.GIT or all(
        v == "0" or COMMIT.match(v) for v in span_range.bounds
    )


def _git_affected(package: AffectedPackage, parsed: PackageURL) -> dict[str, Any]:
    repo = repository_url(parsed)
    entry: dict[str, Any] = {"package": {"ecosystem": "GIT", "name": repo, "purl": package.purl}}
    commits = [r for r in package.ranges if is_commit_range(r)]
    others = [r for r in package.ranges if not is_commit_range(r)]
    if commits:
        entry["ranges"] = [
            {"type": "GIT", "repo": r.repo or repo, "events": _events(r, _same)} for r in commits
        ]
    if package.versions:
        entry["versions"] = list(package.versions)
    if others:
        stored = affected_to_json((AffectedPackage(package.purl, tuple(others)),))
        entry["database_specific"] = {"source_ranges": stored[0]["ranges"]}
    return entry


def _same(version: str) -> str:
    return version


def _drop_v(version: str) -> str:
    return version[1:] if version[:1] == "v" and version[1:2].isdigit() else version


def range_kind(ecosystem: str, bounds: Iterable[str]) -> tuple[str, Callable[[str], str]]:
    """SEMVER (with its version spelling) when the ecosystem and every version allow it."""
    if ecosystem in SEMVER_ECOSYSTEMS:
        convert = _drop_v if ecosystem == "Go" else _same
        if all(b in {"0", "*"} or is_semver(convert(b)) for b in bounds):
            return "SEMVER", convert
    return "ECOSYSTEM", _same


def _events(span_range: AffectedRange, convert: Callable[[str], str]) -> list[dict[str, str]]:
    return [
        {e.kind.value: e.version if e.version in {"0", "*"} else convert(e.version)}
        for e in span_range.events
    ]


def _references(snapshot: AdvisorySnapshot, vuln: VulnSnapshot) -> list[dict[str, str]]:
    """The advisory page first, then the vulnerability's own references (each URL once)."""
    found = [{"type": "ADVISORY", "url": snapshot.url}]
    seen = {snapshot.url}
    for ref in vuln.references:
        if ref.url not in seen:
            seen.add(ref.url)
            found.append({"type": ref.type.value, "url": ref.url})
    return found


def _credit(name: str, kind: str, contact: tuple[str, ...]) -> dict[str, Any]:
    credit: dict[str, Any] = {"name": name, "type": kind}
    if contact:
        credit["contact"] = list(contact)
    return credit
