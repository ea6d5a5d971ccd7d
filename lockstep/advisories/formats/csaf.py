"""CSAF 2.0 export: the advisory as one `csaf_security_advisory` document.

The document passes the CSAF 2.0 schema and the mandatory tests (section 6.1 of the standard).
Choices made to get there:

- Publisher category "coordinator", namespace the instance's base URL. The advisory is public:
  CSAF 2.0 only knows TLP 1.0 labels, so TLP:CLEAR is written as its TLP 1.0 equivalent WHITE,
  and the distribution text says so.
- References: `self` is where the document is served, the advisory URL without its trailing
  slash plus ".csaf.json" (as the web layer and the API name it); `external` is the advisory page.
- Tracking: version "1" with one revision (the publication). A snapshot modified after its
  publication gets a second revision, "2", dated `modified`: the snapshot does not record the
  revisions in between.
- Product tree: vendor (the project) -> product_name (one per package) -> leaves. Each
  interval of a stored range (`AffectedRange.spans`) is a `product_version_range` named by a
  `vers:` range built from introduced/fixed/last_affected/limit (vers type = the purl type);
  each listed version and each fixed version is a `product_version` with the versioned purl as
  identification helper. Range leaves carry the versionless purl: it names the package whose
  versions the range selects. A listed version that reads like a range to mandatory test
  6.1.31 ("1.x", "before-2") is written as a one-version `vers:` range instead. An interval
  whose introduced and fixed versions are the same selects no version and is left out.
  Product IDs are CSAFPID-0001, -0002, ... in order.
- A vulnerability that names no affected version at all is listed as affecting the project
  (a product without version) so that it still has the product status the profile requires.
- Product status: ranges and listed versions are `known_affected`, fixed versions `fixed` (unless
  the same version is also listed as affected). Remediations point at the affected products, as
  the standard defines them: `vendor_fix` naming the fixed version, or `none_available` when a
  range has no fixed version.
- CWE: test 6.1.11 requires the name to match the CWE catalog exactly. `CWE_NAMES` holds the
  exact names of common weaknesses; a CWE not in it is not put in `cwe` (a made-up or generic name
  would fail 6.1.11) but stated in a vulnerability note.
- CVSS v3 goes in `scores`; CSAF 2.0 has no CVSS v4.0, so a v4.0 vector and score are a note.
- Two vulnerabilities with the same CVE ID are refused (ValueError): test 6.1.23 forbids it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cvss import CVSS3
from packageurl import PackageURL

from lockstep.advisories.formats.cwe import cwe_name
from lockstep.advisories.formats.osv import timestamp
from lockstep.advisories.formats.products import ProductTree, package_label, vers_range
from lockstep.advisories.snapshot import AdvisorySnapshot, VulnSnapshot
from lockstep.cases.affected import AffectedPackage, VersionRange
from lockstep.cases.vulndata import CreditType, parse_cvss

CSAF_VERSION = "2.0"
ENGINE = "Lockstep"
_TLP_NOTE = (
    "TLP:CLEAR. This advisory is public and may be shared without restriction. (CSAF 2.0 "
    "knows only TLP 1.0 labels, so the label below is WHITE, the TLP 1.0 equivalent of CLEAR.)"
)


CREDIT_ROLES: dict[CreditType, str] = {
    CreditType.FINDER: "found the vulnerability",
    CreditType.REPORTER: "reported the vulnerability",
    CreditType.ANALYST: "analysed the vulnerability",
    CreditType.COORDINATOR: "coordinated the disclosure",
    CreditType.REMEDIATION_DEVELOPER: "developed the fix",
    CreditType.REMEDIATION_REVIEWER: "reviewed the fix",
    CreditType.REMEDIATION_VERIFIER: "verified the fix",
    CreditType.TOOL: "tool used to find the vulnerability",
    CreditType.SPONSOR: "supported the work",
    CreditType.OTHER: "other contribution",
}


def csaf_url(snapshot: AdvisorySnapshot) -> str:
    """Where this document is served: the advisory page's URL with ".csaf.json" added (without
    the page's trailing slash: /advisories/LOCKSTEP-2026-0001.csaf.json)."""
    return f"{snapshot.url.rstrip('/')}.csaf.json"


def render_csaf(snapshot: AdvisorySnapshot) -> dict[str, Any]:
    """The advisory as a CSAF 2.0 security advisory (see the module docstring for choices)."""
    if not snapshot.vulnerabilities:
        raise ValueError("A CSAF security advisory needs at least one vulnerability.")
    repeated = [cve for cve, n in Counter(snapshot.cve_ids).items() if n > 1]
    if repeated:
        raise ValueError(f"{', '.join(repeated)} is given to more than one vulnerability.")
    tree = ProductTree(snapshot.project_name)
    vulnerabilities = [_vulnerability(snapshot, vuln, tree) for vuln in snapshot.vulnerabilities]
    return {
        "document": _document(snapshot),
        "product_tree": tree.as_json(),
        "vulnerabilities": vulnerabilities,
    }


def _document(snapshot: AdvisorySnapshot) -> dict[str, Any]:
    notes = [
        {"category": "summary", "title": "Summary", "text": snapshot.summary.strip()},
        {"category": "details", "title": "Details", "text": snapshot.details.strip()},
    ]
    if snapshot.embargo_broken:
        text = "This advisory was published before the agreed date: the embargo ended early."
        notes.append({"category": "general", "title": "Early publication", "text": text})
    document: dict[str, Any] = {
        "category": "csaf_security_advisory",
        "csaf_version": CSAF_VERSION,
        "publisher": {
            "category": "coordinator",
            "name": snapshot.publisher_name,
            "namespace": snapshot.publisher_url,
        },
        "title": snapshot.title,
        "lang": "en",
        "tracking": _tracking(snapshot),
        "notes": [note for note in notes if note["text"]],
        "references": [
            {"category": "self", "summary": "This document", "url": csaf_url(snapshot)},
            {"category": "external", "summary": "The advisory", "url": snapshot.url},
        ],
        "distribution": {
            "text": _TLP_NOTE,
            "tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/v1/"},
        },
    }
    severity = _aggregate_severity(snapshot)
    if severity:
        document["aggregate_severity"] = {"text": severity}
    if not document["notes"]:
        del document["notes"]
    return document


def _tracking(snapshot: AdvisorySnapshot) -> dict[str, Any]:
    history = [_revision(snapshot.published, "1", "Initial public release.")]
    if snapshot.modified > snapshot.published:
        history.append(_revision(snapshot.modified, "2", "Current revision of the advisory."))
    return {
        "id": snapshot.id,
        "status": "final",
        "version": history[-1]["number"],
        "initial_release_date": timestamp(snapshot.published),
        "current_release_date": timestamp(max(snapshot.modified, snapshot.published)),
        "revision_history": history,
        "generator": {"engine": {"name": ENGINE}},
    }


def _revision(when: datetime, number: str, summary: str) -> dict[str, str]:
    return {"date": timestamp(when), "number": number, "summary": summary}


def _aggregate_severity(snapshot: AdvisorySnapshot) -> str:
    """The highest CVSS base score's rating across the vulnerabilities ("" if none is scored)."""
    best: tuple[float, str] | None = None
    for vuln in snapshot.vulnerabilities:
        for vector in (vuln.cvss3_vector, vuln.cvss4_vector):
            if vector:
                severity = parse_cvss(vector)
                if best is None or severity.base_score > best[0]:
                    best = (severity.base_score, severity.rating)
    return best[1] if best else ""


# ---------------------------------------------------------------------------------------------
# Vulnerabilities


@dataclass
class _Status:
    affected: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    remediations: list[dict[str, Any]] = field(default_factory=list)

    def add_affected(self, product_id: str) -> None:
        if product_id not in self.affected:
            self.affected.append(product_id)

    def add_fixed(self, product_id: str) -> None:
        if product_id not in self.fixed:
            self.fixed.append(product_id)


def _package_status(
    tree: ProductTree, package: AffectedPackage, status: _Status, advisory_url: str
) -> None:
    purl_type = PackageURL.from_string(package.purl).type
    label = package_label(package.purl)
    for span in package.spans:
        vers = vers_range(purl_type, span)
        if vers is None:  # introduced == fixed: no version is affected, none is named fixed
            continue
        product_id = tree.leaf(package.purl, "product_version_range", vers, package.purl)
        status.add_affected(product_id)
        status.remediations.append(_range_remedy(label, span, product_id, advisory_url))
        if span.fixed:
            status.add_fixed(tree.version(package.purl, purl_type, span.fixed))
    listed = [tree.version(package.purl, purl_type, v) for v in package.versions]
    for product_id in listed:
        status.add_affected(product_id)
    fixes = [r.fixed for r in package.spans if r.fixed]
    if listed and fixes:
        details = f"Upgrade {label} to a fixed version: {', '.join(dict.fromkeys(fixes))}."
        status.remediations.append(_remedy("vendor_fix", details, listed, advisory_url))
    elif listed:
        details = f"No fixed version of {label} is named in this advisory."
        status.remediations.append(_remedy("none_available", details, listed, advisory_url))


def _range_remedy(
    label: str, span: VersionRange, product_id: str, advisory_url: str
) -> dict[str, Any]:
    if span.fixed:
        details = (
            f"Upgrade {label} to version {span.fixed} (or a later version that is not affected)."
        )
        return _remedy("vendor_fix", details, [product_id], advisory_url)
    if span.last_affected:
        details = (
            f"No fixed version of {label} is named in this advisory; versions up to and "
            f"including {span.last_affected} are affected."
        )
    elif span.limit:
        details = (
            f"No fixed version of {label} is named in this advisory; versions from "
            f"{span.introduced} up to {span.limit} (not included) are affected."
        )
    elif span.introduced == "0":
        details = f"No fixed version of {label} is available; all versions are affected."
    else:
        details = (
            f"No fixed version of {label} is available; versions from {span.introduced} on "
            "are affected."
        )
    return _remedy("none_available", details, [product_id], advisory_url)


def _remedy(category: str, details: str, product_ids: list[str], url: str) -> dict[str, Any]:
    return {"category": category, "details": details, "product_ids": product_ids, "url": url}


def _vulnerability(
    snapshot: AdvisorySnapshot, vuln: VulnSnapshot, tree: ProductTree
) -> dict[str, Any]:
    status = _Status()
    for package in vuln.affected:
        _package_status(tree, package, status, snapshot.url)
    if not status.affected:
        status.add_affected(tree.project())
    fixed = [p for p in status.fixed if p not in status.affected]
    entry: dict[str, Any] = {"title": vuln.title.strip() or snapshot.title}
    if vuln.cve_id:
        entry["cve"] = vuln.cve_id
    entry["ids"] = [{"system_name": f"{snapshot.publisher_name} OSV", "text": vuln.osv_id}]
    name = cwe_name(vuln.cwe) if vuln.cwe else None
    if name is not None:
        entry["cwe"] = {"id": vuln.cwe, "name": name}
    entry["notes"] = _vuln_notes(snapshot, vuln, has_cwe_name=name is not None)
    product_status: dict[str, list[str]] = {"known_affected": status.affected}
    if fixed:
        product_status["fixed"] = fixed
    entry["product_status"] = product_status
    if status.remediations:
        entry["remediations"] = status.remediations
    if vuln.cvss3_vector:
        entry["scores"] = [{"cvss_v3": _cvss3(vuln.cvss3_vector), "products": status.affected}]
    if vuln.references:
        entry["references"] = [
            {"category": "external", "summary": ref.type.value.lower(), "url": ref.url}
            for ref in vuln.references
        ]
    if vuln.credits:
        entry["acknowledgments"] = [
            _acknowledgment(c.name, c.type, c.contact) for c in vuln.credits
        ]
    entry["release_date"] = timestamp(snapshot.published)
    return entry


def _cvss3(vector: str) -> dict[str, Any]:
    data: dict[str, Any] = CVSS3(parse_cvss(vector).vector).as_json(minimal=True)
    return data


def _vuln_notes(
    snapshot: AdvisorySnapshot, vuln: VulnSnapshot, *, has_cwe_name: bool
) -> list[dict[str, str]]:
    text = vuln.description.strip() or vuln.title.strip() or snapshot.summary.strip()
    notes = [{"category": "description", "title": "Description", "text": text or snapshot.title}]
    if vuln.cwe and not has_cwe_name:
        notes.append({"category": "other", "title": "CWE", "text": f"Weakness: {vuln.cwe}."})
    if vuln.cvss4_vector:
        severity = parse_cvss(vuln.cvss4_vector)
        text = (
            f"CVSS v4.0 base score {severity.base_score:.1f} ({severity.rating}): "
            f"{severity.vector}. (CSAF 2.0 has no field for CVSS v4.0 scores.)"
        )
        notes.append({"category": "other", "title": "CVSS v4.0", "text": text})
    return notes


def _acknowledgment(name: str, kind: CreditType, contact: tuple[str, ...]) -> dict[str, Any]:
    item: dict[str, Any] = {"names": [name], "summary": CREDIT_ROLES[kind]}
    if contact:
        item["urls"] = list(contact)
    return item
