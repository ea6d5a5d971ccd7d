"""CVE JSON 5 export: the CVE record of one vulnerability of an advisory (record format 5.1).

`render_cve5(snapshot, vuln, ...)` gives the whole record (`dataType` CVE_RECORD, state
PUBLISHED). `cna_container(record)` gives what cvelib's `CveApi.publish(cve_id, cve_json)`
takes: the CNA container itself, which cvelib validates against its CNA published container
schema and then wraps as `{"cnaContainer": ...}` for CVE Services. (Passing it an already
wrapped object would fail that validation.)

Choices:

- `affected`: one product per package. `vendor` is the project, `product` the package name as its
  ecosystem writes it; `collectionURL` + `packageName` are added for registries the CVE schema
  lists (PyPI, npm, crates.io, RubyGems, Maven Central, pkg.go.dev as the Go CNA writes it, NuGet,
  Packagist, Hex, pub.dev, CRAN, Hackage, Conan, CocoaPods, GitHub, GitLab, Bitbucket), `repo` for
  git-hosted packages (and the `repo` of a GIT range). Each interval of a stored range
  (`AffectedRange.spans`: a range of several introduced/fixed pairs gives several) is
  `{version: introduced, lessThan: fixed}` (or `lessThanOrEqual: last_affected`; `lessThan:
  limit`, or "*", when open), each listed version a single `affected` entry; `defaultStatus` is
  `unaffected`. `versionType` is "git" for GIT and commit ranges, "semver" for SEMVER ranges and
  where the OSV export makes ECOSYSTEM ranges SEMVER (same versions, Go's "v" dropped), "python"
  for PyPI, "maven" for Maven, and otherwise the purl type ("gem", "nuget", ...).
- A vulnerability without affected packages gets one product (the project) with
  `defaultStatus` "unknown": the record must name a product, and nothing more is known.
- `problemTypes`: the CWE (with its catalog name when known), else the title as a text problem.
- `metrics`: `cvssV3_1` and `cvssV4_0`, computed with the `cvss` package.
- `descriptions`: the vulnerability's description, cut at a word boundary to the schema's 4,096
  characters with a pointer to the advisory when longer.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from cvss import CVSS3
from packageurl import PackageURL

from lockstep.advisories.formats.cwe import cwe_name
from lockstep.advisories.formats.osv import is_commit_range, range_kind, repository_url, timestamp
from lockstep.advisories.formats.products import package_label
from lockstep.advisories.snapshot import AdvisorySnapshot, VulnSnapshot
from lockstep.advisories.versions import ecosystem_for_purl
from lockstep.cases.affected import (
    GIT_HOSTS,
    AffectedPackage,
    AffectedRange,
    RangeType,
    repository_of,
)
from lockstep.cases.vulndata import ReferenceType, parse_cvss

DATA_VERSION = "5.1"
MAX_TEXT = 4096
MAX_TITLE = 256
MAX_VENDOR = 512
MAX_PRODUCT = 2048
MIN_SHORT_NAME = 2
MAX_SHORT_NAME = 32
ENGINE = "Lockstep"

_UUID4 = re.compile(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$"
)
_CVE_ID = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,19}$")

# Package collections, as the CVE schema's examples name them (Go: as the Go CNA writes it).
COLLECTIONS: dict[str, str] = {
    "pypi": "https://pypi.python.org",
    "npm": "https://registry.npmjs.org",
    "cargo": "https://crates.io",
    "gem": "https://rubygems.org",
    "maven": "https://repo.maven.apache.org/maven2",
    "golang": "https://pkg.go.dev",
    "nuget": "https://nuget.org/packages",
    "composer": "https://packagist.org",
    "hex": "https://repo.hex.pm",
    "pub": "https://pub.dev",
    "cran": "https://cran.r-project.org",
    "hackage": "https://hackage.haskell.org",
    "conan": "https://conan.io/center",
    "cocoapods": "https://cocoapods.org",
    "github": "https://github.com",
    "gitlab": "https://gitlab.com/explore",
    "bitbucket": "https://bitbucket.org",
}

REFERENCE_TAGS: dict[ReferenceType, str] = {
    ReferenceType.FIX: "patch",
    ReferenceType.REPORT: "issue-tracking",
    ReferenceType.EVIDENCE: "exploit",
    ReferenceType.DETECTION: "signature",
    ReferenceType.PACKAGE: "product",
}

_V4_BASE = {
    "AV": ("attackVector", {"N": "NETWORK", "A": "ADJACENT", "L": "LOCAL", "P": "PHYSICAL"}),
    "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
    "AT": ("attackRequirements", {"N": "NONE", "P": "PRESENT"}),
    "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "UI": ("userInteraction", {"N": "NONE", "P": "PASSIVE", "A": "ACTIVE"}),
    "VC": ("vulnConfidentialityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "VI": ("vulnIntegrityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "VA": ("vulnAvailabilityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "SC": ("subConfidentialityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "SI": ("subIntegrityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
    "SA": ("subAvailabilityImpact", {"H": "HIGH", "L": "LOW", "N": "NONE"}),
}


def render_cve5(
    snapshot: AdvisorySnapshot,
    vuln: VulnSnapshot,
    *,
    assigner_org_id: str,
    assigner_short_name: str,
) -> dict[str, Any]:
    """The published CVE record of `vuln`; ValueError if it has no CVE ID or bad assigner data."""
    _check(snapshot, vuln, assigner_org_id, assigner_short_name)
    cna: dict[str, Any] = {
        "providerMetadata": {"orgId": assigner_org_id, "shortName": assigner_short_name},
        "title": _cut(" ".join(vuln.title.split()) or snapshot.title, MAX_TITLE, ""),
        "datePublic": timestamp(snapshot.published),
        "descriptions": [{"lang": "en", "value": _description(snapshot, vuln)}],
        "affected": _affected(snapshot, vuln),
        "problemTypes": [{"descriptions": [_problem(snapshot, vuln)]}],
        "references": _references(snapshot, vuln),
    }
    metrics = _metrics(vuln)
    if metrics:
        cna["metrics"] = metrics
    solutions = _solutions(vuln)
    if solutions:
        cna["solutions"] = solutions
    credits_ = _credits(vuln)
    if credits_:
        cna["credits"] = credits_
    timeline = _timeline(snapshot)
    if timeline:
        cna["timeline"] = timeline
    cna["x_generator"] = {"engine": ENGINE}
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": DATA_VERSION,
        "cveMetadata": {
            "cveId": vuln.cve_id,
            "assignerOrgId": assigner_org_id,
            "assignerShortName": assigner_short_name,
            "state": "PUBLISHED",
            "datePublished": timestamp(snapshot.published),
        },
        "containers": {"cna": cna},
    }


def cna_container(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of the record's CNA container: the `cve_json` for cvelib's `CveApi.publish`."""
    container: dict[str, Any] = copy.deepcopy(record["containers"]["cna"])
    return container


def _check(snapshot: AdvisorySnapshot, vuln: VulnSnapshot, org_id: str, short_name: str) -> None:
    if not vuln.cve_id:
        raise ValueError(f"{vuln.osv_id} has no CVE ID: there is no CVE record to render.")
    if not _CVE_ID.match(vuln.cve_id):
        raise ValueError(f"{vuln.cve_id!r} is not a CVE ID.")
    if vuln not in snapshot.vulnerabilities:
        raise ValueError(f"{vuln.osv_id} is not a vulnerability of {snapshot.id}.")
    if not _UUID4.match(org_id):
        raise ValueError(f"The assigner org ID must be a version 4 UUID, not {org_id!r}.")
    if not MIN_SHORT_NAME <= len(short_name) <= MAX_SHORT_NAME:
        raise ValueError("The assigner short name must be 2 to 32 characters long.")


def _cut(text: str, limit: int, suffix: str) -> str:
    """`text` if it fits in `limit`, else cut at a word boundary with "..." and `suffix` added."""
    if len(text) <= limit:
        return text
    room = limit - len(suffix) - 3
    head = text[:room]
    if " " in head[room // 2 :]:
        head = head[: head.rindex(" ")]
    return f"{head.rstrip()}...{suffix}"


def _description(snapshot: AdvisorySnapshot, vuln: VulnSnapshot) -> str:
    text = vuln.description.strip() or snapshot.summary.strip() or vuln.title.strip()
    return _cut(text or snapshot.title, MAX_TEXT, f" (Full text: {snapshot.url})")


def _problem(snapshot: AdvisorySnapshot, vuln: VulnSnapshot) -> dict[str, str]:
    if vuln.cwe:
        name = cwe_name(vuln.cwe)
        text = f"{vuln.cwe}: {name}" if name else vuln.cwe
        return {"lang": "en", "type": "CWE", "cweId": vuln.cwe, "description": text}
    text = _cut(" ".join(vuln.title.split()) or snapshot.title, MAX_TEXT, "")
    return {"lang": "en", "type": "text", "description": text}


def _affected(snapshot: AdvisorySnapshot, vuln: VulnSnapshot) -> list[dict[str, Any]]:
    vendor = _cut(snapshot.project_name, MAX_VENDOR, "")
    if not vuln.affected:
        product = _cut(snapshot.project_name, MAX_PRODUCT, "")
        return [{"vendor": vendor, "product": product, "defaultStatus": "unknown"}]
    return [_product(vendor, package) for package in vuln.affected]


def _product(vendor: str, package: AffectedPackage) -> dict[str, Any]:
    parsed = PackageURL.from_string(package.purl)
    mapped = ecosystem_for_purl(package.purl)
    name = _cut(mapped[1] if mapped else package_label(package.purl), MAX_PRODUCT, "")
    product: dict[str, Any] = {"vendor": vendor, "product": name}
    collection = COLLECTIONS.get(parsed.type)
    if collection is not None:
        product["collectionURL"] = collection
        product["packageName"] = name
    if parsed.type in GIT_HOSTS:
        product["repo"] = repository_url(parsed)
    repos = [repository_of(package, r) for r in package.ranges if r.type is RangeType.GIT]
    if repos and "repo" not in product:
        product["repo"] = repos[0]
    version_type, convert = _version_type(parsed.type, mapped, package)
    versions: list[dict[str, str]] = []
    for span_range in package.ranges:
        if span_range.type is RangeType.GIT or (
            parsed.type in GIT_HOSTS and is_commit_range(span_range)
        ):
            versions += _range_versions(span_range, "git", _same)
        elif span_range.type is RangeType.SEMVER:
            versions += _range_versions(span_range, "semver", _same)
        else:
            versions += _range_versions(span_range, version_type, convert)
    versions += [{"version": v, "status": "affected"} for v in package.versions]
    product["versions"] = [dict(t) for t in dict.fromkeys(tuple(v.items()) for v in versions)]
    product["defaultStatus"] = "unaffected"
    return product


def _range_versions(
    span_range: AffectedRange, kind: str, convert: Callable[[str], str]
) -> list[dict[str, str]]:
    found = []
    for span in span_range.spans:
        start = span.introduced if span.introduced == "0" else convert(span.introduced)
        item = {"version": start, "status": "affected", "versionType": kind}
        if span.fixed:
            item["lessThan"] = convert(span.fixed)
        elif span.last_affected:
            item["lessThanOrEqual"] = convert(span.last_affected)
        else:
            item["lessThan"] = convert(span.limit) if span.limit else "*"
        found.append(item)
    return found


def _same(version: str) -> str:
    return version


def _version_type(
    purl_type: str, mapped: tuple[str, str] | None, package: AffectedPackage
) -> tuple[str, Callable[[str], str]]:
    linear = [v for r in package.ranges if r.type is RangeType.ECOSYSTEM for v in r.bounds]
    if mapped is not None and linear:
        kind, convert = range_kind(mapped[0], linear)
        if kind == "SEMVER":
            return "semver", convert
    return {"pypi": "python", "maven": "maven"}.get(purl_type, purl_type), _same


def _metrics(vuln: VulnSnapshot) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    general = [{"lang": "en", "value": "GENERAL"}]
    if vuln.cvss3_vector:
        vector = parse_cvss(vuln.cvss3_vector).vector  # refuses anything but CVSS 3.1
        data: dict[str, Any] = CVSS3(vector).as_json(minimal=True)
        found.append({"format": "CVSS", "scenarios": general, "cvssV3_1": data})
    if vuln.cvss4_vector:
        found.append({"format": "CVSS", "scenarios": general, "cvssV4_0": _cvss4(vuln)})
    return found


def _cvss4(vuln: VulnSnapshot) -> dict[str, Any]:
    severity = parse_cvss(vuln.cvss4_vector)
    data: dict[str, Any] = {
        "version": "4.0",
        "vectorString": severity.vector,
        "baseScore": severity.base_score,
        "baseSeverity": severity.rating.upper(),
    }
    for part in severity.vector.split("/")[1:]:
        metric, _, value = part.partition(":")
        if metric in _V4_BASE:
            name, values = _V4_BASE[metric]
            data[name] = values[value]
    return data


def _references(snapshot: AdvisorySnapshot, vuln: VulnSnapshot) -> list[dict[str, Any]]:
    """The advisory page first, then each reference URL once (tags merged)."""
    tags: dict[str, list[str]] = {snapshot.url: []}
    for ref in vuln.references:
        found = tags.setdefault(ref.url, [])
        tag = REFERENCE_TAGS.get(ref.type)
        if tag is not None and tag not in found:
            found.append(tag)
    return [{"url": url, "tags": t} if t else {"url": url} for url, t in tags.items()]


def _solutions(vuln: VulnSnapshot) -> list[dict[str, str]]:
    lines = []
    for package in vuln.affected:
        fixed = list(dict.fromkeys(r.fixed for r in package.spans if r.fixed))
        if fixed:
            label = package_label(package.purl)
            lines.append(f"{label} is fixed in {', '.join(fixed)}: upgrade to a fixed version.")
    text = _cut(" ".join(lines), MAX_TEXT, "")
    return [{"lang": "en", "value": text}] if text else []


def _credits(vuln: VulnSnapshot) -> list[dict[str, str]]:
    found = [
        {"lang": "en", "value": c.name, "type": c.type.value.lower().replace("_", " ")}
        for c in vuln.credits
    ]
    return [dict(t) for t in dict.fromkeys(tuple(c.items()) for c in found)]


def _timeline(snapshot: AdvisorySnapshot) -> list[dict[str, str]]:
    found = [
        {"time": timestamp(e.at), "lang": "en", "value": _cut(e.text.strip(), MAX_TEXT, "")}
        for e in sorted(snapshot.timeline, key=lambda e: e.at)
        if e.text.strip()
    ]
    return [dict(t) for t in dict.fromkeys(tuple(e.items()) for e in found)]
