"""Which advisories affect a package version: the pure half of an OSV-style `POST /api/v1/query`.

`parse_query` turns the request body into a `PackageQuery` (a canonical versionless purl and a
version) or raises ValidationError; `package_key` gives the canonical purl that advisories are
indexed by, so the edge can fetch candidates by exact key; `affects` then decides, per
ecosystem, whether the version falls in an advisory's affected ranges or explicit versions.

Ecosystems. `ECOSYSTEMS` is the one table mapping OSV ecosystem names to purl types and back
(`ecosystem_for_purl`); `_SCHEMES` says how each purl type orders its versions (mostly
`univers`). Purl types missing from `_SCHEMES` use `_GenericVersion`: runs of digits compare as
numbers, words as pre-releases (see `_token_key`).

Bad data never crashes a query. A version stored in an advisory that its scheme cannot parse,
or that cannot be compared, makes that one range not match (and an explicit version then
matches only by exact string); the other ranges and packages are still checked. A version in
the query that cannot be parsed is the caller's fault: ValidationError.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from itertools import zip_longest
from typing import ClassVar

from packageurl import PackageURL
from typing_extensions import override
from univers.nuget import InvalidNuGetVersion
from univers.versions import (
    AlpineLinuxVersion,
    DebianVersion,
    GolangVersion,
    MavenVersion,
    NugetVersion,
    PypiVersion,
    RpmVersion,
    RubygemsVersion,
    SemverVersion,
    Version,
)

from lockstep.cases.vulndata import MAX_VERSION, AffectedPackage, VersionRange
from lockstep.core.errors import ValidationError
from lockstep.projects.purls import PURL_MAX_LENGTH

MAX_NAME = 256
MAX_ECOSYSTEM = 64
_QUERY_KEYS = frozenset({"package", "version"})
_PACKAGE_KEYS = frozenset({"purl", "ecosystem", "name"})

# What univers' parsers and comparisons raise on strings they do not accept. NuGet's error
# derives from Exception, not ValueError; Maven and RPM comparisons can raise Runtime/TypeError.
_VERSION_ERRORS = (ValueError, TypeError, RuntimeError, AttributeError, InvalidNuGetVersion)


# ---------------------------------------------------------------------------------------------
# Version schemes


def _strip_build(text: str) -> str:
    """Drop semver build metadata ("+build"): it does not take part in precedence."""
    return text.split("+", 1)[0]


def _drop_v(text: str) -> str:
    """Remove one leading "v" before a digit ("v1.2" -> "1.2")."""
    stripped = "".join(text.split())
    if stripped[:1] in {"v", "V"} and stripped[1:2].isdigit():
        return stripped[1:]
    return stripped


class _SemverVersion(SemverVersion):
    """SemVer 2.0 as npm, crates.io and Hex use it: build metadata is ignored when ordering."""

    @override
    @classmethod
    def normalize(cls, string: str) -> str:
        return _strip_build(_drop_v(string))


class _GolangVersion(GolangVersion):
    """Go module versions: "v1.2.3" and "1.2.3" are equal; "+incompatible" is ignored."""

    @override
    @classmethod
    def normalize(cls, string: str) -> str:
        return _strip_build(_drop_v(string))


_Token = tuple[int, int, str]
# A missing token compares as the number 0, so "1.0" == "1.0.0" and "1.0rc1" < "1.0".
_PAD: _Token = (1, 0, "")
_TOKENS = re.compile(r"[0-9]+|[a-z]+")


@functools.total_ordering
class _TokenKey:
    """Comparable value of a version split into tokens; shorter keys are padded with zeros."""

    __slots__ = ("tokens",)

    def __init__(self, tokens: tuple[_Token, ...]) -> None:
        end = len(tokens)
        while end and tokens[end - 1] == _PAD:
            end -= 1
        self.tokens = tokens[:end]

    @override
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _TokenKey):
            return NotImplemented
        return self.tokens == other.tokens

    def __lt__(self, other: _TokenKey) -> bool:
        for mine, theirs in zip_longest(self.tokens, other.tokens, fillvalue=_PAD):
            if mine != theirs:
                return mine < theirs
        return False

    @override
    def __hash__(self) -> int:
        return hash(self.tokens)


def _token_key(text: str, words: dict[str, int], *, strict: bool) -> _TokenKey:
    """Split `text` into runs of digits and of letters; everything else separates.

    A number N is (1, N, ""). A word in `words` with a rank below 0 is a pre-release and sorts
    below any number or end of version: (0, 100 + rank, word); rank 0 means "ignore this word";
    a rank above 0 is a post-release, just above a 0 in that place: (1, 0, word). A word not in
    `words` is an error when `strict`, else an unranked pre-release (0, 0, word) ordered by
    spelling. When `strict`, the version must also start with a number.
    """
    tokens: list[_Token] = []
    for run in _TOKENS.findall(text.lower()):
        if run.isdigit():
            tokens.append((1, int(run), ""))
            continue
        rank = words.get(run)
        if rank is None:
            if strict:
                raise ValueError(f"unknown word {run!r} in version {text!r}")
            tokens.append((0, 0, run))
        elif rank < 0:
            tokens.append((0, 100 + rank, run))
        elif rank > 0:
            tokens.append((1, 0, run))
    if not tokens:
        raise ValueError(f"version {text!r} has neither digits nor letters")
    if strict and tokens[0][0] != 1:
        raise ValueError(f"version {text!r} does not start with a number")
    return _TokenKey(tuple(tokens))


# Words of the generic scheme: dev < alpha < beta < rc < release < post.
_GENERIC_WORDS = {
    "dev": -5,
    "snapshot": -5,
    "alpha": -4,
    "a": -4,
    "beta": -3,
    "b": -3,
    "pre": -2,
    "preview": -2,
    "c": -2,
    "rc": -2,
    "cr": -2,
    "final": 0,
    "ga": 0,
    "release": 0,
    "post": 1,
    "patch": 1,
    "pl": 1,
    "p": 1,
    "r": 1,
    "rev": 1,
}
# Composer's stability flags (its VersionParser): dev < alpha < beta < RC < stable < patch.
_COMPOSER_WORDS = {
    "dev": -5,
    "alpha": -4,
    "a": -4,
    "beta": -3,
    "b": -3,
    "rc": -2,
    "stable": 0,
    "patch": 1,
    "pl": 1,
    "p": 1,
}


class _GenericVersion(Version):
    """Fallback for schemes univers does not cover (e.g. CRAN "1.2-3", Hackage "1.2.3.4").

    Any string with a letter or digit parses. Digits compare as numbers (1.10 > 1.9), missing
    parts as 0 (1.0 == 1.0.0), known pre-release words below the release (1.0rc1 < 1.0),
    post-release words just above it (1.0 < 1.0.post1 < 1.0.1), other words like pre-releases,
    by spelling ("build-7" < "build-8"); case and punctuation are ignored.
    """

    words: ClassVar[dict[str, int]] = _GENERIC_WORDS
    strict: ClassVar[bool] = False

    @override
    @classmethod
    def normalize(cls, string: str) -> str:
        return _drop_v(string)

    @override
    @classmethod
    def is_valid(cls, string: str) -> bool:
        try:
            _token_key(string, cls.words, strict=cls.strict)
        except ValueError:
            return False
        return True

    @override
    @classmethod
    def build_value(cls, string: str) -> _TokenKey:
        return _token_key(string, cls.words, strict=cls.strict)


class _ComposerVersion(_GenericVersion):
    """Composer (Packagist): numbers (1.0 == 1.0.0.0), then Composer's stability flags.

    univers' ComposerVersion is plain semver and so orders "1.0-RC1" below "1.0-beta".
    Branch names ("dev-main", "2.x-dev") are not versions that can be ordered and do not parse.
    """

    words: ClassVar[dict[str, int]] = _COMPOSER_WORDS
    strict: ClassVar[bool] = True


@dataclass(frozen=True)
class _Scheme:
    label: str
    version_class: type[Version]
    example: str


_GENERIC = _Scheme("generic", _GenericVersion, "1.2.3")
_SEMVER = _Scheme("SemVer", _SemverVersion, "1.2.3")

# How each purl type orders its versions. Types not listed here use _GENERIC.
_SCHEMES: dict[str, _Scheme] = {
    "pypi": _Scheme("PEP 440", PypiVersion, "2.4.1"),
    "npm": _SEMVER,
    "cargo": _SEMVER,
    "hex": _SEMVER,
    "swift": _SEMVER,
    # Pub orders build metadata ("1.0.0+1" > "1.0.0"), so it keeps univers' semver as is.
    "pub": _Scheme("SemVer", SemverVersion, "1.2.3"),
    "golang": _Scheme("Go module", _GolangVersion, "v1.2.3"),
    "gem": _Scheme("RubyGems", RubygemsVersion, "1.2.3"),
    "maven": _Scheme("Maven", MavenVersion, "1.2.3"),
    "nuget": _Scheme("NuGet", NugetVersion, "1.2.3"),
    "composer": _Scheme("Composer", _ComposerVersion, "1.2.3"),
    "deb": _Scheme("Debian", DebianVersion, "1:1.2.3-1"),
    "apk": _Scheme("Alpine", AlpineLinuxVersion, "1.2.3-r0"),
    "rpm": _Scheme("RPM", RpmVersion, "1.2.3-1.el9"),
}


def _scheme(purl_type: str) -> _Scheme:
    return _SCHEMES.get(purl_type, _GENERIC)


@functools.lru_cache(maxsize=8192)
def _parse_version(purl_type: str, text: str) -> Version | None:
    """The version `text` in the scheme of `purl_type`, or None if it does not parse."""
    if not text or len(text) > MAX_VERSION or any(ch.isspace() for ch in text):
        return None
    try:
        return _scheme(purl_type).version_class(text)
    except _VERSION_ERRORS:
        return None


# ---------------------------------------------------------------------------------------------
# Ecosystems


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


def _find_ecosystem(text: str) -> Ecosystem:
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


def _purl_parts(eco: Ecosystem, name: str) -> tuple[str | None, str]:
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
    parsed = _parse_purl(purl, field="purl")
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


# ---------------------------------------------------------------------------------------------
# Package keys


def _parse_purl(text: str, *, field: str) -> PackageURL:
    raw = text.strip()
    if not raw:
        raise ValidationError("Give a Package URL, e.g. pkg:pypi/jinja2.", field=field)
    if len(raw) > PURL_MAX_LENGTH:
        msg = f"A Package URL may be at most {PURL_MAX_LENGTH} characters long."
        raise ValidationError(msg, field=field)
    try:
        return PackageURL.from_string(raw)
    except ValueError as exc:
        msg = f"{raw!r} is not a valid Package URL ({exc}). Example: pkg:npm/%40scope/name."
        raise ValidationError(msg, field=field) from None


_PEP503 = re.compile(r"[-_.]+")


def _key_of(parsed: PackageURL) -> str:
    name = str(parsed.name)
    if parsed.type == "pypi":
        name = _PEP503.sub("-", name).lower()
    bare = PackageURL(type=parsed.type, namespace=parsed.namespace, name=name)
    return str(bare.to_string())


@functools.lru_cache(maxsize=8192)
def package_key(purl: str) -> str:
    """The canonical versionless purl that advisories are indexed and matched by.

    The purl is normalised as `projects.purls.normalise_package_purl` does (packageurl's
    canonical form), then: any version, qualifiers and subpath are dropped (they do not change
    which package it is), and PyPI names are normalised per PEP 503 ("Foo_Bar.baz" ->
    "foo-bar-baz"), which packageurl only partly does. Raises ValidationError if invalid.
    """
    return _key_of(_parse_purl(purl, field="purl"))


# ---------------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class PackageQuery:
    purl: str  # package_key form: canonical, versionless
    version: str


def _text(value: object, field: str, limit: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: give {what} as a non-empty string.", field=field)
    if len(value) > limit:
        raise ValidationError(f"{field}: at most {limit} characters.", field=field)
    return value.strip()


def _query_version(value: object, purl_type: str) -> str:
    if value is None or value == "":
        msg = 'Give the version to check, e.g. "version": "2.4.1" (or put it in the purl @2.4.1).'
        raise ValidationError(msg, field="version")
    text = _text(value, "version", MAX_VERSION, "a version")
    if any(ch.isspace() for ch in text):
        msg = f"{text!r} is not a version: versions contain no spaces."
        raise ValidationError(msg, field="version")
    _parse_query_version(purl_type, text)
    return text


def _parse_query_version(purl_type: str, text: str) -> Version:
    version = _parse_version(purl_type, text) if any(ch.isalnum() for ch in text) else None
    if version is None:
        scheme = _scheme(purl_type)
        msg = f"{text!r} is not a valid {scheme.label} version (e.g. {scheme.example})."
        raise ValidationError(msg, field="version")
    return version


def _reject_unknown(data: dict[str, object], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if not unknown:
        return
    if where == "query" and "commit" in unknown:
        msg = "Queries by commit are not supported; give package and version."
        raise ValidationError(msg, field="commit")
    names = ", ".join(sorted(allowed))
    msg = f"{where}: unknown field(s) {', '.join(unknown)}; the fields are {names}."
    raise ValidationError(msg, field=where)


def parse_query(data: object) -> PackageQuery:
    """Parse an OSV-style query body into a PackageQuery, or raise ValidationError.

    Accepted forms: {"package": {"ecosystem": "PyPI", "name": "jinja2"}, "version": "2.4.1"},
    {"package": {"purl": "pkg:pypi/jinja2"}, "version": "2.4.1"} and
    {"package": {"purl": "pkg:pypi/jinja2@2.4.1"}} (then without "version").
    """
    if not isinstance(data, dict):
        msg = 'Send a JSON object: {"package": {"purl": "pkg:pypi/jinja2"}, "version": "2.4.1"}.'
        raise ValidationError(msg)
    _reject_unknown(data, _QUERY_KEYS, "query")
    package = data.get("package")
    if not isinstance(package, dict):
        msg = (
            'Give "package" as an object: {"purl": "pkg:pypi/jinja2"} '
            'or {"ecosystem": "PyPI", "name": "jinja2"}.'
        )
        raise ValidationError(msg, field="package")
    _reject_unknown(package, _PACKAGE_KEYS, "package")
    version = data.get("version")
    if "purl" in package:
        if "ecosystem" in package or "name" in package:
            msg = "package: give either purl, or ecosystem and name, not both."
            raise ValidationError(msg, field="package")
        text = _text(package["purl"], "package.purl", PURL_MAX_LENGTH, "a Package URL")
        parsed = _parse_purl(text, field="package.purl")
        if parsed.version:
            if version is not None:
                msg = (
                    f"package.purl already names version {parsed.version}; "
                    'drop "version" or the @version in the purl.'
                )
                raise ValidationError(msg, field="version")
            version = parsed.version
        key = _key_of(parsed)
        return PackageQuery(purl=key, version=_query_version(version, parsed.type))
    if "ecosystem" not in package or "name" not in package:
        msg = 'package: give both "ecosystem" and "name" (or a "purl").'
        raise ValidationError(msg, field="package")
    ecosystem = _text(package["ecosystem"], "package.ecosystem", MAX_ECOSYSTEM, "an ecosystem")
    eco = _find_ecosystem(ecosystem)
    name = _text(package["name"], "package.name", MAX_NAME, "a package name")
    namespace, bare = _purl_parts(eco, name)
    key = _key_of(PackageURL(type=eco.purl_type, namespace=namespace, name=bare))
    if len(key) > PURL_MAX_LENGTH:
        msg = f"package.name: too long; its Package URL may be at most {PURL_MAX_LENGTH} long."
        raise ValidationError(msg, field="package.name")
    return PackageQuery(purl=key, version=_query_version(version, eco.purl_type))


# ---------------------------------------------------------------------------------------------
# Matching


def _purl_type(key: str) -> str:
    return key[4:].split("/", 1)[0]


def _in_range(version: Version, purl_type: str, span: VersionRange) -> bool:
    """Is `version` in the range? An unparsable or incomparable bound means no (see module)."""
    try:
        if span.introduced != "0":
            low = _parse_version(purl_type, span.introduced)
            if low is None or version < low:
                return False
        if span.fixed:
            high = _parse_version(purl_type, span.fixed)
            return high is not None and version < high
        if span.last_affected:
            last = _parse_version(purl_type, span.last_affected)
            # Not `<=`: univers' Gentoo/Alpine versions define only < and ==, and the `<=`
            # they inherit from attrs compares the raw strings.
            return last is not None and (version < last or version == last)
    except _VERSION_ERRORS:
        return False
    return True


def _listed(version: Version, text: str, purl_type: str, versions: Iterable[str]) -> bool:
    for item in versions:
        if item == text:
            return True
        other = _parse_version(purl_type, item)
        try:
            if other is not None and other == version:
                return True
        except _VERSION_ERRORS:
            continue
    return False


def _candidates(key: str, packages: Iterable[AffectedPackage]) -> Iterator[AffectedPackage]:
    for package in packages:
        try:
            if package_key(package.purl) == key:
                yield package
        except ValidationError:
            continue


def affects(query: PackageQuery, packages: Iterable[AffectedPackage]) -> bool:
    """Does any of `packages` (an advisory's affected data) include the queried version?

    Only packages whose `package_key` equals `query.purl` count. A version is affected if it is
    listed in `versions` (same string, or equal in the scheme) or lies in a range:
    introduced <= v < fixed, introduced <= v <= last_affected, or introduced <= v when the
    range has neither; introduced "0" means from the first version. Raises ValidationError if
    the query's version does not parse; unparsable stored versions only fail their own range.
    """
    purl_type = _purl_type(query.purl)
    version = _parse_query_version(purl_type, query.version)
    for package in _candidates(query.purl, packages):
        if _listed(version, query.version, purl_type, package.versions):
            return True
        if any(_in_range(version, purl_type, span) for span in package.ranges):
            return True
    return False
