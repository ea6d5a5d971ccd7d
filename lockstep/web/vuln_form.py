"""The vulnerability form: structured fields, no JSON to type, works without JavaScript.

Rows are prefixed fields: `pkg-0-package` (one of the project's Package URLs, or "" for
another), `pkg-0-ecosystem` and `pkg-0-name` (another package: an OSV ecosystem and its name,
or "purl" and a Package URL), `pkg-0-outside` (not one of the project's packages),
`pkg-0-versions`, `pkg-0-range-0-type`, `pkg-0-range-0-repo`, `pkg-0-range-0-event-0-kind` and
`-version`; `ref-0-type`, `ref-0-url`; `credit-0-name`, `-type`, `-contact`. Each list says how
many rows it has (`pkg-count`, `pkg-0-range-count`, `pkg-0-range-0-event-count`, `ref-count`,
`credit-count`); a `more` button adds one and shows the form again, all input kept. An empty
row is left out. `to_input` builds the action's input and remembers which row each path of
it came from, so `show_errors` puts every error of the action next to its row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockstep.advisories.versions.packages import ecosystem_for_purl, purl_for
from lockstep.cases.actions.vulns import VulnerabilityInput
from lockstep.cases.affected import affected_to_json, parse_affected
from lockstep.cases.models import Vulnerability
from lockstep.core.errors import InvalidFields, LockstepError, ValidationError
from lockstep.web.vuln_rows import (
    CreditRow,
    EventRow,
    PackageRow,
    RangeRow,
    ReferenceRow,
    Row,
    count,
    new_package,
    new_range,
    text,
)

PURL = "purl"  # the ecosystem choice "another kind of package: give its Package URL"
TOP_FIELDS = ("title", "description", "cwe", "cvss3", "cvss4")
_SPLIT = re.compile(r"[\s,]+")


@dataclass
class VulnForm:
    project_purls: list[str]
    title: str = ""
    description: str = ""
    cwe: str = ""
    cvss3: str = ""
    cvss4: str = ""
    packages: list[PackageRow] = field(default_factory=list)
    references: list[ReferenceRow] = field(default_factory=list)
    credits: list[CreditRow] = field(default_factory=list)
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    other_errors: list[str] = field(default_factory=list)
    _paths: dict[str, Row] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        rows: list[Row] = [*self.packages, *self.references, *self.credits]
        for package in self.packages:
            rows += package.ranges
            rows += [event for r in package.ranges for event in r.events]
        return bool(self.field_errors or self.other_errors or any(r.errors for r in rows))

    # -- building ------------------------------------------------------------------------

    @classmethod
    def blank(cls, project_purls: list[str]) -> VulnForm:
        form = cls(project_purls)
        form.packages = [new_package("pkg-0")]
        form.references = [ReferenceRow("ref-0")]
        form.credits = [CreditRow("credit-0")]
        return form

    @classmethod
    def of(cls, vulnerability: Vulnerability, project_purls: list[str]) -> VulnForm:
        """The form showing a stored vulnerability, with a blank row to add to each list."""
        form = cls(project_purls)
        form.set_top({name: _stored(vulnerability, name) for name in TOP_FIELDS})
        stored = affected_to_json(parse_affected(vulnerability.affected))
        form.packages = [
            _package_of(entry, f"pkg-{i}", project_purls) for i, entry in enumerate(stored)
        ] or [new_package("pkg-0")]
        refs = vulnerability.references
        form.references = [
            ReferenceRow(f"ref-{i}", r["type"], r["url"]) for i, r in enumerate(refs)
        ]
        form.references.append(ReferenceRow(f"ref-{len(refs)}"))
        credits_ = vulnerability.credits
        form.credits = [
            CreditRow(f"credit-{i}", c["name"], c["type"], " ".join(c.get("contact", [])))
            for i, c in enumerate(credits_)
        ]
        form.credits.append(CreditRow(f"credit-{len(credits_)}"))
        return form

    @classmethod
    def from_post(cls, post: Mapping[str, Any], project_purls: list[str]) -> VulnForm:
        form = cls(project_purls)
        form.set_top({name: text(post, name) for name in TOP_FIELDS})
        form.packages = [
            PackageRow.from_post(post, f"pkg-{i}") for i in range(count(post, "pkg", 200))
        ]
        form.references = [
            ReferenceRow.from_post(post, f"ref-{i}") for i in range(count(post, "ref", 100))
        ]
        form.credits = [
            CreditRow.from_post(post, f"credit-{i}") for i in range(count(post, "credit", 100))
        ]
        return form

    def set_top(self, values: Mapping[str, str]) -> None:
        self.title, self.description = values["title"], values["description"]
        self.cwe, self.cvss3, self.cvss4 = values["cwe"], values["cvss3"], values["cvss4"]

    def add_row(self, which: str) -> None:
        """What a `more` button asks for: "pkg", "ref", "credit", "pkg-0-range" or
        "pkg-0-range-1-event" (anything else, or a row past the limits, is ignored)."""
        if which == "pkg" and len(self.packages) < 200:  # noqa: PLR2004 - as count() above
            self.packages.append(new_package(f"pkg-{len(self.packages)}"))
        elif which == "ref" and len(self.references) < 100:  # noqa: PLR2004
            self.references.append(ReferenceRow(f"ref-{len(self.references)}"))
        elif which == "credit" and len(self.credits) < 100:  # noqa: PLR2004
            self.credits.append(CreditRow(f"credit-{len(self.credits)}"))
        else:
            for package in self.packages:
                package.add_row(which)

    # -- to the action and back ----------------------------------------------------------

    def to_input(self) -> VulnerabilityInput:
        self._paths = {}
        affected: list[dict[str, Any]] = []
        for package in (p for p in self.packages if not p.blank):
            affected.append(self._affected(package, f"affected[{len(affected)}]"))
        references: list[dict[str, str]] = []
        for ref in (r for r in self.references if not r.blank):
            self._paths[f"references[{len(references)}]"] = ref
            references.append({"type": ref.type, "url": ref.url.strip()})
        credits_: list[dict[str, Any]] = []
        for credit in (c for c in self.credits if not c.blank):
            self._paths[f"credits[{len(credits_)}]"] = credit
            credits_.append(credit.as_json())
        return VulnerabilityInput(
            title=self.title,
            description=self.description,
            cwe=self.cwe,
            cvss3=self.cvss3,
            cvss4=self.cvss4,
            affected=affected,
            references=references,
            credits=credits_,
        )

    def _affected(self, package: PackageRow, path: str) -> dict[str, Any]:
        self._paths[path] = package
        entry: dict[str, Any] = {"purl": self._purl(package), "ranges": []}
        for span in (r for r in package.ranges if not r.blank):
            where = f"{path}.ranges[{len(entry['ranges'])}]"
            self._paths[where] = span
            events: list[dict[str, str]] = []
            for event in (e for e in span.events if not e.blank):
                self._paths[f"{where}.events[{len(events)}]"] = event
                events.append({event.kind: event.version.strip()})
            item: dict[str, Any] = {"type": span.type, "events": events}
            if span.repo.strip():
                item["repo"] = span.repo.strip()
            entry["ranges"].append(item)
        entry["versions"] = [v for v in _SPLIT.split(package.versions) if v]
        if package.outside:
            entry["outside_project"] = True
        return entry

    def _purl(self, package: PackageRow) -> str:
        """The package's Package URL; "" (the reason said on the row, so that nothing is
        saved) if the form cannot make one."""
        name = package.name.strip()
        problem = ""
        if package.package and name:
            problem = "Pick one of the project's packages, or type another one: not both."
        elif package.package and package.package not in self.project_purls:
            problem = "Pick a package from the list."
        elif package.package:
            return package.package
        elif not name:
            problem = "Pick the package, or give its ecosystem and name."
        elif package.ecosystem == PURL or name.startswith("pkg:"):
            return name
        elif not package.ecosystem:
            problem = "Choose the package's ecosystem."
        else:
            try:
                return purl_for(package.ecosystem, name)
            except ValidationError as exc:
                problem = exc.message
        package.errors.append(problem)
        return ""

    def show_errors(self, exc: LockstepError) -> None:
        """Puts each error next to the field or row it is about."""
        errors = exc.errors if isinstance(exc, InvalidFields) else ((exc.field or "", exc.message),)
        for path, message in errors:
            if path in TOP_FIELDS:
                self.field_errors.setdefault(path, []).append(message)
                continue
            row = self._row_of(path)
            if row is None:
                self.other_errors.append(f"{path}: {message}" if path else message)
            elif not (isinstance(row, PackageRow) and row.errors and path.endswith(".purl")):
                row.errors.append(message)  # (a purl the form could not make is said already)

    def _row_of(self, path: str) -> Row | None:
        best = ""
        for known in self._paths:
            if (path == known or path.startswith((f"{known}.", f"{known}["))) and len(known) > len(
                best
            ):
                best = known
        return self._paths.get(best) if best else None

    # -- for the template ----------------------------------------------------------------

    def package_choices(self) -> list[tuple[str, str]]:
        return [(purl, _package_label(purl)) for purl in self.project_purls]


def _stored(vulnerability: Vulnerability, name: str) -> str:
    stored = {"cvss3": "cvss3_vector", "cvss4": "cvss4_vector"}.get(name, name)
    return str(getattr(vulnerability, stored))


def _package_label(purl: str) -> str:
    mapped = ecosystem_for_purl(purl)
    return f"{mapped[1]} ({mapped[0]})" if mapped else purl


def _package_of(entry: dict[str, Any], prefix: str, project_purls: list[str]) -> PackageRow:
    purl = entry["purl"]
    row = PackageRow(prefix, versions=" ".join(entry["versions"]))
    if purl in project_purls:
        row.package = purl
    else:
        mapped = ecosystem_for_purl(purl)
        row.ecosystem, row.name = mapped or (PURL, purl)
        row.outside = True
    for j, span in enumerate(entry["ranges"]):
        where = f"{prefix}-range-{j}"
        events = [
            EventRow(f"{where}-event-{k}", *next(iter(event.items())))
            for k, event in enumerate(span["events"])
        ]
        range_row = RangeRow(where, span["type"], span.get("repo", ""), events)
        range_row.add_event()  # a blank row to add to it
        row.ranges.append(range_row)
    if not row.ranges:
        row.ranges.append(new_range(f"{prefix}-range-0"))
    return row
