"""The JSON Schema of a vulnerability's affected packages, references and credits, for the
OpenAPI document: the API parses them itself (`cases.affected_policy`), so that an unknown key
or an unparsable version is a 400 naming its path, never dropped.
"""

from __future__ import annotations

from typing import Any

from lockstep.cases.affected import EventKind, RangeType
from lockstep.cases.vulndata import CreditType, ReferenceType

_TEXT = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^\S+$"}

EVENT: dict[str, Any] = {
    "type": "object",
    "description": 'Exactly one key. introduced "0": from the first version; limit "*": none.',
    "properties": {kind.value: _TEXT for kind in EventKind},
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}

RANGE: dict[str, Any] = {
    "type": "object",
    "title": "Range",
    "description": (
        "An OSV range. ECOSYSTEM and SEMVER events are in order, lowest version first: "
        "introduced, then fixed or last_affected (not both in one range), then introduced "
        "again ..., and at most one limit, last. Versions must parse in the package's "
        "ecosystem (PEP 440 for PyPI, ...); SEMVER takes SemVer 2.0 without a leading v. "
        "GIT events are full commit hashes, and `repo` is the clone URL (not needed for a "
        "pkg:github, pkg:gitlab or pkg:bitbucket package)."
    ),
    "properties": {
        "type": {
            "type": "string",
            "enum": [t.value for t in RangeType],
            "default": RangeType.ECOSYSTEM.value,
        },
        "repo": {"type": "string", "maxLength": 2048},
        "events": {"type": "array", "items": EVENT, "minItems": 1, "maxItems": 100},
    },
    "required": ["events"],
    "additionalProperties": False,
}

OLD_RANGE: dict[str, Any] = {
    "type": "object",
    "title": "Range (older shape)",
    "description": (
        "Still accepted, and stored as the ECOSYSTEM range with these events: introduced, "
        "with at most one of fixed and last_affected. For limit, or several pairs, use events."
    ),
    "properties": dict.fromkeys(("introduced", "fixed", "last_affected"), _TEXT),
    "required": ["introduced"],
    "additionalProperties": False,
}

_PACKAGE_PROPERTIES: dict[str, Any] = {
    "purl": {
        "type": "string",
        "maxLength": 512,
        "description": "The package's Package URL, without a version (pkg:pypi/jinja2).",
    },
    "ranges": {"type": "array", "items": RANGE, "maxItems": 50},
    "versions": {
        "type": "array",
        "items": _TEXT,
        "maxItems": 1000,
        "description": "Affected versions listed one by one (parsed like range versions).",
    },
}

AFFECTED_IN: dict[str, Any] = {
    "type": "object",
    "title": "AffectedPackage",
    "description": (
        "One affected package: at least one range or version. The purl must be one of the "
        "project's packages unless outside_project is true."
    ),
    "properties": {
        **_PACKAGE_PROPERTIES,
        "ranges": {"type": "array", "items": {"anyOf": [RANGE, OLD_RANGE]}, "maxItems": 50},
        "outside_project": {
            "type": "boolean",
            "default": False,
            "description": "true: I confirm this is not one of the project's packages (a "
            "fork, a bundled copy, a distribution's package). Not stored: send it again "
            "with every change.",
        },
    },
    "required": ["purl"],
    "additionalProperties": False,
}

AFFECTED_OUT: dict[str, Any] = {
    "type": "object",
    "title": "AffectedPackage",
    "properties": _PACKAGE_PROPERTIES,
    "required": ["purl", "ranges", "versions"],
}

REFERENCE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": [t.value for t in ReferenceType], "default": "WEB"},
        "url": {"type": "string", "format": "uri", "maxLength": 2048},
    },
    "required": ["url"],
    "additionalProperties": False,
}

CREDIT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "type": {"type": "string", "enum": [t.value for t in CreditType], "default": "OTHER"},
        "contact": {"type": "array", "items": {"type": "string", "format": "uri"}, "maxItems": 10},
    },
    "required": ["name"],
    "additionalProperties": False,
}


def array_of(item: dict[str, Any]) -> dict[str, Any]:
    """`json_schema_extra` for a `list[dict[str, Any]]` field whose items are `item`."""
    return {"items": item}
