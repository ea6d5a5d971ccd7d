"""Packages and products as the exports name them: `package_label` (a package's name as its
ecosystem writes it), `vers_range` (a stored range as a `vers:` range) and `ProductTree`, the
CSAF product tree with its product IDs (see csaf.py for the choices)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from lockstep.cases.affected import VersionRange

# What mandatory test 6.1.31 takes for a range when it is the name of a product_version.
_RANGE_LIKE = re.compile(
    r"^[<>]|\.[xX](?![0-9A-Za-z_])|\.\*|\b(?:prior|before|earlier|later|through|all)\b",
    re.IGNORECASE,
)
_VERS_TYPE = re.compile(r"^[a-z][a-z0-9.-]*$")
_VERS_RESERVED = frozenset("<>=!*|%")


@dataclass
class _Package:
    branch_name: str
    leaves: list[dict[str, Any]] = field(default_factory=list)


class ProductTree:
    """The product tree, built while the vulnerabilities ask for product IDs."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self._packages: dict[str, _Package] = {}
        self._ids: dict[tuple[str, str, str], str] = {}
        self._project: dict[str, Any] | None = None

    def _new_id(self) -> str:
        return f"CSAFPID-{len(self._ids) + 1:04d}"

    def _package(self, purl: str) -> _Package:
        found = self._packages.get(purl)
        if found is None:
            name = package_label(purl)
            if any(p.branch_name == name for p in self._packages.values()):
                name = f"{name} ({PackageURL.from_string(purl).type})"
            found = self._packages[purl] = _Package(name)
        return found

    def leaf(self, purl: str, category: str, name: str, helper: str) -> str:
        """The product ID of a version (or version range) of a package, added on first use."""
        key = (purl, category, name)
        if key not in self._ids:
            package = self._package(purl)
            self._ids[key] = product_id = self._new_id()
            product = {
                "name": f"{self.vendor} {package.branch_name} {name}",
                "product_id": product_id,
                "product_identification_helper": {"purl": helper},
            }
            package.leaves.append({"category": category, "name": name, "product": product})
        return self._ids[key]

    def project(self) -> str:
        """The product ID of the project as a whole (no version)."""
        key = ("", "project", "")
        if key not in self._ids:
            self._ids[key] = product_id = self._new_id()
            self._project = {
                "category": "product_name",
                "name": self.vendor,
                "product": {"name": self.vendor, "product_id": product_id},
            }
        return self._ids[key]

    def as_json(self) -> dict[str, Any]:
        products: list[dict[str, Any]] = [
            {"category": "product_name", "name": p.branch_name, "branches": p.leaves}
            for p in self._packages.values()
        ]
        if self._project is not None:
            products.append(self._project)
        vendor = {"category": "vendor", "name": self.vendor, "branches": products}
        return {"branches": [vendor]}

    def version(self, purl: str, purl_type: str, version: str) -> str:
        """The product ID of one version of a package (a one-version range if it reads like a
        range to mandatory test 6.1.31)."""
        helper = _versioned_purl(purl, version)
        if _RANGE_LIKE.search(version):
            vers = f"vers:{_vers_scheme(purl_type)}/"
            return self.leaf(purl, "product_version_range", vers + _vers_version(version), helper)
        return self.leaf(purl, "product_version", version, helper)


def package_label(purl: str) -> str:
    """A package's name as its ecosystem writes it ("@scope/name", "group:artifact", ...)."""
    parsed = PackageURL.from_string(purl)
    if parsed.type == "maven" and parsed.namespace:
        return f"{parsed.namespace}:{parsed.name}"
    return "/".join(part for part in (parsed.namespace, parsed.name) if part)


def _versioned_purl(purl: str, version: str) -> str:
    parsed = PackageURL.from_string(purl)
    with_version = PackageURL(
        type=parsed.type,
        namespace=parsed.namespace,
        name=parsed.name,
        version=version,
        qualifiers=parsed.qualifiers,
        subpath=parsed.subpath,
    )
    return str(with_version.to_string())


def _vers_scheme(purl_type: str) -> str:
    """The vers versioning scheme: the purl type, or "generic" if vers cannot spell it."""
    return purl_type if _VERS_TYPE.match(purl_type) else "generic"


def _vers_version(version: str) -> str:
    """A version inside a vers constraint: reserved and non-printable characters %-encoded."""
    out: list[str] = []
    for char in version:
        if char in _VERS_RESERVED or not (char.isascii() and char.isprintable()) or char == " ":
            out.extend(f"%{byte:02X}" for byte in char.encode())
        else:
            out.append(char)
    return "".join(out)


def vers_range(purl_type: str, span: VersionRange) -> str | None:
    """The `vers:` form of an interval; None for an empty one (introduced == fixed)."""
    scheme = _vers_scheme(purl_type)
    lower = "" if span.introduced == "0" else span.introduced
    if span.fixed or span.last_affected:
        upper = ("<", span.fixed) if span.fixed else ("<=", span.last_affected)
    else:
        upper = ("<", span.limit)
    if lower and lower == upper[1]:
        return None if upper[0] == "<" else f"vers:{scheme}/{_vers_version(lower)}"
    constraints = [f">={_vers_version(lower)}"] if lower else []
    if upper[1]:
        constraints.append(f"{upper[0]}{_vers_version(upper[1])}")
    return f"vers:{scheme}/{'|'.join(constraints) or '*'}"
