"""Pure checks of what a vulnerability carries: CVSS, CWE, affected ranges, references, credits.

Each `parse_*` takes JSON-like input and returns frozen values or raises ValidationError
naming the entry at fault; each `*_to_json` gives back plain data that parses again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from lockstep.core.errors import ValidationError
from lockstep.projects.purls import normalise_package_purl

MAX_PACKAGES = 200
MAX_RANGES = 50
MAX_VERSION = 128
MAX_URL = 2048
MAX_ITEMS = 100
MAX_NAME = 200


@dataclass(frozen=True)
class Severity:
    version: str
    vector: str
    base_score: float
    rating: str


def parse_cvss(vector: str, *, field: str = "cvss") -> Severity:
    text = vector.strip()
    if text.startswith("CVSS:3.1/"):
        try:
            score = CVSS3(text)
        except CVSSError as exc:
            raise ValidationError(f"Not a valid CVSS 3.1 vector: {exc}", field=field) from None
        return Severity(
            "3.1", score.clean_vector(), float(score.scores()[0]), str(score.severities()[0])
        )
    if text.startswith("CVSS:4.0/"):
        try:
            score4 = CVSS4(text)
        except CVSSError as exc:
            raise ValidationError(f"Not a valid CVSS 4.0 vector: {exc}", field=field) from None
        return Severity(
            "4.0", score4.clean_vector(), float(score4.base_score), str(score4.severity)
        )
    msg = "Give a CVSS 3.1 or 4.0 vector, starting with CVSS:3.1/ or CVSS:4.0/."
    raise ValidationError(msg, field=field)


_CWE = re.compile(r"^(?:CWE-)?([1-9][0-9]{0,5})$", re.IGNORECASE)


def normalise_cwe(text: str, *, field: str = "cwe") -> str:
    match = _CWE.match(text.strip())
    if match is None:
        msg = f"{text!r} is not a CWE identifier (e.g. CWE-787)."
        raise ValidationError(msg, field=field)
    return f"CWE-{match.group(1)}"


@dataclass(frozen=True)
class VersionRange:
    introduced: str
    fixed: str = ""
    last_affected: str = ""


@dataclass(frozen=True)
class AffectedPackage:
    purl: str
    ranges: tuple[VersionRange, ...]
    versions: tuple[str, ...] = ()


def _items(data: object, field: str, limit: int) -> list[Any]:
    if not isinstance(data, list):
        raise ValidationError(f"{field}: expected a list.", field=field)
    if len(data) > limit:
        raise ValidationError(f"{field}: at most {limit} entries.", field=field)
    return data


def _mapping(item: object, where: str, field: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationError(f"{where}: expected an object.", field=field)
    return item


def _version(value: object, where: str, field: str, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise ValidationError(f"{where}: a version is required.", field=field)
        return ""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_VERSION
        or any(ch.isspace() for ch in value)
    ):
        msg = f"{where}: a version is a non-empty string without spaces, at most {MAX_VERSION}."
        raise ValidationError(msg, field=field)
    return value


def _range(item: object, where: str, field: str) -> VersionRange:
    data = _mapping(item, where, field)
    fixed = _version(data.get("fixed"), f"{where}.fixed", field, required=False)
    last = _version(data.get("last_affected"), f"{where}.last_affected", field, required=False)
    if fixed and last:
        raise ValidationError(
            f"{where}: give either fixed or last_affected, not both.", field=field
        )
    introduced = _version(data.get("introduced"), f"{where}.introduced", field, required=True)
    return VersionRange(introduced=introduced, fixed=fixed, last_affected=last)


def parse_affected(data: object, *, field: str = "affected") -> tuple[AffectedPackage, ...]:
    packages: list[AffectedPackage] = []
    seen: set[str] = set()
    for index, item in enumerate(_items(data, field, MAX_PACKAGES)):
        where = f"{field}[{index}]"
        entry = _mapping(item, where, field)
        purl = normalise_package_purl(str(entry.get("purl", "")), field=field)
        if purl in seen:
            raise ValidationError(f"{where}: {purl} is listed twice.", field=field)
        seen.add(purl)
        ranges = tuple(
            _range(r, f"{where}.ranges[{n}]", field)
            for n, r in enumerate(_items(entry.get("ranges", []), f"{where}.ranges", MAX_RANGES))
        )
        versions = tuple(
            _version(v, f"{where}.versions[{n}]", field, required=True)
            for n, v in enumerate(_items(entry.get("versions", []), f"{where}.versions", 1000))
        )
        if not ranges and not versions:
            raise ValidationError(f"{where}: give at least one range or version.", field=field)
        packages.append(AffectedPackage(purl=purl, ranges=ranges, versions=versions))
    return tuple(packages)


def affected_to_json(packages: tuple[AffectedPackage, ...]) -> list[dict[str, Any]]:
    result = []
    for package in packages:
        ranges = []
        for r in package.ranges:
            item = {"introduced": r.introduced}
            if r.fixed:
                item["fixed"] = r.fixed
            if r.last_affected:
                item["last_affected"] = r.last_affected
            ranges.append(item)
        result.append({"purl": package.purl, "ranges": ranges, "versions": list(package.versions)})
    return result


def fixed_versions(packages: tuple[AffectedPackage, ...]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for package in packages:
        for r in package.ranges:
            if r.fixed:
                found.setdefault(r.fixed)
    return tuple(found)


class ReferenceType(StrEnum):
    ADVISORY = "ADVISORY"
    ARTICLE = "ARTICLE"
    DETECTION = "DETECTION"
    DISCUSSION = "DISCUSSION"
    REPORT = "REPORT"
    FIX = "FIX"
    INTRODUCED = "INTRODUCED"
    PACKAGE = "PACKAGE"
    EVIDENCE = "EVIDENCE"
    WEB = "WEB"


@dataclass(frozen=True)
class Reference:
    type: ReferenceType
    url: str


def _url(value: object, where: str, field: str) -> str:
    text = str(value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(text) > MAX_URL:
        raise ValidationError(f"{where}: an http(s) URL is required.", field=field)
    return text


def _choice(enum: type[StrEnum], value: object, where: str, field: str) -> Any:  # noqa: ANN401 - the enum's member
    try:
        return enum(str(value or "").upper())
    except ValueError:
        names = ", ".join(member.value for member in enum)
        raise ValidationError(f"{where}: type must be one of {names}.", field=field) from None


def parse_references(data: object, *, field: str = "references") -> tuple[Reference, ...]:
    refs: list[Reference] = []
    for index, item in enumerate(_items(data, field, MAX_ITEMS)):
        where = f"{field}[{index}]"
        entry = _mapping(item, where, field)
        ref = Reference(
            _choice(ReferenceType, entry.get("type", "WEB"), where, field),
            _url(entry.get("url"), where, field),
        )
        if ref in refs:
            raise ValidationError(f"{where}: listed twice.", field=field)
        refs.append(ref)
    return tuple(refs)


def references_to_json(refs: tuple[Reference, ...]) -> list[dict[str, str]]:
    return [{"type": ref.type.value, "url": ref.url} for ref in refs]


class CreditType(StrEnum):
    FINDER = "FINDER"
    REPORTER = "REPORTER"
    ANALYST = "ANALYST"
    COORDINATOR = "COORDINATOR"
    REMEDIATION_DEVELOPER = "REMEDIATION_DEVELOPER"
    REMEDIATION_REVIEWER = "REMEDIATION_REVIEWER"
    REMEDIATION_VERIFIER = "REMEDIATION_VERIFIER"
    TOOL = "TOOL"
    SPONSOR = "SPONSOR"
    OTHER = "OTHER"


@dataclass(frozen=True)
class Credit:
    name: str
    type: CreditType
    contact: tuple[str, ...] = ()


def parse_credits(data: object, *, field: str = "credits") -> tuple[Credit, ...]:
    found: list[Credit] = []
    for index, item in enumerate(_items(data, field, MAX_ITEMS)):
        where = f"{field}[{index}]"
        entry = _mapping(item, where, field)
        name = str(entry.get("name", "")).strip()
        if not name or len(name) > MAX_NAME:
            raise ValidationError(
                f"{where}: a name (at most 200 characters) is required.", field=field
            )
        contact = tuple(
            _url(c, f"{where}.contact", field)
            for c in _items(entry.get("contact", []), f"{where}.contact", 10)
        )
        found.append(
            Credit(name, _choice(CreditType, entry.get("type", "OTHER"), where, field), contact)
        )
    return tuple(found)


def credits_to_json(entries: tuple[Credit, ...]) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type.value, "contact": list(c.contact)} for c in entries]
