"""The rows of the vulnerability form (web/vuln_form.py): each keeps what was typed into it,
exactly, and the errors about it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockstep.cases.affected import EventKind, RangeType
from lockstep.cases.vulndata import CreditType, ReferenceType

MAX_TEXT = 4096  # per field: anything longer is cut (the checks refuse far less)


def text(post: Mapping[str, Any], name: str) -> str:
    value = post.get(name, "")
    return str(value)[:MAX_TEXT] if value is not None else ""


def count(post: Mapping[str, Any], prefix: str, limit: int, default: int = 0) -> int:
    """How many rows `<prefix>-count` says there are, within 0..limit."""
    raw = text(post, f"{prefix}-count").strip()
    number = int(raw) if raw.isdigit() and len(raw) <= 9 else default  # noqa: PLR2004 - digits
    return max(0, min(number, limit))


@dataclass
class EventRow:
    prefix: str
    kind: str = EventKind.INTRODUCED.value
    version: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.version.strip()

    @classmethod
    def from_post(cls, post: Mapping[str, Any], prefix: str) -> EventRow:
        return cls(prefix, text(post, f"{prefix}-kind"), text(post, f"{prefix}-version"))


def _next_kind(events: list[EventRow]) -> str:
    """A blank row's kind: fixed after an introduced, else introduced."""
    after_introduced = bool(events) and events[-1].kind == EventKind.INTRODUCED.value
    return (EventKind.FIXED if after_introduced else EventKind.INTRODUCED).value


@dataclass
class RangeRow:
    prefix: str
    type: str = RangeType.ECOSYSTEM.value
    repo: str = ""
    events: list[EventRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.repo.strip() and all(event.blank for event in self.events)

    @classmethod
    def from_post(cls, post: Mapping[str, Any], prefix: str) -> RangeRow:
        events = [
            EventRow.from_post(post, f"{prefix}-event-{k}")
            for k in range(count(post, f"{prefix}-event", 100))
        ]
        return cls(prefix, text(post, f"{prefix}-type"), text(post, f"{prefix}-repo"), events)

    def add_event(self) -> None:
        if len(self.events) < 100:  # noqa: PLR2004 - as from_post
            kind = _next_kind(self.events)
            self.events.append(EventRow(f"{self.prefix}-event-{len(self.events)}", kind))


def new_range(prefix: str) -> RangeRow:
    """A blank range: an introduced row and a fixed row."""
    return RangeRow(
        prefix,
        events=[
            EventRow(f"{prefix}-event-0", EventKind.INTRODUCED.value),
            EventRow(f"{prefix}-event-1", EventKind.FIXED.value),
        ],
    )


@dataclass
class PackageRow:
    prefix: str
    package: str = ""  # one of the project's Package URLs, or "" for another package
    ecosystem: str = ""
    name: str = ""
    outside: bool = False
    versions: str = ""
    ranges: list[RangeRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        typed = (self.package, self.name.strip(), self.versions.strip())
        return not any(typed) and all(r.blank for r in self.ranges)

    @classmethod
    def from_post(cls, post: Mapping[str, Any], prefix: str) -> PackageRow:
        ranges = [
            RangeRow.from_post(post, f"{prefix}-range-{j}")
            for j in range(count(post, f"{prefix}-range", 50))
        ]
        return cls(
            prefix,
            package=text(post, f"{prefix}-package"),
            ecosystem=text(post, f"{prefix}-ecosystem"),
            name=text(post, f"{prefix}-name"),
            outside=bool(text(post, f"{prefix}-outside")),
            versions=text(post, f"{prefix}-versions"),
            ranges=ranges,
        )

    def add_row(self, which: str) -> None:
        """A `more` button: "<prefix>-range" or "<prefix>-range-<j>-event"."""
        if which == f"{self.prefix}-range" and len(self.ranges) < 50:  # noqa: PLR2004
            self.ranges.append(new_range(f"{self.prefix}-range-{len(self.ranges)}"))
        for span in self.ranges:
            if which == f"{span.prefix}-event":
                span.add_event()


def new_package(prefix: str) -> PackageRow:
    return PackageRow(prefix, ranges=[new_range(f"{prefix}-range-0")])


@dataclass
class ReferenceRow:
    prefix: str
    type: str = ReferenceType.WEB.value
    url: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.url.strip()

    @classmethod
    def from_post(cls, post: Mapping[str, Any], prefix: str) -> ReferenceRow:
        return cls(prefix, text(post, f"{prefix}-type"), text(post, f"{prefix}-url"))


@dataclass
class CreditRow:
    prefix: str
    name: str = ""
    type: str = CreditType.FINDER.value
    contact: str = ""  # URLs, separated by spaces
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.name.strip() and not self.contact.strip()

    @classmethod
    def from_post(cls, post: Mapping[str, Any], prefix: str) -> CreditRow:
        return cls(
            prefix,
            text(post, f"{prefix}-name"),
            text(post, f"{prefix}-type"),
            text(post, f"{prefix}-contact"),
        )

    def as_json(self) -> dict[str, Any]:
        contact = self.contact.split()
        return {"name": self.name.strip(), "type": self.type, "contact": contact}


Row = EventRow | RangeRow | PackageRow | ReferenceRow | CreditRow
