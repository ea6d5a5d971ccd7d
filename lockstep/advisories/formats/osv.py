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
- Ranges are `SEMVER` for the ecosystems whose registries enforce SemVer 2.0 (npm, crates.io,
  Go, Hex, SwiftURL: the ones OSV.dev orders as SemVer; Pub is not among them) when every
  bound parses as SemVer 2.0 (Go bounds lose their leading "v", as in the Go vulnerability
  database); otherwise `ECOSYSTEM`. One range object per stored range, so `fixed` and
  `last_affected` never share one. The listed `versions` are copied as they are.
- Git-hosted purls (github, gitlab, bitbucket) use the `GIT` ecosystem with the repository URL as
  name. A range whose bounds are all full commit hashes (or "0") becomes a `GIT` range on that
  repository. A range with other bounds (usually tags) cannot be a valid `GIT` range and has no
  order OSV knows, so it is kept verbatim in that entry's `database_specific.source_ranges`;
  listed versions (tags) go to `versions`, which OSV.dev matches for `GIT` packages.
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
from lockstep.cases.vulndata import AffectedPackage, VersionRange, affected_to_json, parse_cvss

OSV_SCHEMA_VERSION = "1.7.5"

# Ecosystems that OSV.dev orders as SemVer 2.0 and whose registries enforce it.
SEMVER_ECOSYSTEMS = frozenset({"npm", "crates.io", "Go", "Hex", "SwiftURL"})

# Git hosting purl types: their packages are repositories, named by their clone URL.
GIT_HOSTS = {
    "github": "https://github.com",
    "gitlab": "https://gitlab.com",
    "bitbucket": "https://bitbucket.org",
}

# SemVer 2.0.0, as given by semver.org (no leading "v").
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
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
        kind, convert = range_kind(ecosystem, package.ranges)
        entry["ranges"] = [{"type": kind, "events": _events(r, convert)} for r in package.ranges]
    if package.versions:
        entry["versions"] = list(package.versions)
    return entry


def repository_url(parsed: PackageURL) -> str:
    """The clone URL of a git-hosted purl (pkg:github/owner/repo -> https://github.com/owner/repo)."""
    path = "/".join(part for part in (parsed.namespace, parsed.name) if part)
    return f"{GIT_HOSTS[parsed.type]}/{path}"


def is_commit_range(span: VersionRange) -> bool:
    """Whether every bound of the range is a full git commit hash ("0" may open it)."""
    bounds = [span.fixed or span.last_affected] if span.fixed or span.last_affected else []
    return (span.introduced == "0" or bool(_COMMIT.match(span.introduced))) and all(
        _COMMIT.match(bound) for bound in bounds
    )


def _git_affected(package: AffectedPackage, parsed: PackageURL) -> dict[str, Any]:
    repo = repository_url(parsed)
    entry: dict[str, Any] = {"package": {"ecosystem": "GIT", "name": repo, "purl": package.purl}}
    commits = [r for r in package.ranges if is_commit_range(r)]
    others = [r for r in package.ranges if not is_commit_range(r)]
    if commits:
        entry["ranges"] = [
            {"type": "GIT", "repo": repo, "events": _events(r, _same)} for r in commits
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


def is_semver(version: str) -> bool:
    return bool(_SEMVER.match(version))


def range_kind(
    ecosystem: str, ranges: tuple[VersionRange, ...]
) -> tuple[str, Callable[[str], str]]:
    """SEMVER (with its version spelling) when the ecosystem and every bound allow it."""
    if ecosystem in SEMVER_ECOSYSTEMS:
        convert = _drop_v if ecosystem == "Go" else _same
        bounds = [b for r in ranges for b in (r.introduced, r.fixed, r.last_affected) if b]
        if all(b == "0" or is_semver(convert(b)) for b in bounds):
            return "SEMVER", convert
    return "ECOSYSTEM", _same


def _events(span: VersionRange, convert: Callable[[str], str]) -> list[dict[str, str]]:
    introduced = span.introduced if span.introduced == "0" else convert(span.introduced)
    events = [{"introduced": introduced}]
    if span.fixed:
        events.append({"fixed": convert(span.fixed)})
    elif span.last_affected:
        events.append({"last_affected": convert(span.last_affected)})
    return events


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
