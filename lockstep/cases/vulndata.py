"""Pure checks of what a vulnerability carries: CVSS, CWE, references, credits.

Each `parse_*` takes JSON-like input and returns frozen values or raises ValidationError
(InvalidFields for lists: every entry at fault, by path, e.g. "references[1].url"); each
`*_to_json` gives back plain data that parses again. Affected packages are `cases.affected`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from lockstep.core.errors import ErrorList, ValidationError

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


def _items(data: object, where: str, limit: int, errors: ErrorList) -> list[Any]:
    if not isinstance(data, list):
        errors.add(where, "expected a list.")
        return []
    if len(data) > limit:
        errors.add(where, f"at most {limit} entries.")
        return []
    return data


def _entry(item: object, where: str, keys: tuple[str, ...], errors: ErrorList) -> dict[str, Any]:
    if not isinstance(item, dict):
        errors.add(where, f"expected an object with {', '.join(keys)}.")
        return {}
    for key in item:
        if key not in keys:
            errors.add(
                f"{where}.{key}", f"unknown field {key!r}; the fields are {', '.join(keys)}."
            )
    return item


def _url(value: object, where: str, errors: ErrorList) -> str:
    text = str(value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(text) > MAX_URL:
        errors.add(where, "an http(s) URL is required.")
        return ""
    return text


def _choice(enum: type[StrEnum], value: object, where: str, errors: ErrorList) -> Any:  # noqa: ANN401 - the enum's member
    try:
        return enum(str(value or "").upper())
    except ValueError:
        names = ", ".join(member.value for member in enum)
        errors.add(where, f"{value!r} is not a type; the types are {names}.")
        return None


def parse_references(data: object, *, field: str = "references") -> tuple[Reference, ...]:
    errors = ErrorList()
    refs: list[Reference] = []
    for index, item in enumerate(_items(data, field, MAX_ITEMS, errors)):
        where = f"{field}[{index}]"
        entry = _entry(item, where, ("type", "url"), errors)
        kind = _choice(ReferenceType, entry.get("type", "WEB"), f"{where}.type", errors)
        url = _url(entry.get("url"), f"{where}.url", errors)
        if kind is None or not url:
            continue
        ref = Reference(kind, url)
        if ref in refs:
            errors.add(f"{where}.url", "listed twice.")
        refs.append(ref)
    errors.raise_if_any()
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


def _credit(item: object, where: str, errors: ErrorList) -> Credit | None:
    entry = _entry(item, where, ("name", "type", "contact"), errors)
    name = str(entry.get("name", "")).strip()
    if not name or len(name) > MAX_NAME:
        errors.add(f"{where}.name", f"a name (at most {MAX_NAME} characters) is required.")
    kind = _choice(CreditType, entry.get("type", "OTHER"), f"{where}.type", errors)
    contacts = _items(entry.get("contact", []), f"{where}.contact", 10, errors)
    contact = tuple(_url(c, f"{where}.contact[{n}]", errors) for n, c in enumerate(contacts))
    if not name or kind is None or not all(contact):
        return None
    return Credit(name, kind, contact)


def parse_credits(data: object, *, field: str = "credits") -> tuple[Credit, ...]:
    errors = ErrorList()
    found = [
        _credit(item, f"{field}[{n}]", errors)
        for n, item in enumerate(_items(data, field, MAX_ITEMS, errors))
    ]
    errors.raise_if_any()
    return tuple(c for c in found if c is not None)


def credits_to_json(entries: tuple[Credit, ...]) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type.value, "contact": list(c.contact)} for c in entries]
