"""Whether what a maintainer says is affected holds: `check_affected` (pure; no ORM, no clock).

On top of the structure (`affected.read_packages`), each package is checked against its
ecosystem and the project:

- The package is one of the project's Package URLs (compared by `package_key`), unless the
  entry says `"outside_project": true`: the maintainer confirms it is another package (a fork,
  a bundled copy, a distribution's package). The flag is input only; it is not stored.
- Every version parses in the package's version scheme (`schemes.scheme_for`: PEP 440 for PyPI,
  Debian's for deb, ...); a SEMVER range takes SemVer 2.0 versions without a leading "v".
  "0" is only an introduced version (from the first version on), "*" only a limit (none).
- The events of an ECOSYSTEM or SEMVER range are in order: introduced first, then alternately
  fixed or last_affected and introduced, each version above the one before (last_affected may
  equal the introduced it closes: one version); a limit only last. GIT ranges hold commits,
  whose order only the repository knows, and are not ordered here.

Errors name their path ("affected[0].ranges[1].events[2].fixed") and all are reported at once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from univers.versions import Version

from lockstep.cases.affected import (
    AffectedPackage,
    AffectedRange,
    Event,
    EventKind,
    RangeType,
    read_packages,
)
from lockstep.cases.schemes import (
    SEMVER_SCHEME,
    VERSION_ERRORS,
    Scheme,
    is_semver,
    parse_version,
    scheme_for,
)
from lockstep.core.errors import ErrorList
from lockstep.projects.purls import package_key

OUTSIDE = "outside_project"
_CLOSING = (EventKind.FIXED, EventKind.LAST_AFFECTED)


def _confirmations(data: object, field: str, errors: ErrorList) -> tuple[object, set[int]]:
    """`data` without the `outside_project` flags, and the positions that carry one."""
    if not isinstance(data, list):
        return data, set()
    entries: list[Any] = []
    outside: set[int] = set()
    for index, item in enumerate(data):
        if isinstance(item, dict) and OUTSIDE in item:
            flag = item[OUTSIDE]
            if not isinstance(flag, bool):
                errors.add(f"{field}[{index}].{OUTSIDE}", "give true or false.")
            elif flag:
                outside.add(index)
            item = {k: v for k, v in item.items() if k != OUTSIDE}  # noqa: PLW2901
        entries.append(item)
    return entries, outside


def _parsed(purl_type: str, kind: RangeType, version: str) -> Version | None:
    if kind is RangeType.SEMVER:
        return SEMVER_SCHEME.version_class(version) if is_semver(version) else None
    return parse_version(purl_type, version) if any(ch.isalnum() for ch in version) else None


def _unparsable(version: str, scheme: Scheme) -> str:
    return f"{version!r} is not a valid {scheme.label} version (e.g. {scheme.example})."


def _check_membership(
    package: AffectedPackage, where: str, project: tuple[str, Collection[str]], errors: ErrorList
) -> None:
    name, purls = project
    if package_key(package.purl) in {package_key(p) for p in purls}:
        return
    known = ", ".join(sorted(purls)) or "none on file"
    msg = (
        f"{package.purl} is not one of {name}'s packages ({known}). Pick one of them, or "
        f'confirm that it is another package ("{OUTSIDE}": true; in the form, the box '
        '"not one of the project\'s packages").'
    )
    errors.add(f"{where}.purl", msg)


def _check_versions(package: AffectedPackage, where: str, errors: ErrorList) -> None:
    purl_type = package.purl[4:].split("/", 1)[0]
    for n, version in enumerate(package.versions):
        if _parsed(purl_type, RangeType.ECOSYSTEM, version) is None:
            errors.add(f"{where}.versions[{n}]", _unparsable(version, scheme_for(purl_type)))


def _order_problem(previous: EventKind | None, kind: EventKind, *, last: bool) -> str:
    """What is wrong with an event of `kind` after one of kind `previous` ("" if nothing)."""
    if previous is None:
        return "" if kind is EventKind.INTRODUCED else "a range starts with an introduced event."
    if kind is EventKind.LIMIT:
        return "" if last else "a limit comes last, after every other event."
    if previous is EventKind.LIMIT:
        return "a limit comes last, after every other event."
    if kind is EventKind.INTRODUCED and previous is EventKind.INTRODUCED:
        return "introduced twice in a row: close the first with fixed or last_affected."
    if kind in _CLOSING and previous in _CLOSING:
        return f"{kind.value} after {previous.value}: put an introduced event between them."
    return ""


def _special(event: Event, n: int) -> str | None:
    """The problem with a special value ("0", "*"): "" if fine there; None if not special."""
    if event.version == "0":
        ok = event.kind is EventKind.INTRODUCED and n == 0
        return "" if ok else '"0" is only the first introduced version (from the start).'
    if event.version == "*":
        return "" if event.kind is EventKind.LIMIT else '"*" is only a limit (no limit).'
    return None


@dataclass(frozen=True)
class _Range:
    purl_type: str
    kind: RangeType
    events: tuple[Event, ...]


def _compare(before: tuple[Event, Version], event: Event, version: Version) -> str:
    # Not `<=`: univers' Alpine and Gentoo versions define only < and == (see query._in_range).
    try:
        if before[1] < version:
            return ""
        if event.kind is EventKind.LAST_AFFECTED and before[1] == version:
            return ""  # one version: introduced and last affected
    except VERSION_ERRORS:  # pragma: no cover - univers raises so on rare strings only; a guard
        return f"{event.version} cannot be compared with {before[0].version}."
    return (
        f"{event.version} is not above {before[0].version}, the {before[0].kind.value} before "
        "it: give the events in order, lowest version first."
    )


def _check_event(
    span: _Range, n: int, before: tuple[Event, Version] | None
) -> tuple[str, Version | None]:
    """The problem with event `n` ("" if none) and its version; `before` is the last event
    before it whose version parsed."""
    event = span.events[n]
    previous = span.events[n - 1].kind if n else None
    order = _order_problem(previous, event.kind, last=n == len(span.events) - 1)
    special = _special(event, n)
    if special is not None:
        return special or order, None
    version = _parsed(span.purl_type, span.kind, event.version)
    if version is None:
        scheme = SEMVER_SCHEME if span.kind is RangeType.SEMVER else scheme_for(span.purl_type)
        return _unparsable(event.version, scheme), None
    if order or before is None:
        return order, version
    return _compare(before, event, version), version


def _check_range(purl_type: str, span_range: AffectedRange, where: str, errors: ErrorList) -> None:
    if span_range.type is RangeType.GIT:
        return
    span = _Range(purl_type, span_range.type, span_range.events)
    before: tuple[Event, Version] | None = None
    for n, event in enumerate(span.events):
        problem, version = _check_event(span, n, before)
        if problem:
            errors.add(f"{where}.events[{n}].{event.kind.value}", problem)
        if version is not None:
            before = (event, version)


def check_affected(
    data: object,
    *,
    project_name: str,
    project_purls: Collection[str],
    errors: ErrorList | None = None,
    field: str = "affected",
) -> tuple[AffectedPackage, ...]:
    """The affected packages in `data`, checked (see the module). Every mistake goes to
    `errors`; without `errors`, InvalidFields is raised if there is any."""
    found = ErrorList() if errors is None else errors
    entries, outside = _confirmations(data, field, found)
    packages = read_packages(entries, found, field=field)
    for index, package in enumerate(packages):
        where = f"{field}[{index}]"
        if package is None or any(_under(path, where) for path, _ in found.errors):
            continue  # its structure is wrong: said already, and paths would not line up
        if index not in outside:
            _check_membership(package, where, (project_name, project_purls), found)
        _check_versions(package, where, found)
        purl_type = package.purl[4:].split("/", 1)[0]
        for j, span_range in enumerate(package.ranges):
            _check_range(purl_type, span_range, f"{where}.ranges[{j}]", found)
    if errors is None:
        found.raise_if_any()
    return tuple(p for p in packages if p is not None)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))
