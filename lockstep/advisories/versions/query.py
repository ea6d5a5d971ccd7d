"""OSV-style queries: `parse_query` reads a request body, `affects` matches advisories' data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from packageurl import PackageURL
from univers.versions import Version

from lockstep.advisories.versions.packages import find_ecosystem, parse_purl, purl_parts
from lockstep.cases.affected import MAX_VERSION, AffectedPackage, VersionRange
from lockstep.cases.schemes import VERSION_ERRORS, parse_version, scheme_for
from lockstep.core.errors import ValidationError
from lockstep.projects.purls import PURL_MAX_LENGTH, key_of, package_key

MAX_NAME = 256
MAX_ECOSYSTEM = 64
_QUERY_KEYS = frozenset({"package", "version"})
_PACKAGE_KEYS = frozenset({"purl", "ecosystem", "name"})


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
    version = parse_version(purl_type, text) if any(ch.isalnum() for ch in text) else None
    if version is None:
        scheme = scheme_for(purl_type)
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
        parsed = parse_purl(text, field="package.purl")
        if parsed.version:
            if version is not None:
                msg = (
                    f"package.purl already names version {parsed.version}; "
                    'drop "version" or the @version in the purl.'
                )
                raise ValidationError(msg, field="version")
            version = parsed.version
        key = key_of(parsed)
        return PackageQuery(purl=key, version=_query_version(version, parsed.type))
    if "ecosystem" not in package or "name" not in package:
        msg = 'package: give both "ecosystem" and "name" (or a "purl").'
        raise ValidationError(msg, field="package")
    ecosystem = _text(package["ecosystem"], "package.ecosystem", MAX_ECOSYSTEM, "an ecosystem")
    eco = find_ecosystem(ecosystem)
    name = _text(package["name"], "package.name", MAX_NAME, "a package name")
    namespace, bare = purl_parts(eco, name)
    key = key_of(PackageURL(type=eco.purl_type, namespace=namespace, name=bare))
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
            low = parse_version(purl_type, span.introduced)
            if low is None or version < low:
                return False
        if span.fixed:
            high = parse_version(purl_type, span.fixed)
            return high is not None and version < high
        if span.last_affected:
            last = parse_version(purl_type, span.last_affected)
            # Not `<=`: univers' Gentoo/Alpine versions define only < and ==, and the `<=`
            # they inherit from attrs compares the raw strings.
            return last is not None and (version < last or version == last)
        if span.limit:
            limit = parse_version(purl_type, span.limit)
            return limit is not None and version < limit
    except VERSION_ERRORS:
        return False
    return True


def _listed(version: Version, text: str, purl_type: str, versions: Iterable[str]) -> bool:
    for item in versions:
        if item == text:
            return True
        other = parse_version(purl_type, item)
        try:
            if other is not None and other == version:
                return True
        except VERSION_ERRORS:
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
    listed in `versions` (same string, or equal in the scheme) or lies in an interval of an
    ECOSYSTEM or SEMVER range (`AffectedRange.spans`): introduced <= v < fixed, introduced <= v
    <= last_affected, or introduced <= v (< limit) when the interval is open; introduced "0"
    means from the first version. GIT ranges are commits: only the repository orders them, so
    they match no version. Raises ValidationError if the query's version does not parse;
    unparsable stored versions only fail their own interval.
    """
    purl_type = _purl_type(query.purl)
    version = _parse_query_version(purl_type, query.version)
    for package in _candidates(query.purl, packages):
        if _listed(version, query.version, purl_type, package.versions):
            return True
        if any(_in_range(version, purl_type, span) for span in package.linear_spans()):
            return True
    return False
