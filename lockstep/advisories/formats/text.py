"""Plain-text renderings of an advisory: the public post (in the style of oss-security), the
upstream's changelog entry, and its release announcement.

Lines are at most 72 columns. A URL, a Package URL or a CVSS vector is never cut, so the line
that holds one may be longer. Text the snapshot gives with its own line breaks (the details)
keeps them; only its lines that are too long are wrapped. A vulnerability without a CVE ID is
named "CVE ID pending": no ID is ever made up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from packageurl import PackageURL

from lockstep.advisories.formats.csaf import CREDIT_ROLES
from lockstep.advisories.formats.cwe import cwe_name
from lockstep.advisories.formats.products import package_label
from lockstep.advisories.snapshot import AdvisorySnapshot, VulnSnapshot
from lockstep.advisories.versions import ecosystem_for_purl
from lockstep.cases.affected import AffectedPackage, VersionRange
from lockstep.cases.vulndata import Severity, parse_cvss

WIDTH = 72
PENDING = "CVE ID pending"
MIN_ROOM = 20
MAX_INDENT = 8
SHORT = 240

_UNBREAKABLE = re.compile(r"^\W*(?:[A-Za-z][A-Za-z0-9+.-]*://|CVSS:[0-9]|pkg:|vers:|mailto:)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


# ---------------------------------------------------------------------------------------------
# Wrapping


def unbreakable(word: str) -> bool:
    """Whether a word is a URL, Package URL or CVSS vector: never cut, never re-spelled."""
    return bool(_UNBREAKABLE.match(word))


def _pieces(word: str, room: int) -> list[str]:
    if len(word) <= room or unbreakable(word):
        return [word]
    return [word[i : i + room] for i in range(0, len(word), room)]


def wrap(text: str, first: str = "", rest: str | None = None) -> list[str]:
    """The words of `text` in lines of at most WIDTH columns, `first` (then `rest`) in front."""
    rest = first if rest is None else rest
    room = max(WIDTH - max(len(first), len(rest)), MIN_ROOM)
    lines: list[str] = []
    words: list[str] = []
    prefix, used = first, len(first)
    for word in text.split():
        for piece in _pieces(word, room):
            if words and used + 1 + len(piece) > WIDTH:
                lines.append(prefix + " ".join(words))
                prefix, words, used = rest, [], len(rest)
            used += len(piece) + (1 if words else 0)
            words.append(piece)
    lines.append((prefix + " ".join(words)).rstrip())
    return lines


def block(text: str, indent: str = "") -> list[str]:
    """Text with its own line breaks: blank lines and short lines kept, long lines wrapped."""
    out: list[str] = []
    for raw in text.strip("\n").splitlines():
        line = raw.expandtabs(4).rstrip()
        if not line.strip():
            out.append("")
        elif len(indent) + len(line) <= WIDTH:
            out.append(indent + line)
        else:
            lead = line[: len(line) - len(line.lstrip())][:MAX_INDENT]
            out += wrap(line.strip(), first=indent + lead)
    return out


def _field(label: str, value: str, indent: str = "", width: int = 11) -> list[str]:
    head = f"{indent}{label + ':':<{width}}"
    return wrap(value, first=head, rest=" " * len(head))


def _section(title: str, body: list[str]) -> list[str]:
    return ["", title, "=" * len(title), "", *body]


# ---------------------------------------------------------------------------------------------
# Pieces of text


def _date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def cve_label(vuln: VulnSnapshot) -> str:
    return vuln.cve_id or PENDING


def _cve_labels(snapshot: AdvisorySnapshot) -> list[str]:
    return list(dict.fromkeys(cve_label(v) for v in snapshot.vulnerabilities))


def _severities(vuln: VulnSnapshot) -> list[Severity]:
    return [parse_cvss(v) for v in (vuln.cvss3_vector, vuln.cvss4_vector) if v]


def _worst(severities: Iterable[Severity]) -> Severity | None:
    return max(severities, key=lambda s: s.base_score, default=None)


def _score_text(severities: list[Severity]) -> str:
    """ "High (CVSS 3.1 base score 8.1; CVSS 4.0 base score 8.7)", or "not scored"."""
    worst = _worst(severities)
    if worst is None:
        return "not scored"
    scores = "; ".join(f"CVSS {s.version} base score {s.base_score:.1f}" for s in severities)
    return f"{worst.rating} ({scores})"


def range_text(span: VersionRange) -> str:
    """ ">=1.0, <1.4.2" and the like; "all versions" when the range is open on both ends."""
    parts = [] if span.introduced == "0" else [f">={span.introduced}"]
    if span.fixed:
        parts.append(f"<{span.fixed}")
    elif span.last_affected:
        parts.append(f"<={span.last_affected}")
    elif span.limit:
        parts.append(f"<{span.limit}")
    return ", ".join(parts) or "all versions"


def _fix_text(span: VersionRange) -> str:
    if span.fixed:
        return f"fixed in {span.fixed}"
    if span.last_affected:
        return "no fixed version named; later versions are not affected"
    if span.limit:
        return f"no fixed version named; versions from {span.limit} on are not affected"
    return "no fixed version"


def _package_name(package: AffectedPackage) -> str:
    """ "example-lib (PyPI)": the package and its ecosystem (or purl type)."""
    mapped = ecosystem_for_purl(package.purl)
    kind = mapped[0] if mapped else PackageURL.from_string(package.purl).type
    return f"{package_label(package.purl)} ({kind})"


def _fixed_versions(packages: Iterable[AffectedPackage]) -> list[str]:
    return list(dict.fromkeys(r.fixed for p in packages for r in p.spans if r.fixed))


def _short(text: str) -> str:
    """The first sentence of `text`, at most SHORT characters."""
    flat = " ".join(text.split())
    first = _SENTENCE_END.split(flat, maxsplit=1)[0]
    if len(first) <= SHORT:
        return first
    head = first[: SHORT - 3]
    return (head[: head.rindex(" ")] if " " in head else head) + "..."


def _credit_text(vuln: VulnSnapshot) -> list[str]:
    return [f"{c.name} ({CREDIT_ROLES[c.type]})" for c in vuln.credits]


# ---------------------------------------------------------------------------------------------
# The public post


def render_public_post(snapshot: AdvisorySnapshot) -> tuple[str, str]:
    """(subject, body) of the advisory's post to a public list such as oss-security."""
    labels = _cve_labels(snapshot)
    subject = " ".join(f"{snapshot.project_name}: {snapshot.title}".split())
    if labels:
        subject += f" ({', '.join(labels)})"
    lines = wrap(f"{snapshot.project_name} security advisory {snapshot.id}: {snapshot.title}")
    lines += [
        "",
        *_field("Advisory", snapshot.url),
        *_field("Published", _date(snapshot.published)),
    ]
    lines += _field("CVE IDs", ", ".join(labels) or "none")
    worst = _worst(s for v in snapshot.vulnerabilities for s in _severities(v))
    if worst is not None:
        lines += _field(
            "Severity", f"{worst.rating} (highest CVSS base score {worst.base_score:.1f})"
        )
    if snapshot.embargo_broken:
        note = "This advisory was published before the agreed date: the embargo ended early."
        lines += ["", *wrap(note)]
    lines += _section("Summary", block(snapshot.summary))
    lines += _section("Details", block(snapshot.details))
    vulns: list[str] = []
    for number, vuln in enumerate(snapshot.vulnerabilities, start=1):
        vulns += [*_vulnerability(number, vuln), ""]
    lines += _section("Vulnerabilities", vulns[:-1])
    if snapshot.timeline:
        lines += _section("Timeline", _timeline(snapshot))
    lines += ["", *wrap(f"The advisory, with machine-readable exports: {snapshot.url}")]
    return subject, "\n".join(lines) + "\n"


def _vulnerability(number: int, vuln: VulnSnapshot) -> list[str]:
    pad = "    "
    lines = wrap(vuln.title, first=f"[{number}] ", rest=pad)
    lines += _field("CVE ID", cve_label(vuln), pad, 10)
    lines += _field("OSV ID", vuln.osv_id, pad, 10)
    if vuln.cwe:
        name = cwe_name(vuln.cwe)
        lines += _field("CWE", f"{vuln.cwe}: {name}" if name else vuln.cwe, pad, 10)
    for severity in _severities(vuln):
        score = f"{severity.base_score:.1f} ({severity.rating}) {severity.vector}"
        lines += _field(f"CVSS {severity.version}", score, pad, 10)
    if vuln.description.strip():
        lines += ["", *block(vuln.description, pad)]
    lines += ["", f"{pad}Affected and fixed versions:"]
    for package in vuln.affected:
        lines += _package_lines(package, pad + "  ")
    if not vuln.affected:
        lines += wrap("Not given as package versions; see the details.", first=pad + "  ")
    if vuln.credits:
        lines += ["", f"{pad}Credits:"]
        for text in _credit_text(vuln):
            lines += wrap(text, first=f"{pad}  - ", rest=f"{pad}    ")
    if vuln.references:
        lines += ["", f"{pad}References:"]
        for ref in vuln.references:
            text = f"{ref.url} ({ref.type.value.lower()})"
            lines += wrap(text, first=f"{pad}  - ", rest=f"{pad}    ")
    return lines


def _package_lines(package: AffectedPackage, pad: str) -> list[str]:
    lines = wrap(f"{_package_name(package)} {package.purl}", first=pad, rest=pad + "  ")
    inner = pad + "  "
    for span in package.spans:
        text = f"affected: {range_text(span)}; {_fix_text(span)}"
        lines += wrap(text, first=inner, rest=inner + "  ")
    if package.versions:
        text = f"affected versions: {', '.join(package.versions)}"
        lines += wrap(text, first=inner, rest=inner + "  ")
    fixed = _fixed_versions((package,))
    text = f"fixed versions: {', '.join(fixed) if fixed else 'none named'}"
    lines += wrap(text, first=inner, rest=inner + "  ")
    return lines


def _timeline(snapshot: AdvisorySnapshot) -> list[str]:
    lines: list[str] = []
    for entry in sorted(snapshot.timeline, key=lambda e: e.at):
        head = f"{_date(entry.at)}  "
        lines += wrap(entry.text, first=head, rest=" " * len(head))
    return lines


# ---------------------------------------------------------------------------------------------
# The upstream's changelog entry and release announcement


def render_changelog(snapshot: AdvisorySnapshot, *, version: str) -> str:
    """The changelog entry of the release that fixes the advisory's vulnerabilities."""
    heading = f"{snapshot.project_name} {version}"
    lines = [*wrap(heading), "-" * min(len(heading), WIDTH), ""]
    lines += wrap(f"Security fixes (advisory {snapshot.id}):")
    lines.append("")
    for vuln in snapshot.vulnerabilities:
        text = f"Fix {' '.join(vuln.title.split())} ({cve_label(vuln)})."
        short = _short(vuln.description)
        if short:
            text += f" {short}"
        severities = _severities(vuln)
        if severities:
            text += f" Severity: {_score_text(severities)}."
        credits_ = _credit_text(vuln)
        if credits_:
            text += f" Credit: {', '.join(credits_)}."
        lines += wrap(text, first="- ", rest="  ")
    lines += ["", *wrap(f"Details: {snapshot.url}")]
    return "\n".join(lines) + "\n"


def render_announcement(snapshot: AdvisorySnapshot, *, version: str) -> str:
    """The text announcing the release that fixes the advisory's vulnerabilities."""
    vulns = snapshot.vulnerabilities
    count = f"{len(vulns)} security vulnerabilit{'y' if len(vulns) == 1 else 'ies'}"
    lines = [*wrap(f"{snapshot.project_name} {version} released with security fixes"), ""]
    intro = f"{snapshot.project_name} {version} is a security release. It fixes {count}."
    worst = _worst(s for v in vulns for s in _severities(v))
    if worst is not None:
        intro += f" The most severe is rated {worst.rating} (CVSS {worst.version} base score "
        intro += f"{worst.base_score:.1f})."
    if snapshot.embargo_broken:
        intro += " It comes earlier than planned because the issue became public."
    lines += [*wrap(intro), "", "Fixed in this release:", ""]
    for vuln in vulns:
        lines += wrap(f"{cve_label(vuln)}: {vuln.title}", first="- ", rest="  ")
        lines += wrap(f"Severity: {_score_text(_severities(vuln))}", first="  ", rest="    ")
    lines += ["", "Who should upgrade:", ""]
    lines += _who_should_upgrade(snapshot, version)
    credits_ = list(dict.fromkeys(c for v in vulns for c in _credit_text(v)))
    if credits_:
        lines += ["", "Credits:", ""]
        for text in credits_:
            lines += wrap(text, first="- ", rest="  ")
    lines += ["", *wrap(f"The advisory {snapshot.id} has the details: {snapshot.url}")]
    return "\n".join(lines) + "\n"


def _who_should_upgrade(snapshot: AdvisorySnapshot, version: str) -> list[str]:
    packages: dict[str, list[AffectedPackage]] = {}
    for vuln in snapshot.vulnerabilities:
        for package in vuln.affected:
            packages.setdefault(package.purl, []).append(package)
    if not packages:
        text = f"Everyone who uses {snapshot.project_name} should upgrade to {version}."
        return wrap(text)
    lines = wrap(f"Everyone who uses an affected version should upgrade to {version}:")
    for found in packages.values():
        spans = dict.fromkeys(range_text(r) for p in found for r in p.spans)
        spans.update(dict.fromkeys(v for p in found for v in p.versions))
        text = f"{_package_name(found[0])}: {'; '.join(spans)}"
        fixed = _fixed_versions(found)
        if fixed:
            text += f" (fixed in {', '.join(fixed)})"
        lines += wrap(text, first="- ", rest="  ")
    return lines
