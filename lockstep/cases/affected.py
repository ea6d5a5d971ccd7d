"""Affected packages, as OSV describes them: per package, ranges of events and listed versions.

The one shape, stored in `Vulnerability.affected` and in advisory snapshots, taken and given by
the API:

    [{"purl": "pkg:pypi/jinja2",
      "ranges": [{"type": "ECOSYSTEM",
                  "events": [{"introduced": "0"}, {"fixed": "2.4.1"},
                             {"introduced": "3.0"}, {"last_affected": "3.0.4"}]}],
      "versions": ["2.4.0"]}]

A range's `type` is ECOSYSTEM (the package's own version order, `cases.schemes`), SEMVER or
GIT (full commit hashes; `repo` is the repository, needed unless the purl is git-hosted).
Each event has exactly one key: introduced, fixed, last_affected or limit.

`parse_affected` checks the structure only, collecting every mistake with its path
("affected[0].ranges[1].events[2].fixd: ..."), and raises InvalidFields: unknown keys, events
with more or less than one key, fixed with last_affected in one range (OSV forbids it), a range
without introduced, versions that are not strings or hold spaces. It also reads the older shape
of a range, `{"introduced": ..., "fixed"|"last_affected": ...}`, converting it to events.
Version syntax per ecosystem, the order of the events and whether the package is the project's
are `cases.affected_policy` (they need the version schemes). Stored data is read with
`parse_affected` alone, so what was stored before those checks still reads, meaning the same.

`AffectedRange.spans` flattens a range into intervals (`VersionRange`: introduced, then fixed,
last_affected or, when open, limit): what the query API and the CVE, CSAF and text exports use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from packageurl import PackageURL

from lockstep.core.errors import ErrorList, ValidationError
from lockstep.projects.purls import normalise_package_purl

MAX_PACKAGES = 200
MAX_RANGES = 50
MAX_EVENTS = 100
MAX_VERSIONS = 1000
MAX_VERSION = 128
MAX_REPO = 2048

# Git hosting purl types: their packages are repositories, named by their clone URL.
GIT_HOSTS = {
    "github": "https://github.com",
    "gitlab": "https://gitlab.com",
    "bitbucket": "https://bitbucket.org",
}
COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_PACKAGE_KEYS = ("purl", "ranges", "versions")
_RANGE_KEYS = ("type", "repo", "events")
_OLD_RANGE_KEYS = ("introduced", "fixed", "last_affected")


class RangeType(StrEnum):
    ECOSYSTEM = "ECOSYSTEM"
    SEMVER = "SEMVER"
    GIT = "GIT"


class EventKind(StrEnum):
    INTRODUCED = "introduced"
    FIXED = "fixed"
    LAST_AFFECTED = "last_affected"
    LIMIT = "limit"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    version: str


@dataclass(frozen=True)
class VersionRange:
    """One interval: from `introduced` ("0": the first version) to before `fixed`, up to and
    including `last_affected`, or (neither) on; `limit` ends an open interval ("*": never)."""

    introduced: str
    fixed: str = ""
    last_affected: str = ""
    limit: str = ""


@dataclass(frozen=True)
class AffectedRange:
    events: tuple[Event, ...]
    type: RangeType = RangeType.ECOSYSTEM
    repo: str = ""

    @property
    def bounds(self) -> tuple[str, ...]:
        return tuple(e.version for e in self.events)

    @property
    def spans(self) -> tuple[VersionRange, ...]:
        """The intervals, read in order: introduced opens one (another introduced while one
        is open changes nothing), fixed or last_affected closes it; a limit bounds the one
        left open at the end. (Checked ranges are in order: `affected_policy`.)"""
        found: list[VersionRange] = []
        start: str | None = None
        limits = [e.version for e in self.events if e.kind is EventKind.LIMIT]
        for event in self.events:
            if event.kind is EventKind.INTRODUCED:
                start = event.version if start is None else start
            elif event.kind is EventKind.FIXED and start is not None:
                found.append(VersionRange(start, fixed=event.version))
                start = None
            elif event.kind is EventKind.LAST_AFFECTED and start is not None:
                found.append(VersionRange(start, last_affected=event.version))
                start = None
        if start is not None:
            limit = limits[0] if len(limits) == 1 and limits[0] != "*" else ""
            found.append(VersionRange(start, limit=limit))
        return tuple(found)


def range_of(span: VersionRange, kind: RangeType = RangeType.ECOSYSTEM) -> AffectedRange:
    """The range holding just `span` (the older stored shape of a range)."""
    events = [Event(EventKind.INTRODUCED, span.introduced)]
    for end, version in (
        (EventKind.FIXED, span.fixed),
        (EventKind.LAST_AFFECTED, span.last_affected),
        (EventKind.LIMIT, span.limit),
    ):
        if version:
            events.append(Event(end, version))
            break
    return AffectedRange(tuple(events), kind)


@dataclass(frozen=True)
class AffectedPackage:
    purl: str
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()

    @property
    def spans(self) -> tuple[VersionRange, ...]:
        return tuple(span for r in self.ranges for span in r.spans)

    def linear_spans(self) -> Iterator[VersionRange]:
        """The intervals of the ranges that order versions (not GIT: that needs the graph)."""
        for r in self.ranges:
            if r.type is not RangeType.GIT:
                yield from r.spans


def repository_of(package: AffectedPackage, span_range: AffectedRange) -> str:
    """The clone URL a GIT range is on: its `repo`, else the git-hosted purl's repository."""
    if span_range.repo:
        return span_range.repo
    try:
        parsed = PackageURL.from_string(package.purl)
    except ValueError:
        return ""
    host = GIT_HOSTS.get(parsed.type)
    if host is None:
        return ""
    return f"{host}/{'/'.join(part for part in (parsed.namespace, parsed.name) if part)}"


# ---------------------------------------------------------------------------------------------
# Reading


def _list(data: object, where: str, limit: int, errors: ErrorList) -> list[Any]:
    if not isinstance(data, list):
        errors.add(where, "expected a list.")
        return []
    if len(data) > limit:
        errors.add(where, f"at most {limit} entries.")
        return []
    return data


def _unknown(
    data: dict[str, Any], allowed: tuple[str, ...], where: str, errors: ErrorList, hint: str = ""
) -> None:
    for key in data:
        if key not in allowed:
            fields = hint or f"the fields are {', '.join(allowed)}"
            errors.add(f"{where}.{key}", f"unknown field {key!r}; {fields}.")


def version_text(value: object, where: str, errors: ErrorList) -> str | None:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_VERSION
        or any(ch.isspace() for ch in value)
    ):
        msg = f"a version is a non-empty string without spaces, at most {MAX_VERSION} characters."
        errors.add(where, msg)
        return None
    return value


def _event(item: object, where: str, errors: ErrorList) -> Event | None:
    kinds = ", ".join(k.value for k in EventKind)
    if not isinstance(item, dict) or len(item) != 1:
        found = ", ".join(map(str, item)) if isinstance(item, dict) else type(item).__name__
        msg = f"an event is an object with exactly one of {kinds} (got: {found or 'nothing'})."
        errors.add(where, msg)
        return None
    ((key, value),) = item.items()
    if key not in {k.value for k in EventKind}:
        errors.add(f"{where}.{key}", f"unknown event {key!r}; events are {kinds}.")
        return None
    version = version_text(value, f"{where}.{key}", errors)
    return None if version is None else Event(EventKind(key), version)


def _old_range(data: dict[str, Any], where: str, errors: ErrorList) -> list[Event]:
    """{"introduced", "fixed"|"last_affected"}, the shape ranges had before events."""
    hint = (
        'a range is {"type", "events": [...]}, or (the older shape) introduced with fixed or '
        "last_affected; limit and several introduced/fixed pairs need events"
    )
    _unknown(data, _OLD_RANGE_KEYS, where, errors, hint)
    if "introduced" not in data:
        errors.add(f"{where}.introduced", 'a range needs introduced ("0": from the start).')
    events = []
    for key in _OLD_RANGE_KEYS:
        if key in data:
            version = version_text(data[key], f"{where}.{key}", errors)
            if version is not None:
                events.append(Event(EventKind(key), version))
    return events


def _range_type(data: dict[str, Any], where: str, errors: ErrorList) -> RangeType:
    raw = data.get("type", RangeType.ECOSYSTEM.value)
    try:
        return RangeType(str(raw).upper())
    except ValueError:
        names = ", ".join(t.value for t in RangeType)
        errors.add(f"{where}.type", f"{raw!r} is not a range type; the types are {names}.")
        return RangeType.ECOSYSTEM


def _repo(data: dict[str, Any], kind: RangeType, where: str, errors: ErrorList) -> str:
    raw = data.get("repo", "")
    repo = raw.strip() if isinstance(raw, str) else ""
    if raw and not (repo and len(repo) <= MAX_REPO and "://" in repo and " " not in repo):
        errors.add(f"{where}.repo", "give the repository's clone URL (https://...).")
        return ""
    if repo and kind is not RangeType.GIT:
        errors.add(f"{where}.repo", "only a GIT range names a repository.")
    return repo


def _events_of(data: dict[str, Any], where: str, errors: ErrorList) -> list[Event]:
    if "events" not in data and any(key in data for key in _OLD_RANGE_KEYS):
        return _old_range(data, where, errors)
    if "events" not in data:
        errors.add(f"{where}.events", 'give events, e.g. [{"introduced": "0"}, {"fixed": "1.2"}].')
        return []
    _unknown(data, _RANGE_KEYS, where, errors)
    items = _list(data["events"], f"{where}.events", MAX_EVENTS, errors)
    found = [_event(item, f"{where}.events[{n}]", errors) for n, item in enumerate(items)]
    events = [e for e in found if e is not None]
    if len(events) == len(items) and not any(e.kind is EventKind.INTRODUCED for e in events):
        errors.add(f"{where}.events", 'a range needs an introduced event ("0": from the start).')
    return events


def _range(item: object, where: str, errors: ErrorList) -> AffectedRange | None:
    if not isinstance(item, dict):
        errors.add(where, "expected an object with type and events.")
        return None
    old = "events" not in item and any(key in item for key in _OLD_RANGE_KEYS)
    kind = RangeType.ECOSYSTEM if old else _range_type(item, where, errors)
    repo = "" if old else _repo(item, kind, where, errors)
    events = _events_of(item, where, errors)
    kinds = {e.kind for e in events}
    if {EventKind.FIXED, EventKind.LAST_AFFECTED} <= kinds:
        msg = "give fixed or last_affected in one range, not both (OSV forbids it); use two ranges."
        errors.add(where, msg)
    if kind is RangeType.GIT:
        for n, e in enumerate(events):
            if e.version != "0" and not COMMIT.match(e.version):
                at = f"{where}.events[{n}].{e.kind.value}" if "events" in item else where
                errors.add(at, f"{e.version!r}: a GIT range takes full commit hashes.")
    return AffectedRange(tuple(events), kind, repo)


def _package(item: object, where: str, errors: ErrorList) -> AffectedPackage | None:
    if not isinstance(item, dict):
        errors.add(where, "expected an object with purl, ranges and versions.")
        return None
    _unknown(item, _PACKAGE_KEYS, where, errors)
    purl = ""
    try:
        purl = normalise_package_purl(str(item.get("purl", "")), field=f"{where}.purl")
    except ValidationError as exc:
        errors.take(exc)
    raw_ranges = _list(item.get("ranges", []), f"{where}.ranges", MAX_RANGES, errors)
    found = [_range(r, f"{where}.ranges[{n}]", errors) for n, r in enumerate(raw_ranges)]
    raw_versions = _list(item.get("versions", []), f"{where}.versions", MAX_VERSIONS, errors)
    versions = [
        version_text(v, f"{where}.versions[{n}]", errors) for n, v in enumerate(raw_versions)
    ]
    if not raw_ranges and not raw_versions:
        errors.add(where, "give at least one range or version.")
    ranges = tuple(r for r in found if r is not None)
    return AffectedPackage(purl, ranges, tuple(v for v in versions if v is not None))


def _git_repos(packages: list[AffectedPackage | None], errors: ErrorList, field: str) -> None:
    for i, package in enumerate(packages):
        for j, span_range in enumerate(package.ranges if package else ()):
            if (
                package
                and package.purl
                and span_range.type is RangeType.GIT
                and not repository_of(package, span_range)
            ):
                msg = "a GIT range needs repo, the repository's clone URL."
                errors.add(f"{field}[{i}].ranges[{j}].repo", msg)


def read_packages(
    data: object, errors: ErrorList, *, field: str = "affected"
) -> list[AffectedPackage | None]:
    """Each entry of `data` read (None where it is not even an object), mistakes added to
    `errors`: the list lines up with `data`, so `affected_policy` can name each path."""
    packages: list[AffectedPackage | None] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(_list(data, field, MAX_PACKAGES, errors)):
        where = f"{field}[{index}]"
        package = _package(item, where, errors)
        packages.append(package)
        if package is None:
            continue
        if package.purl and package.purl in seen:
            msg = f"{package.purl} is listed twice (also as {field}[{seen[package.purl]}])."
            errors.add(f"{where}.purl", msg)
        seen.setdefault(package.purl, index)
    _git_repos(packages, errors, field)
    return packages


def parse_affected(data: object, *, field: str = "affected") -> tuple[AffectedPackage, ...]:
    """The affected packages in `data` (see the module), or InvalidFields naming every fault."""
    errors = ErrorList()
    packages = read_packages(data, errors, field=field)
    errors.raise_if_any()
    return tuple(p for p in packages if p is not None)


def affected_to_json(packages: tuple[AffectedPackage, ...]) -> list[dict[str, Any]]:
    """The stored shape, which `parse_affected` reads back to equal values."""
    result = []
    for package in packages:
        ranges = []
        for r in package.ranges:
            item: dict[str, Any] = {"type": r.type.value}
            if r.repo:
                item["repo"] = r.repo
            item["events"] = [{e.kind.value: e.version} for e in r.events]
            ranges.append(item)
        result.append({"purl": package.purl, "ranges": ranges, "versions": list(package.versions)})
    return result
