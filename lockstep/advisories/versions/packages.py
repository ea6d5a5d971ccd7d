"""Packages: the table between OSV ecosystems and Package URL types, and canonical package keys.

`ECOSYSTEMS` is the one table mapping OSV ecosystem names to purl types and back
(`ecosystem_for_purl`, `find_ecosystem`, `purl_parts`, `purl_for`); the canonical versionless
purl that advisories are indexed and matched by is `projects.purls.package_key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from packageurl import PackageURL

from lockstep.core.errors import ValidationError
from lockstep.projects.purls import PURL_MAX_LENGTH, key_of, parse_package_url


class Layout(Enum):
    """How an OSV package name maps onto a purl's namespace and name."""

    PLAIN = "plain"  # "jinja2" -> name; no namespace
    NPM = "npm"  # "@scope/name" -> namespace "@scope", name; or just "name"
    MAVEN = "maven"  # "group:artifact" -> namespace group, name artifact
    PATH = "path"  # "a/b/c" -> namespace "a/b", name "c"; or just "c"
    VENDOR = "vendor"  # "vendor/name" -> namespace vendor, name (exactly one "/")
    DISTRO = "distro"  # "openssl" -> the row's fixed namespace ("debian"), name


@dataclass(frozen=True)
class Ecosystem:
    osv: str
    purl_type: str
    layout: Layout
    namespace: str = ""  # DISTRO rows only
    example: str = ""


# The one table between OSV ecosystem names and purl types. Distribution ecosystems may carry a
# release suffix in OSV ("Debian:12", "Alpine:v3.20"); advisories here are per package, not per
# release, so the suffix is accepted and ignored.
ECOSYSTEMS: tuple[Ecosystem, ...] = (
    Ecosystem("PyPI", "pypi", Layout.PLAIN, example="jinja2"),
    Ecosystem("npm", "npm", Layout.NPM, example="@scope/name"),
    Ecosystem("crates.io", "cargo", Layout.PLAIN, example="serde"),
    Ecosystem("RubyGems", "gem", Layout.PLAIN, example="rails"),
    Ecosystem("Maven", "maven", Layout.MAVEN, example="org.apache.logging.log4j:log4j-core"),
    Ecosystem("Go", "golang", Layout.PATH, example="github.com/gin-gonic/gin"),
    Ecosystem("NuGet", "nuget", Layout.PLAIN, example="Newtonsoft.Json"),
    Ecosystem("Packagist", "composer", Layout.VENDOR, example="laravel/framework"),
    Ecosystem("Hex", "hex", Layout.PLAIN, example="phoenix"),
    Ecosystem("Pub", "pub", Layout.PLAIN, example="http"),
    Ecosystem("CRAN", "cran", Layout.PLAIN, example="ggplot2"),
    Ecosystem("Hackage", "hackage", Layout.PLAIN, example="aeson"),
    Ecosystem("SwiftURL", "swift", Layout.PATH, example="github.com/apple/swift-nio"),
    Ecosystem("ConanCenter", "conan", Layout.PLAIN, example="zlib"),
    Ecosystem("Bioconductor", "bioconductor", Layout.PLAIN, example="BiocGenerics"),
    Ecosystem("Debian", "deb", Layout.DISTRO, namespace="debian", example="openssl"),
    Ecosystem("Ubuntu", "deb", Layout.DISTRO, namespace="ubuntu", example="openssl"),
    Ecosystem("Alpine", "apk", Layout.DISTRO, namespace="alpine", example="openssl"),
    Ecosystem("Red Hat", "rpm", Layout.DISTRO, namespace="redhat", example="openssl"),
    Ecosystem("Rocky Linux", "rpm", Layout.DISTRO, namespace="rocky-linux", example="openssl"),
    Ecosystem("AlmaLinux", "rpm", Layout.DISTRO, namespace="almalinux", example="openssl"),
    Ecosystem("openSUSE", "rpm", Layout.DISTRO, namespace="opensuse", example="openssl"),
    Ecosystem("SUSE", "rpm", Layout.DISTRO, namespace="suse", example="openssl"),
)
_BY_OSV = {eco.osv.lower(): eco for eco in ECOSYSTEMS}
_BY_PURL = {
    (eco.purl_type, eco.namespace if eco.layout is Layout.DISTRO else ""): eco for eco in ECOSYSTEMS
}
_DISTRO_TYPES = frozenset(eco.purl_type for eco in ECOSYSTEMS if eco.layout is Layout.DISTRO)


def find_ecosystem(text: str) -> Ecosystem:
    """The table row for an OSV ecosystem name (case-insensitive; a distro may add ":release")."""
    eco = _BY_OSV.get(text.lower())
    if eco is None and ":" in text:
        base = _BY_OSV.get(text.split(":", 1)[0].lower())
        if base is not None and base.layout is Layout.DISTRO:
            eco = base
    if eco is None:
        names = ", ".join(e.osv for e in ECOSYSTEMS)
        msg = f"Unknown ecosystem {text!r}. Use one of: {names}; or give package.purl instead."
        raise ValidationError(msg, field="package.ecosystem")
    return eco


# Per layout: the separator of an OSV name's parts, and how many parts it may have.
_SHAPES: dict[Layout, tuple[str, int, int]] = {
    Layout.PLAIN: ("/", 1, 1),
    Layout.DISTRO: ("/", 1, 1),
    Layout.NPM: ("/", 1, 2),
    Layout.MAVEN: (":", 2, 2),
    Layout.PATH: ("/", 1, 64),
    Layout.VENDOR: ("/", 2, 2),
}


def purl_parts(eco: Ecosystem, name: str) -> tuple[str | None, str]:
    """(namespace, name) of the purl for the OSV package `name` in `eco`."""
    separator, fewest, most = _SHAPES[eco.layout]
    parts = name.split(separator)
    fits = all(parts) and fewest <= len(parts) <= most
    if eco.layout is Layout.NPM:  # "@scope/name" or "name"
        fits = fits and (len(parts) > 1) == name.startswith("@") and parts[0] != "@"
    if not fits:
        msg = f"{name!r} is not a valid {eco.osv} package name; write it like {eco.example!r}."
        raise ValidationError(msg, field="package.name")
    namespace = separator.join(parts[:-1]) or eco.namespace
    return namespace or None, parts[-1]


def ecosystem_for_purl(purl: str) -> tuple[str, str] | None:
    """(OSV ecosystem, OSV package name) for a purl, or None if no OSV ecosystem has its type.

    Raises ValidationError if `purl` is not a valid Package URL.
    """
    parsed = parse_purl(purl, field="purl")
    distro = (parsed.namespace or "") if parsed.type in _DISTRO_TYPES else ""
    eco = _BY_PURL.get((parsed.type, distro))
    if eco is None:
        return None
    namespace = parsed.namespace or ""
    name = str(parsed.name)
    if not namespace or eco.layout in {Layout.PLAIN, Layout.DISTRO}:
        return eco.osv, name
    separator = ":" if eco.layout is Layout.MAVEN else "/"
    return eco.osv, f"{namespace}{separator}{name}"


def purl_for(ecosystem: str, name: str) -> str:
    """The canonical versionless purl of the OSV package `name` in `ecosystem` ("PyPI",
    "Jinja2" -> "pkg:pypi/jinja2"). Raises ValidationError (field "package.ecosystem" or
    "package.name") if the ecosystem is unknown or the name does not fit it."""
    eco = find_ecosystem(ecosystem.strip())
    text = name.strip()
    if not text:
        raise ValidationError(f"Give the {eco.osv} package name.", field="package.name")
    namespace, bare = purl_parts(eco, text)
    key = key_of(PackageURL(type=eco.purl_type, namespace=namespace, name=bare))
    if len(key) > PURL_MAX_LENGTH:
        msg = f"Too long: a Package URL may be at most {PURL_MAX_LENGTH} characters long."
        raise ValidationError(msg, field="package.name")
    return key


def parse_purl(text: str, *, field: str) -> PackageURL:
    return parse_package_url(text, field=field, example="pkg:pypi/jinja2")
