"""Public archive benchmark: import and index 20,000 list messages and their advisories, then
search the archive and query OSV over HTTP against the real web server.

    .venv/bin/python bench/archive.py [--count 20000] [--searches 500] [--queries 500]
                                      [--posts-via rows|action] [--seed 1]

SQLite in a temporary data folder by default. With `LOCKSTEP_DATABASE_URL` set
(postgres://user@host:port/anything), the script creates its own database
`lockstep_bench_archive` on that server, uses it, and drops it at the end; no other database
is read or written (the URL's own database name is ignored).

1. Corpus (deterministic for a given seed and CPython stdlib): `--count` public list messages in
   the style of oss-security. 90 % are list posts: vulnerability reports ("CVE-2025-31337: heap
   buffer overflow in libzorvex's chunk decoder"), replies with quoted text, distribution
   security notices, CVE requests and discussions, with package names, versions, CVE IDs,
   function names, C excerpts, diff hunks, sanitizer traces and URLs; the prose between comes
   from CPython's stdlib docstrings, as in the peers' synthetic mbox (shared/peers/peers.md,
   appendix A6), so that words have realistic selectivity. The other 10 % are advisories: cases
   with one to three vulnerabilities (CWE, CVSS 3.1, CVE ID from the local block, affected
   ranges in PyPI, npm, Maven, Go, crates.io, RubyGems and Debian packages). Each advisory, when
   published, posts its announcement to the public list, so the list ends with `--count`
   messages and the archive with `--count` + advisories entries.
2. World (not timed): organisations, maintainers, projects and the public list through the
   `do_*` actions; per advisory a report submitted and accepted on the public-list route
   (`do_submit_report`, `do_accept_report`), its vulnerabilities added (`do_add_vulnerability`),
   CVE IDs reserved from the block (`reserve_cve`) and the advisory text drafted.
3. Import and index (timed end to end), 500 list posts per transaction. By default each post
   takes the archive's two writes exactly as `do_post_public` makes them: the PublicPost row,
   then `index_entry` (the archive row and, on SQLite, its FTS5 row; on PostgreSQL the GIN index
   is updated by the insert). That is a bulk import of an existing archive, as public-inbox's
   import_mbox is: no audit event and no relay fan-out per message. `--posts-via action` calls
   `do_post_public` itself instead (each call a savepoint): the live path, with its audit event
   and relay fan-out, about 1 ms a post on SQLite. Advisories always go through the real
   publication, `do_publish_now`, one transaction each: snapshot, OSV, CSAF, CVE JSON 5 and text
   renderings, the archive entry, alias and package rows, the list post (`do_post_public`), the
   CVE records held for publication, the announcement in the case; its cost per advisory is
   printed apart. The time spent inside `index_entry` is measured too (both callers' references
   are wrapped while importing). On PostgreSQL the `VACUUM ANALYZE` that merges the GIN index's
   pending list (what autovacuum would do soon after) is counted as indexing.
4. `lockstep web --migrate` (gunicorn, as `lockstep/cli.py` starts it) on 127.0.0.1 and a free
   port, same data folder and database, production settings, its default 2 processes x 4
   threads. One keep-alive connection, sequential requests after a warm-up (every term once):
   GET /search/?q=... over a mix of rare, medium and common words (chosen by how many posts
   contain them), CVE IDs (of posts and of advisories), package names, two-word queries and
   words that match nothing (p50/p95/p99, per kind too), then POST /api/v1/query (package and
   version, of packages that have advisories: affected versions, fixed versions, others).
   Each OSV answer is checked against the number of vulnerabilities the corpus says affect that
   version; a CVE ID and an advisory ID found in the corpus must show on their search page.
5. Prints a table beside public-inbox (Xapian) and HyperKitty (Whoosh), measured on the same kind
   of machine with a comparable 20,000-message mbox (shared/peers/peers.md §5, §6).

Goal (issue): import + index in under 35 s, search p95 under 10 ms.

With `--mbox`: the comparison with public-inbox on its own corpus shape and queries instead
(an mbox through `lockstep archive import-mbox`, peers.md's A8 query set, public-inbox run on
the same mbox when installed): see bench/archive_mbox.py.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATABASE = "lockstep_bench_archive"
CVE_BLOCK_FIRST = 40000
CVE_BLOCK = f"CVE-2026-{CVE_BLOCK_FIRST}..CVE-2026-49999"
POST_BATCH = 500
# shared/peers/peers.md: public-inbox 1.9.0 (Xapian), HyperKitty 1.3.7 (Whoosh), same machine class.
PI_INDEX_S, PI_P50_MS, PI_P95_MS = 71.8, 6.1, 12.2
HK_INDEX_S, HK_P50_MS, HK_P95_MS = 820.0, 1123.0, 1663.0
GOAL_INDEX_S, GOAL_P95_MS = 35.0, 10.0
NO_MATCH = "Nothing matches"

# ---------------------------------------------------------------------------------------------
# Vocabulary


def _split(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(separator))


BUGS = (
    ("heap buffer overflow", "CWE-122"),
    ("stack-based buffer overflow", "CWE-121"),
    ("out-of-bounds read", "CWE-125"),
    ("out-of-bounds write", "CWE-787"),
    ("use-after-free", "CWE-416"),
    ("double free", "CWE-415"),
    ("integer overflow", "CWE-190"),
    ("NULL pointer dereference", "CWE-476"),
    ("path traversal", "CWE-22"),
    ("OS command injection", "CWE-78"),
    ("SQL injection", "CWE-89"),
    ("cross-site scripting", "CWE-79"),
    ("XML external entity expansion", "CWE-611"),
    ("server-side request forgery", "CWE-918"),
    ("regular expression denial of service", "CWE-1333"),
    ("prototype pollution", "CWE-1321"),
    ("deserialization of untrusted data", "CWE-502"),
    ("race condition", "CWE-362"),
    ("symlink following", "CWE-59"),
    ("uncontrolled recursion", "CWE-674"),
    ("memory leak", "CWE-401"),
    ("infinite loop", "CWE-835"),
    ("improper certificate validation", "CWE-295"),
    ("HTTP request smuggling", "CWE-444"),
    ("open redirect", "CWE-601"),
    ("authentication bypass", "CWE-287"),
    ("timing side channel", "CWE-208"),
    ("format string vulnerability", "CWE-134"),
    ("use of uninitialized memory", "CWE-908"),
    ("local privilege escalation", "CWE-269"),
)
COMPONENTS = _split(
    "chunk decoder|header parser|TLS handshake|URL parser|HTTP/2 framing layer|tar extractor|"
    "zip reader|template engine|XML reader|JSON decoder|image loader|font rasterizer|regex engine|"
    "cookie jar|multipart form parser|DNS resolver|SSH key exchange|LDAP filter builder|"
    "configuration loader|command-line parser|PAM module|certificate verifier|inflate routine|"
    "glob matcher|session store|websocket handshake|protobuf decoder|YAML loader|PDF renderer|"
    "audio demuxer|log formatter|query builder|sandbox escape check|ACL evaluator",
    "|",
)
VERBS = _split("parse read decode inflate load copy handle process unpack scan lex validate emit")
NOUNS = _split("header chunk frame record entry table name attr token packet block segment path")
FIELDS = _split(
    "the length field|the chunk size|the number of entries|the name length|the offset table|"
    "the declared width|the extension count|the padding length|the nesting depth|the index value",
    "|",
)
VECTORS = _split(
    "send a crafted HTTP request|supply a malicious archive|upload a crafted image|"
    "control a configuration file|make the client connect to a malicious server|"
    "submit a crafted XML document|feed a crafted font|get a user to open a crafted file|"
    "send a crafted packet on the local network|register a malicious package name",
    "|",
)
CONDITIONS = _split(
    "parsing a header longer than 65535 bytes|decoding a truncated stream|"
    "handling nested structures deeper than the stack allows|reading a file with a zero-length "
    "name|processing a certificate chain with a critical extension|following a redirect to a "
    "relative URL|the locale uses a multi-byte encoding|two threads share one context|"
    "the archive contains an absolute path|the input ends inside an escape sequence",
    "|",
)
FEATURES = _split(
    "HTTP/2 support|compression|the legacy parser|DTD loading|symlink following|session "
    "resumption|the plugin loader|remote includes|the shell escape|JIT compilation",
    "|",
)
DISTROS = _split("Debian|Ubuntu|Fedora|Alpine|Arch Linux|openSUSE|Gentoo|NixOS|FreeBSD", "|")
TEAMS = _split(
    "Openwall|Project Zero|Qualys|the Debian security team|Red Hat Product Security|SUSE|"
    "Trail of Bits|NCC Group|GitHub Security Lab|Cure53|an independent researcher|X41 D-Sec",
    "|",
)
NOTICES = (("DSA", "Debian"), ("USN", "Ubuntu"), ("FEDORA", "Fedora"), ("ASA", "Arch Linux"))
CODENAMES = _split("bookworm trixie jammy noble focal bullseye")
TOPICS = _split(
    "Embargo length for {pkg} issues|Question about {bug} classification|Heads-up: {pkg} "
    "{fixed} release with security fixes|Should {bug} in test code get a CVE?|{pkg} maintainers "
    "unresponsive|Coordinated release date for {pkg}|Fuzzing results for {pkg} {component}|"
    "Disputed: {bug} in {pkg}|Backporting the {pkg} fix to {distro}",
    "|",
)
FIRST = _split(
    "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert "
    "Sybil Trent Victor Walter Yusuf Zoe Arjun Mei Lars Ingrid Tomasz Priya Kenji Fatima Diego "
    "Oksana Jamal Chen Anja Pavel Lucia Ahmed Hana Marek Sven Ines Kofi Nadia Bruno Elif"
)
LAST = _split(
    "Smith Jones Garcia Muller Rossi Kowalski Tanaka Nguyen Silva Novak Ivanova Schmidt Dubois "
    "Larsen Kim Patel Okafor Haddad Costa Berg Fischer Moreau Wang Singh Ortiz Romano Lindqvist "
    "Yilmaz Kaur Sato Mensah Horvat Petrov Andersen"
)
DOMAINS = _split("openwall.test distro-a.test distro-b.test vendor.test example.org uni.test")
CVSS3 = (
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
)
CATALOGUE = {
    "PyPI": "jinja2 requests urllib3 pillow django flask lxml pyyaml cryptography paramiko "
    "twisted aiohttp werkzeug tornado setuptools sqlalchemy gunicorn waitress bleach markdown "
    "pygments docutils mako babel pycryptodome",
    "npm": "lodash express minimist axios node-fetch ws jsonwebtoken marked moment handlebars "
    "ejs tar semver qs follow-redirects @babel/traverse @xmldom/xmldom undici vm2 sanitize-html "
    "shell-quote json5 protobufjs xml2js",
    "Maven": "org.apache.logging.log4j:log4j-core com.fasterxml.jackson.core:jackson-databind "
    "org.apache.commons:commons-text org.yaml:snakeyaml org.springframework:spring-webmvc "
    "org.apache.tomcat.embed:tomcat-embed-core io.netty:netty-codec-http "
    "com.thoughtworks.xstream:xstream org.apache.struts:struts2-core "
    "org.bouncycastle:bcprov-jdk18on org.eclipse.jetty:jetty-server",
    "Go": "github.com/gin-gonic/gin golang.org/x/net golang.org/x/crypto "
    "github.com/gorilla/websocket github.com/containerd/containerd github.com/opencontainers/runc "
    "github.com/hashicorp/vault github.com/prometheus/client_golang google.golang.org/grpc",
    "crates.io": "hyper tokio openssl-sys regex smallvec h2 rustls chrono",
    "RubyGems": "rails nokogiri rack puma devise actionpack loofah sinatra rexml",
    "Debian": "openssl curl libxml2 glibc sudo systemd openssh expat zlib libpng libtiff giflib "
    "libwebp freetype fontconfig poppler ghostscript imagemagick ffmpeg libssh2 gnutls28 nss "
    "krb5 samba bind9 dnsmasq unbound exim4 postfix dovecot nginx apache2 squid haproxy qemu "
    "git subversion vim less bash busybox tar unzip cups polkit dbus",
}
SYLLABLES = _split(
    "quo zor vex tal mir pan dro sil ven kor bax fen lum tri gal nor pex wyn hul bri"
)


# ---------------------------------------------------------------------------------------------
# Corpus


@dataclass(frozen=True)
class Package:
    ecosystem: str  # OSV ecosystem
    name: str  # OSV package name
    purl: str  # versionless Package URL
    short: str  # the word people write: "jackson-databind", "gin", "libzorvex"
    prefix: str  # C-style identifier prefix of its functions
    versions: tuple[str, ...]
    repo: str


@dataclass(frozen=True)
class Affected:
    package: Package
    introduced: str
    fixed: str


@dataclass(frozen=True)
class VulnSpec:
    title: str
    description: str
    cwe: str
    cvss3: str
    cve_id: str
    affected: tuple[Affected, ...]
    references: tuple[str, ...]
    finder: str


@dataclass(frozen=True)
class AdvisorySpec:
    project: Package
    title: str
    summary: str
    details: str
    release: str
    report: str
    vulns: tuple[VulnSpec, ...]


@dataclass
class Corpus:
    posts: list[tuple[str, str]] = field(default_factory=list)
    advisories: list[AdvisorySpec] = field(default_factory=list)
    post_cves: list[str] = field(default_factory=list)  # CVE IDs named in post subjects


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _purl(ecosystem: str, name: str) -> str:
    from packageurl import PackageURL

    kinds = {"PyPI": "pypi", "npm": "npm", "crates.io": "cargo", "RubyGems": "gem"}
    if ecosystem == "Maven":
        group, artifact = name.split(":")
        purl = PackageURL(type="maven", namespace=group, name=artifact)
    elif ecosystem == "Go":
        namespace, last = name.rsplit("/", 1)
        purl = PackageURL(type="golang", namespace=namespace, name=last)
    elif ecosystem == "Debian":
        purl = PackageURL(type="deb", namespace="debian", name=name)
    elif name.startswith("@"):
        scope, last = name.split("/", 1)
        purl = PackageURL(type="npm", namespace=scope, name=last)
    else:
        purl = PackageURL(type=kinds[ecosystem], name=name)
    text: str = purl.to_string()
    return text


def _stdlib_text() -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Sentences of CPython's stdlib docstrings, and the stdlib's source files (by line)."""
    sentences: list[str] = []
    sources: list[tuple[str, list[str]]] = []
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.glob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        if source.count("\n") > 80:
            sources.append((path.name, source.splitlines()))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                sentences += [
                    sentence
                    for sentence in re.split(r"(?<=[.!?])\s+", " ".join((doc or "").split()))
                    if 40 <= len(sentence) <= 220 and not sentence.startswith(">>>")
                ]
    return sentences, sources


class Writer:
    """Deterministic text in the style of a security mailing list."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible content, not secrets
        self.sentences, self.sources = _stdlib_text()
        self.packages = self._packages()
        self.weights = [1 / (n + 1) ** 0.8 for n in range(len(self.packages))]
        people = []
        for n in range(300):
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            address = f"{first.lower()}.{last.lower()}{n}@{self.rng.choice(DOMAINS)}"
            people.append(f"{first} {last} <{address}>")
        self.people = people
        self.people_weights = [1 / (n + 1) ** 0.9 for n in range(len(people))]
        self.date = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)

    def _packages(self) -> list[Package]:
        rng = self.rng
        found: list[Package] = []
        names = [(eco, name) for eco, text in CATALOGUE.items() for name in text.split()]
        made: set[str] = set()
        while len(made) < 160:
            made.add("lib" + "".join(rng.sample(SYLLABLES, 2)))
        names += [("Debian", name) for name in sorted(made)]
        rng.shuffle(names)
        for ecosystem, name in names:
            short = re.split(r"[/:]", name)[-1]
            if ecosystem == "Go" and short.startswith("v") and short[1:].isdigit():
                short = name.split("/")[-2]
            prefix = re.sub(r"[^a-z0-9]", "", short.lower().removeprefix("lib"))[:8] or "pkg"
            debian = ecosystem == "Debian"
            versions: list[str] = []
            for major in range(rng.randint(0, 2), rng.randint(3, 5)):
                for minor in range(rng.randint(3, 9)):
                    versions += [
                        f"{major}.{minor}.{patch}" + ("-1" if debian else "")
                        for patch in range(rng.randint(1, 5))
                    ]
            owner = rng.choice(("upstream", short, f"{short}-project", "acme-oss"))
            found.append(
                Package(
                    ecosystem=ecosystem,
                    name=name,
                    purl=_purl(ecosystem, name),
                    short=short,
                    prefix=prefix,
                    versions=tuple(versions),
                    repo=f"https://github.com/{owner}/{short}",
                )
            )
        return found

    # Small pieces ---------------------------------------------------------------------------

    def package(self) -> Package:
        return self.rng.choices(self.packages, self.weights)[0]

    def person(self) -> str:
        return self.rng.choices(self.people, self.people_weights)[0]

    def cve(self) -> str:
        return f"CVE-{self.rng.randint(2019, 2026)}-{self.rng.randint(1000, 59999)}"

    def sha(self, length: int = 40) -> str:
        return f"{self.rng.getrandbits(160):040x}"[:length]

    def function(self, package: Package) -> str:
        return f"{package.prefix}_{self.rng.choice(VERBS)}_{self.rng.choice(NOUNS)}"

    def span(self, package: Package) -> tuple[str, str]:
        """(introduced, fixed) versions of the package, introduced may be "0"."""
        versions = package.versions
        fixed = self.rng.randrange(1, len(versions))
        start = "0" if self.rng.random() < 0.3 else versions[self.rng.randrange(0, fixed)]
        return start, versions[fixed]

    def prose(self, count: int) -> list[str]:
        return [self.rng.choice(self.sentences) for _ in range(count)]

    def facts(self, package: Package, bug: str) -> dict[str, str]:
        rng = self.rng
        introduced, fixed = self.span(package)
        return {
            "pkg": package.short,
            "func": self.function(package),
            "component": rng.choice(COMPONENTS),
            "bug": bug,
            "ver": introduced if introduced != "0" else package.versions[0],
            "fixed": fixed,
            "cve": self.cve(),
            "person": self.person().split(" <")[0],
            "team": rng.choice(TEAMS),
            "distro": rng.choice(DISTROS),
            "field": rng.choice(FIELDS),
            "vector": rng.choice(VECTORS),
            "cond": rng.choice(CONDITIONS),
            "feature": rng.choice(FEATURES),
            "hours": str(rng.randint(2, 400)),
            "sha": self.sha(12),
            "url": f"{package.repo}/commit/{self.sha()}",
            "issue": f"{package.repo}/issues/{rng.randint(12, 9999)}",
        }

    def security(self, facts: dict[str, str], count: int) -> list[str]:
        templates = (
            "{pkg} {ver} and later have a {bug} in {func}() when {cond}.",
            (
                "The {component} in {pkg} does not check {field} before copying it into a "
                "fixed-size buffer, which leads to a {bug}."
            ),
            (
                "A remote attacker who can {vector} can trigger the {bug} in {func}() and may "
                "be able to execute code with the privileges of the process."
            ),
            "The bug was introduced in {pkg} {ver} by commit {sha} and is fixed in {fixed}.",
            "Distributions shipping {pkg} should apply the patch below or update to {fixed}.",
            "MITRE assigned {cve} to this issue.",
            "Our fuzzer found the crash after {hours} hours on the {component}.",
            "As a workaround, disable {feature} until the update is installed.",
            "The upstream fix is {url}.",
            "Credit goes to {person} of {team} for finding and reporting this.",
            "Only builds with {feature} enabled are affected, which is the default on {distro}.",
            "The {distro} packages are affected as well; updates are being prepared.",
            "The upstream bug report is {issue}.",
            (
                "{func}() trusts {field} it reads from the input and never compares it with "
                "the size of the destination."
            ),
            "Versions before {ver} are not affected because the {component} did not exist yet.",
            (
                "I could not reproduce the {bug} on {distro}, where {pkg} is built with "
                "_FORTIFY_SOURCE=3."
            ),
        )
        picked = self.rng.sample(templates, min(count, len(templates)))
        return [template.format(**facts) for template in picked]

    def paragraph(self, facts: dict[str, str] | None, security: int, prose: int) -> str:
        """Security sentences about `facts` and stdlib prose, in random order, wrapped."""
        sentences = self.security(facts, security) if facts and security else []
        sentences += self.prose(prose)
        self.rng.shuffle(sentences)
        return textwrap.fill(" ".join(sentences), 72)

    def c_excerpt(self, facts: dict[str, str]) -> str:
        rng = self.rng
        size = rng.choice((16, 32, 64, 256, 4096))
        member = rng.choice(NOUNS)
        return "\n".join(
            [
                f"static int {facts['func']}(struct ctx *c, const uint8_t *p, size_t len)",
                "{",
                f"    uint8_t {member}[{size}];",
                "    size_t n = read_be16(p);",
                "",
                f"    if (len < {rng.randint(2, 12)})",
                "        return -EINVAL;",
                f"    memcpy({member}, p + 2, n);   /* n never compared with sizeof({member}) */",
                f"    return c->on_{member}(c, {member}, n);",
                "}",
            ]
        )

    def diff(self) -> str:
        name, lines = self.rng.choice(self.sources)
        start = self.rng.randrange(0, len(lines) - 20)
        hunk = lines[start : start + self.rng.randint(6, 14)]
        out = [
            f"diff --git a/src/{name} b/src/{name}",
            f"index {self.sha(7)}..{self.sha(7)} 100644",
            f"--- a/src/{name}",
            f"+++ b/src/{name}",
            f"@@ -{start + 1},{len(hunk)} +{start + 1},{len(hunk) + 1} @@",
        ]
        for n, line in enumerate(hunk):
            if n == len(hunk) // 2:
                out += ["-" + line, "+" + line.replace("(", "(checked_", 1), "+    check(limit)"]
            else:
                out.append(" " + line)
        return "\n".join(out)

    def trace(self, facts: dict[str, str]) -> str:
        rng = self.rng
        pid, address = rng.randint(1000, 99999), f"0x{rng.getrandbits(44):012x}"
        kind = rng.choice(("heap-buffer-overflow", "heap-use-after-free", "stack-buffer-overflow"))
        frames = [facts["func"], f"{facts['pkg']}_{rng.choice(VERBS)}", "LLVMFuzzerTestOneInput"]
        lines = [
            f"=={pid}==ERROR: AddressSanitizer: {kind} on address {address}",
            f"READ of size {rng.choice((1, 2, 4, 8))} at {address} thread T0",
        ]
        for n, frame in enumerate(frames):
            where = f"src/{facts['pkg']}/{rng.choice(NOUNS)}.c:{rng.randint(20, 2400)}"
            lines.append(f"    #{n} 0x{rng.getrandbits(40):010x} in {frame} {where}")
        return "\n".join(lines)

    def tick(self) -> datetime:
        self.date += timedelta(seconds=self.rng.expovariate(1 / 1500))
        return self.date


def _report(writer: Writer) -> tuple[str, str, str]:
    """A new thread: a vulnerability report. (subject, body, CVE ID in the subject)."""
    rng = writer.rng
    package = writer.package()
    bug = rng.choice(BUGS)[0]
    facts = writer.facts(package, bug)
    style = rng.random()
    if style < 0.5:
        subject = f"{facts['cve']}: {bug} in {package.short}'s {facts['component']}"
    elif style < 0.8:
        subject = f"{package.short}: {bug} in {facts['func']}() ({facts['cve']})"
    else:
        subject = f"[SECURITY] {package.short} {facts['fixed']}: {bug} ({facts['cve']})"
    parts = ["Hello,", writer.paragraph(facts, 3, 2), writer.paragraph(facts, 2, 1)]
    if rng.random() < 0.5:
        parts.append(writer.c_excerpt(facts))
    else:
        parts.append(writer.diff())
    if rng.random() < 0.3:
        parts.append(writer.trace(facts))
    parts.append(writer.paragraph(None, 0, rng.randint(1, 4)))
    parts.append(f"References:\n  {facts['url']}\n  {facts['issue']}")
    if rng.random() < 0.3:
        day = writer.date
        parts.append(
            f"Timeline:\n  {day:%Y-%m-%d}: reported to {package.short} upstream\n"
            f"  {day + timedelta(days=rng.randint(3, 30)):%Y-%m-%d}: fix committed\n"
            f"  {day + timedelta(days=rng.randint(31, 90)):%Y-%m-%d}: public disclosure"
        )
    return subject, "\n\n".join(parts), facts["cve"]


def _notice(writer: Writer) -> tuple[str, str]:
    rng = writer.rng
    package = writer.package()
    prefix, distro = rng.choice(NOTICES)
    cves = [writer.cve() for _ in range(rng.randint(1, 5))]
    subject = f"[{prefix} {rng.randint(3000, 7999)}-1] {package.short} security update"
    parts = [
        f"Package        : {package.short}\nCVE ID         : {' '.join(cves)}",
        textwrap.fill(
            f"Several vulnerabilities were found in {package.short}, which may result in "
            "denial of service, information disclosure or the execution of arbitrary code.",
            72,
        ),
    ]
    for cve in cves:
        facts = writer.facts(package, rng.choice(BUGS)[0])
        parts.append(f"{cve}\n\n" + writer.paragraph(facts, 2, 1))
    codename = rng.choice(CODENAMES)
    parts.append(
        f"For the stable distribution ({codename}), these problems have been fixed in version "
        f"{rng.choice(package.versions)}.\n\nUpdate the {package.short} packages.\n\n"
        f"Security tracker: https://security-tracker.{distro.lower().replace(' ', '')}.test/"
        f"tracker/{package.short}"
    )
    return subject, "\n\n".join(parts)


def _other(writer: Writer) -> tuple[str, str]:
    rng = writer.rng
    package = writer.package()
    bug = rng.choice(BUGS)[0]
    facts = writer.facts(package, bug)
    if rng.random() < 0.4:
        subject = f"CVE request: {bug} in {package.short} {facts['ver']}"
        body = [writer.paragraph(facts, 3, 1), f"Fix: {facts['url']}", "Thanks."]
    else:
        subject = rng.choice(TOPICS).format(**facts)
        body = [writer.paragraph(facts, 1, rng.randint(2, 5)) for _ in range(rng.randint(2, 4))]
    return subject, "\n\n".join(body)


def _reply(writer: Writer, parent: tuple[str, str, str]) -> tuple[str, str]:
    rng = writer.rng
    subject, body, author = parent
    lines = [line for line in body.splitlines() if line.strip()]
    start = rng.randrange(0, max(len(lines) - 3, 1))
    quoted = "\n".join(
        (">" if line.startswith(">") else "> ") + line
        for line in lines[start : start + rng.randint(3, 15)]
    )
    when = writer.date - timedelta(hours=rng.randint(1, 30))
    parts = [f"On {when:%a, %d %b %Y %H:%M:%S} +0000, {author} wrote:\n{quoted}"]
    package = writer.package()
    facts = writer.facts(package, rng.choice(BUGS)[0])
    parts.append(writer.paragraph(facts, rng.randint(1, 3), rng.randint(2, 6)))
    if rng.random() < 0.6:
        parts.append(writer.paragraph(None, 0, rng.randint(2, 5)))
    subject = subject if subject.startswith("Re: ") else f"Re: {subject}"
    return subject, "\n\n".join(parts)


def _advisory(writer: Writer, first_cve: int) -> AdvisorySpec:
    rng = writer.rng
    project = writer.package()
    bug, cwe = rng.choice(BUGS)
    facts = writer.facts(project, bug)
    vulns = []
    fixed_all = []
    for n in range(rng.choices((1, 2, 3), (70, 22, 8))[0]):
        vbug, vcwe = (bug, cwe) if n == 0 else rng.choice(BUGS)
        affected = [Affected(project, *writer.span(project))]
        if rng.random() < 0.3:
            other = writer.package()
            if other.purl != project.purl:
                affected.append(Affected(other, *writer.span(other)))
        fixed_all.append(affected[0].fixed)
        func = writer.function(project)
        vulns.append(
            VulnSpec(
                title=f"{vbug[0].upper()}{vbug[1:]} in {func}()",
                description=writer.paragraph({**facts, "bug": vbug, "func": func}, 2, 1),
                cwe=vcwe,
                cvss3=rng.choice(CVSS3),
                cve_id=f"CVE-2026-{first_cve + n}",
                affected=tuple(affected),
                references=(facts["url"], f"{project.repo}/issues/{rng.randint(12, 9999)}"),
                finder=facts["person"],
            )
        )
    release = max(fixed_all, key=_version_key)
    return AdvisorySpec(
        project=project,
        title=f"{bug[0].upper()}{bug[1:]} in {project.short} {facts['component']}",
        summary=f"{project.short} before {release} has a {bug} in its {facts['component']}.",
        details="\n\n".join(writer.paragraph(facts, 3, 2) for _ in range(rng.randint(2, 3))),
        release=release,
        report=writer.paragraph(facts, 4, 1),
        vulns=tuple(vulns),
    )


def build_corpus(count: int, share: float, seed: int) -> Corpus:
    """`count` list messages: advisories (each posts one) and posts (threads and replies)."""
    writer = Writer(seed)
    rng = writer.rng
    corpus = Corpus()
    advisories = round(count * share)
    next_cve = CVE_BLOCK_FIRST
    for _ in range(advisories):
        spec = _advisory(writer, next_cve)
        next_cve += len(spec.vulns)
        corpus.advisories.append(spec)
    advisory_cves = [v.cve_id for spec in corpus.advisories for v in spec.vulns]
    threads: list[tuple[str, str, str]] = []
    for _ in range(count - advisories):
        writer.tick()
        author = writer.person()
        if threads and rng.random() < 0.55:
            parent = threads[-min(len(threads), int(rng.expovariate(1 / 30)) + 1)]
            subject, body = _reply(writer, parent)
        else:
            kind = rng.random()
            if kind < 0.55:
                subject, body, cve = _report(writer)
                corpus.post_cves.append(cve)
            elif kind < 0.75:
                subject, body = _notice(writer)
            else:
                subject, body = _other(writer)
            if advisory_cves and rng.random() < 0.15:
                body += f"\n\nThis looks related to {rng.choice(advisory_cves)}."
        body += f"\n\n-- \n{author.split(' <')[0]}\n"
        corpus.posts.append((subject[:300], body))
        threads.append((subject, body, author.split(" <")[0]))
    return corpus


def _words(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", text.lower()))


def pick_terms(corpus: Corpus, seed: int) -> dict[str, list[str]]:
    """Search terms by kind; word kinds are chosen by how many messages contain them."""
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible choice
    frequency: Counter[str] = Counter()
    for subject, body in corpus.posts:
        frequency.update(_words(f"{subject}\n{body}"))
    total = len(corpus.posts)
    alpha = sorted(w for w in frequency if w.isalpha() and len(w) >= 5)

    def band(low: float, high: float) -> list[str]:
        return [w for w in alpha if low <= frequency[w] <= high]

    rare = band(2, 20)
    medium = band(total * 0.01, total * 0.08)
    common = band(total * 0.15, total * 0.6)
    packages = sorted({spec.project.short for spec in corpus.advisories})
    bugs = ["overflow", "injection", "traversal", "crafted", "remote", "dereference"]
    two = [f"{rng.choice(packages)} {rng.choice(bugs)}" for _ in range(4)]
    two += [f"{rng.choice(medium)} {rng.choice(common)}" for _ in range(4)]
    two += ["heap overflow", "remote attacker", "use-after-free", "path traversal"]
    advisory_cves = [v.cve_id for spec in corpus.advisories for v in spec.vulns]
    return {
        "rare word": rng.sample(rare, min(12, len(rare))),
        "medium word": rng.sample(medium, min(12, len(medium))),
        "common word": rng.sample(common, min(12, len(common))),
        "CVE ID": rng.sample(corpus.post_cves, 8) + rng.sample(advisory_cves, 4),
        "package": rng.sample(packages, min(12, len(packages))),
        "two words": two,
        "no match": ["zzyzxqv", "quuxblorf", "xylophonic", "CVE-2018-99999"],
    }


# ---------------------------------------------------------------------------------------------
# Database, Django, world, import


def _scratch_database(server_url: str) -> str:
    """Create (after dropping a leftover of an earlier run) our own database on that server."""
    import psycopg

    parts = urllib.parse.urlsplit(server_url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return urllib.parse.urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def _drop_database(server_url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(server_url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def _setup(data_dir: str, database_url: str | None) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "LOCKSTEP_DATA_DIR": data_dir,
            "LOCKSTEP_HTTPS": "0",  # plain HTTP on loopback, as `lockstep serve` does
            "LOCKSTEP_CVE_BLOCK": CVE_BLOCK,
            "LOCKSTEP_PUBLIC_CHANNEL": "oss-security",
        }
    )
    if database_url:
        os.environ["LOCKSTEP_DATABASE_URL"] = database_url
    else:
        os.environ.pop("LOCKSTEP_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from lockstep.mailgw.outbound.protect import list_secret_key

    list_secret_key()  # as `lockstep serve` does at first start: the posts made here need it


@dataclass
class World:
    channel: Any
    cases: list[tuple[Any, Any]]  # (CaseAccess, lead Actor), in corpus order


def _project_for(package: Package, projects: dict[str, tuple[Any, Any]]) -> tuple[Any, Any]:
    """The project of a package (made on first use) and its maintainer as an Actor."""
    from lockstep.accounts.actions import do_create_user
    from lockstep.core.actor import Actor
    from lockstep.orgs.actions import do_add_member, do_create_organization
    from lockstep.orgs.models import OrgKind, Role
    from lockstep.projects.actions import do_create_project

    if package.purl in projects:
        return projects[package.purl]
    system = Actor.system("bench")
    number = len(projects)
    team = do_create_organization(
        name=f"{package.short} upstream {number}", kind=OrgKind.UPSTREAM, actor=system
    )
    user = do_create_user(
        email=f"maintainer{number}@upstream.test", password=None, display_name="M", actor=system
    )
    do_add_member(team, user, role=Role.ADMIN, actor=system)
    lead = Actor.for_user(user)
    project = do_create_project(
        upstream=team,
        name=f"{package.short} ({package.ecosystem})",
        slug=f"p{number}-{re.sub(r'[^a-z0-9-]', '-', package.short.lower())}"[:50],
        repository=package.repo,
        purls=[package.purl],
        actor=lead,
    )
    projects[package.purl] = (project, lead)
    return project, lead


def _case(spec: AdvisorySpec, project: Any, lead: Any) -> Any:
    from lockstep.cases.actions.embargo import do_edit_advisory_draft
    from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
    from lockstep.cases.models import Route
    from lockstep.cases.queries import access_case_by_id
    from lockstep.core.actor import Actor
    from lockstep.cve.actions.reserving import reserve_cve
    from lockstep.intake.actions import Acceptance, ReportInput, do_accept_report, do_submit_report

    submitted = do_submit_report(
        project,
        ReportInput(
            title=spec.title,
            description=spec.report,
            affected_versions=f"before {spec.release}",
            already_public=True,
            public_url=spec.vulns[0].references[1],
        ),
        actor=Actor.anonymous(),
    )
    case = do_accept_report(
        submitted.report,
        Acceptance(route=Route.PUBLIC_LIST, override_reason="Public on the tracker."),
        actor=lead,
    )
    access = access_case_by_id(lead, case.pk)
    for vuln in spec.vulns:
        affected = [
            {
                "purl": a.package.purl,
                "ranges": [{"introduced": a.introduced, "fixed": a.fixed}],
                # A second package is another project's: its maintainer says so.
                "outside_project": a.package.purl != spec.project.purl,
            }
            for a in vuln.affected
        ]
        row = do_add_vulnerability(
            access,
            VulnerabilityInput(
                title=vuln.title,
                description=vuln.description,
                cwe=vuln.cwe,
                cvss3=vuln.cvss3,
                affected=affected,
                references=[
                    {"type": "FIX", "url": vuln.references[0]},
                    {"type": "REPORT", "url": vuln.references[1]},
                ],
                credits=[{"name": vuln.finder, "type": "FINDER"}],
            ),
            actor=lead,
        )
        got = reserve_cve(access, row, actor=lead)
        if got.cve_id != vuln.cve_id:
            raise SystemExit(f"CVE block handed out {got.cve_id}, the corpus expects {vuln.cve_id}")
    do_edit_advisory_draft(
        access,
        summary=spec.summary,
        details=spec.details,
        release_version=spec.release,
        reporter_posts=False,
        actor=lead,
    )
    return access_case_by_id(lead, case.pk)


def build_world(corpus: Corpus) -> World:
    from lockstep.channels.actions import do_create_channel
    from lockstep.channels.models import ChannelKind
    from lockstep.core.actor import Actor
    from lockstep.orgs.actions import do_create_organization
    from lockstep.orgs.models import OrgKind

    system = Actor.system("bench")
    coordinator = do_create_organization(name="Openlist", kind=OrgKind.COORDINATOR, actor=system)
    channel = do_create_channel(
        name="oss-security",
        slug="oss-security",
        kind=ChannelKind.PUBLIC,
        operated_by=coordinator,
        actor=system,
    )
    projects: dict[str, tuple[Any, Any]] = {}
    cases = []
    for n, spec in enumerate(corpus.advisories):
        project, lead = _project_for(spec.project, projects)
        cases.append((_case(spec, project, lead), lead))
        if (n + 1) % 500 == 0:
            print(f"  ... {n + 1} cases", flush=True)
    return World(channel=channel, cases=cases)


@dataclass
class Imported:
    posts_s: float
    advisories_s: float
    maintenance_s: float
    index_s: float  # of the above, inside `index_entry` (archive row and FTS5 row)
    entries: int

    @property
    def total_s(self) -> float:
        return self.posts_s + self.advisories_s + self.maintenance_s


@contextlib.contextmanager
def _timing_index_entry() -> Iterator[list[float]]:
    """Seconds spent in `index_entry`: its callers' references are wrapped, then restored."""
    from lockstep.advisories.actions import publication
    from lockstep.channels import archive, public

    spent = [0.0]
    real = archive.index_entry

    def timed(**facts: Any) -> Any:
        begin = time.perf_counter()
        try:
            return real(**facts)
        finally:
            spent[0] += time.perf_counter() - begin

    modules = (archive, public, publication)
    for module in modules:
        vars(module)["index_entry"] = timed
    try:
        yield spent
    finally:
        for module in modules:
            vars(module)["index_entry"] = real


def _post_rows(channel: Any, subject: str, body: str, *, actor: Any) -> None:
    """The archive's two writes of `do_post_public`, as it makes them: the PublicPost row, then
    `index_entry` (archive row, and on SQLite its FTS5 row). Not its checks, audit event or
    relay fan-out: a bulk import of an existing archive, like public-inbox's import_mbox."""
    import secrets

    from django.conf import settings

    from lockstep.channels import archive
    from lockstep.channels.models import ArchiveKind, PublicPost
    from lockstep.core import clock

    subject, text = " ".join(subject.split()), body.strip()
    message_id = f"<public-{secrets.token_hex(12)}@{settings.LOCKSTEP_MAIL_DOMAIN}>"
    post = PublicPost.objects.create(
        channel=channel,
        subject=subject,
        body=text,
        author_label=actor.label[:200],
        author_org=None,
        message_id=message_id,
        thread_key=message_id,  # as do_post_public: a post of its own thread
        created_at=clock.now(),
    )
    archive.index_entry(
        kind=ArchiveKind.POST,
        ref=str(post.pk),
        title=subject,
        url=f"/lists/{channel.slug}/{post.pk}/",
        text=text,
        published_at=post.created_at,
    )


def import_all(corpus: Corpus, world: World, *, via_action: bool) -> Imported:
    from django.db import connection, transaction

    from lockstep.advisories.actions.publication import do_publish_now
    from lockstep.channels.models import ArchiveEntry
    from lockstep.channels.public import do_post_public
    from lockstep.core.actor import Actor

    importer = Actor.system("archive-import")
    write = do_post_public if via_action else _post_rows
    with _timing_index_entry() as index_s:
        begin = time.perf_counter()
        for start in range(0, len(corpus.posts), POST_BATCH):
            with transaction.atomic():
                for subject, body in corpus.posts[start : start + POST_BATCH]:
                    write(world.channel, subject=subject, body=body, actor=importer)
        posts_s = time.perf_counter() - begin
        begin = time.perf_counter()
        for access, lead in world.cases:
            do_publish_now(access, actor=lead)
        advisories_s = time.perf_counter() - begin
    begin = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE channels_archiveentry")
    maintenance_s = time.perf_counter() - begin
    entries = ArchiveEntry.objects.count()
    return Imported(posts_s, advisories_s, maintenance_s, index_s[0], entries)


# ---------------------------------------------------------------------------------------------
# Web server and HTTP measurement


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def web_server(workers: int, threads: int, log_path: Path) -> Iterator[int]:
    """`lockstep web --migrate` on 127.0.0.1 (gunicorn), stopped (its process group) on exit."""
    port = _free_port()
    argv = [sys.executable, "-m", "lockstep.cli", "web", "--migrate", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(server, port, log_path)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


def _wait_healthy(server: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the web server stopped:\n{log_path.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the web server did not answer /healthz:\n{log_path.read_text()[-3000:]}")


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects (counted) if the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            begin = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = None
                self.reconnects += 1
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - begin
            if response.will_close:
                self.connection.close()
                self.connection = None
                self.reconnects += 1
            return response.status, data, elapsed
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def search(self, term: str) -> tuple[str, float]:
        status, data, elapsed = self.call("GET", "/search/?" + urllib.parse.urlencode({"q": term}))
        if status != 200:
            raise SystemExit(f"GET /search/?q={term!r} answered HTTP {status}")
        return data.decode(), elapsed

    def osv(self, ecosystem: str, name: str, version: str) -> tuple[list[Any], float]:
        query = {"package": {"ecosystem": ecosystem, "name": name}, "version": version}
        status, data, elapsed = self.call("POST", "/api/v1/query", json.dumps(query).encode())
        if status != 200:
            raise SystemExit(f"OSV query {query} answered HTTP {status}: {data[:300]!r}")
        vulns: list[Any] = json.loads(data)["vulns"]
        return vulns, elapsed


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure_search(
    client: Client, terms: dict[str, list[str]], count: int, seed: int
) -> tuple[list[float], dict[str, list[float]]]:
    rng = random.Random(seed + 2)  # noqa: S311 - reproducible order
    kinds = sorted(terms)
    plan = [(kind, rng.choice(terms[kind])) for kind in (rng.choice(kinds) for _ in range(count))]
    for kind in kinds:  # warm-up: every term once
        for term in terms[kind]:
            client.search(term)
    by_kind: dict[str, list[float]] = {kind: [] for kind in kinds}
    samples = []
    for kind, term in plan:
        page, elapsed = client.search(term)
        if kind == "no match" and NO_MATCH not in page:
            raise SystemExit(f"search for {term!r} should match nothing")
        samples.append(elapsed * 1000)
        by_kind[kind].append(elapsed * 1000)
    return samples, by_kind


def _covers(affected: Affected, version: str) -> bool:
    key = _version_key(version)
    low = affected.introduced == "0" or _version_key(affected.introduced) <= key
    return low and key < _version_key(affected.fixed)


class Expected:
    """What the corpus says an OSV query must answer: one vuln per affecting vulnerability."""

    def __init__(self, corpus: Corpus) -> None:
        self.ranges: dict[str, list[Affected]] = {}
        self.packages: dict[str, Package] = {}
        for spec in corpus.advisories:
            for vuln in spec.vulns:
                for affected in vuln.affected:
                    self.ranges.setdefault(affected.package.purl, []).append(affected)
                    self.packages[affected.package.purl] = affected.package

    def count(self, package: Package, version: str) -> int:
        return sum(1 for a in self.ranges.get(package.purl, []) if _covers(a, version))

    def plan(self, count: int, seed: int) -> list[tuple[Package, str, int]]:
        """(package, version, expected vulns): inside a range, a fixed version, any version."""
        rng = random.Random(seed + 3)  # noqa: S311 - reproducible choice
        keys = sorted(self.ranges)
        plan = []
        for _ in range(count):
            package = self.packages[rng.choice(keys)]
            span = rng.choice(self.ranges[package.purl])
            how = rng.random()
            if how < 0.4:
                low = 0 if span.introduced == "0" else package.versions.index(span.introduced)
                version = package.versions[rng.randrange(low, package.versions.index(span.fixed))]
            elif how < 0.7:
                version = span.fixed
            else:
                version = rng.choice(package.versions)
            plan.append((package, version, self.count(package, version)))
        return plan

    def fixed_and_clean(self) -> tuple[Package, str]:
        """A package's fixed version that no range of that package covers."""
        for purl in sorted(self.ranges):
            package = self.packages[purl]
            for span in self.ranges[purl]:
                if self.count(package, span.fixed) == 0:
                    return package, span.fixed
        raise SystemExit("the corpus has no fixed version outside every range")


def measure_osv(client: Client, plan: list[tuple[Package, str, int]]) -> tuple[list[float], int]:
    for package, version, _ in plan[:20]:  # warm-up
        client.osv(package.ecosystem, package.name, version)
    samples = []
    hits = 0
    for package, version, expected in plan:
        vulns, elapsed = client.osv(package.ecosystem, package.name, version)
        if len(vulns) != expected:
            raise SystemExit(
                f"OSV query {package.ecosystem} {package.name} {version}: {len(vulns)} vulns, "
                f"the corpus says {expected}"
            )
        hits += bool(vulns)
        samples.append(elapsed * 1000)
    return samples, hits


def check_answers(client: Client, corpus: Corpus, expected: Expected) -> None:
    """Fail loudly unless known things are found and unaffected versions are not."""
    from lockstep.advisories.models import Advisory

    cve = corpus.post_cves[len(corpus.post_cves) // 2]
    page, _ = client.search(cve)
    if cve not in page:
        raise SystemExit(f"search for {cve} (in a post's subject) did not show it")
    ids = list(Advisory.objects.order_by("pk").values_list("public_id", flat=True))
    public_id = ids[len(ids) // 2]
    page, _ = client.search(public_id)
    if public_id not in page:
        raise SystemExit(f"search for {public_id} did not show it")
    affected = corpus.advisories[0].vulns[0].affected[0]
    package, version = affected.package, affected.fixed
    inside = package.versions[package.versions.index(version) - 1]
    vulns, _ = client.osv(package.ecosystem, package.name, inside)
    if not vulns or len(vulns) != expected.count(package, inside):
        raise SystemExit(f"OSV: {package.name} {inside} is affected, got {len(vulns)} vulns")
    clean, fixed = expected.fixed_and_clean()
    none, _ = client.osv(clean.ecosystem, clean.name, fixed)
    if none:
        raise SystemExit(f"OSV: {clean.name} {fixed} is a fixed version, got {len(none)} vulns")
    page, _ = client.search("zzyzxqv")
    if NO_MATCH not in page:
        raise SystemExit("a nonsense word matched something")
    print(
        f"checks: search finds {cve} and {public_id}; OSV: {package.ecosystem} {package.name} "
        f"{inside} -> {len(vulns)} vulns, {clean.ecosystem} {clean.name} {fixed} (fixed) -> 0; "
        "a nonsense word -> nothing"
    )


# ---------------------------------------------------------------------------------------------
# Report


def _ratio(peer: float | None, ours: float) -> str:
    return "—" if peer is None else f"{peer / ours:.1f}x"


def print_table(imported: Imported, search: list[float], osv: list[float], vendor: str) -> None:
    p50, p95 = statistics.median(search), _percentile(search, 0.95)
    rows = [
        ("import + index (s)", imported.total_s, PI_INDEX_S, HK_INDEX_S, f"< {GOAL_INDEX_S:.0f}"),
        ("  list posts (s)", imported.posts_s, None, None, "—"),
        ("  publications (s)", imported.advisories_s, None, None, "—"),
        ("search p50 (ms)", p50, PI_P50_MS, HK_P50_MS, "—"),
        ("search p95 (ms)", p95, PI_P95_MS, HK_P95_MS, f"< {GOAL_P95_MS:.0f}"),
        ("OSV query p50 (ms)", statistics.median(osv), None, None, "—"),
        ("OSV query p95 (ms)", _percentile(osv, 0.95), None, None, "—"),
    ]
    if vendor == "postgresql":
        rows.insert(3, ("  VACUUM ANALYZE (s)", imported.maintenance_s, None, None, "—"))
    ours = f"Lockstep ({vendor})"
    head = ("metric", ours, "public-inbox", "HyperKitty", "ratio p-i / HK", "goal")
    width = len(ours)
    print(
        f"{head[0]:<20} {head[1]:>{width}} {head[2]:>12} {head[3]:>10} {head[4]:>16} {head[5]:>5}"
    )
    for label, value, inbox, kitty, goal in rows:
        ratio = "—" if inbox is None else f"{_ratio(inbox, value)} / {_ratio(kitty, value)}"
        print(
            f"{label:<20} {value:>{width}.1f} {_num(inbox):>12} {_num(kitty):>10} {ratio:>16} "
            f"{goal:>5}"
        )
    print("(ratio: the peer's figure / Lockstep's; above 1x Lockstep is faster)")
    index_met = "met" if imported.total_s < GOAL_INDEX_S else "not met"
    search_met = "met" if p95 < GOAL_P95_MS else "not met"
    print(f"goal: import + index under {GOAL_INDEX_S:.0f} s: {index_met}")
    print(f"goal: search p95 under {GOAL_P95_MS:.0f} ms: {search_met}")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


# ---------------------------------------------------------------------------------------------
# Main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=20000, help="public list messages")
    parser.add_argument("--searches", type=int, default=500, help="timed search requests")
    parser.add_argument("--queries", type=int, default=500, help="timed OSV queries")
    parser.add_argument("--advisory-share", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per process")
    parser.add_argument(
        "--posts-via",
        choices=("rows", "action"),
        default="rows",
        help="rows: the PublicPost row + index_entry (bulk import); action: do_post_public",
    )
    parser.add_argument(
        "--mbox",
        action="store_true",
        help="the public-inbox comparison instead: our 20,000-message mbox through "
        "`lockstep archive import-mbox`, then peers.md's A8 queries (bench/archive_mbox.py)",
    )
    parser.add_argument("--reps", type=int, default=20, help="--mbox: timed requests per query")
    parser.add_argument(
        "--no-public-inbox", action="store_true", help="--mbox: do not run public-inbox"
    )
    args = parser.parse_args()
    if args.mbox:  # its own scratch database: a run of the other mode may be going on
        globals()["BENCH_DATABASE"] = "lockstep_bench_archive_mbox"
    server_url = os.environ.get("LOCKSTEP_DATABASE_URL", "")
    data_dir = tempfile.mkdtemp(prefix="lockstep-archive-")
    try:
        database_url = _scratch_database(server_url) if server_url else None
        if args.mbox:
            import archive_mbox

            return archive_mbox.run(args, data_dir, database_url)
        return run(args, data_dir, database_url)
    finally:
        if server_url:
            from django.db import connections

            connections.close_all()
            _drop_database(server_url)
        shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace, data_dir: str, database_url: str | None) -> int:
    began = time.perf_counter()
    corpus = build_corpus(args.count, args.advisory_share, args.seed)
    terms = pick_terms(corpus, args.seed)
    size = sum(len(s) + len(b) for s, b in corpus.posts) / 1e6
    median = statistics.median(len(s) + len(b) for s, b in corpus.posts)
    print(
        f"corpus: {len(corpus.posts)} posts ({size:.1f} MB, median {median:.0f} B) + "
        f"{len(corpus.advisories)} advisories "
        f"({sum(len(a.vulns) for a in corpus.advisories)} vulnerabilities), "
        f"made in {time.perf_counter() - began:.1f} s"
    )
    _setup(data_dir, database_url)
    from django.db import connection, connections

    vendor = connection.vendor
    began = time.perf_counter()
    world = build_world(corpus)
    built = time.perf_counter() - began
    print(f"world: {len(world.cases)} cases ready to publish, built in {built:.1f} s")
    imported = import_all(corpus, world, via_action=args.posts_via == "action")
    per_advisory = imported.advisories_s * 1000 / max(len(corpus.advisories), 1)
    how = "do_post_public" if args.posts_via == "action" else "PublicPost row + index_entry"
    print(
        f"import + index: {imported.total_s:.1f} s for {imported.entries} archive entries "
        f"({imported.entries / imported.total_s:.0f}/s): {len(corpus.posts)} posts ({how}, "
        f"{POST_BATCH} per transaction) {imported.posts_s:.1f} s "
        f"({imported.posts_s * 1e6 / len(corpus.posts):.0f} µs each), "
        f"{len(corpus.advisories)} publications (do_publish_now) {imported.advisories_s:.1f} s "
        f"({per_advisory:.1f} ms each)"
        + (f", VACUUM ANALYZE {imported.maintenance_s:.1f} s" if vendor == "postgresql" else "")
        + f"; in index_entry (archive + full-text rows): {imported.index_s:.1f} s"
    )
    connections.close_all()
    expected = Expected(corpus)
    plan = expected.plan(args.queries, args.seed)
    with web_server(args.workers, args.threads, Path(data_dir) / "web.log") as port:
        client = Client(port)
        check_answers(client, corpus, expected)
        connections.close_all()
        search, by_kind = measure_search(client, terms, args.searches, args.seed)
        osv, hits = measure_osv(client, plan)
    print(f"search: {len(search)} sequential requests on one keep-alive connection")
    for kind, samples in sorted(by_kind.items()):
        if samples:
            print(
                f"  {kind:<12} n={len(samples):<4} p50 {statistics.median(samples):6.1f} ms  "
                f"p95 {_percentile(samples, 0.95):6.1f} ms  e.g. {terms[kind][:3]}"
            )
    print(
        f"  all          p50 {statistics.median(search):.1f} ms, p95 "
        f"{_percentile(search, 0.95):.1f} ms, p99 {_percentile(search, 0.99):.1f} ms"
    )
    print(f"OSV: {len(osv)} queries, {hits} with vulns, all answers as the corpus expects")
    print(
        "load average (1, 5, 15 min) at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    if client.reconnects:
        print(f"(the server closed the connection {client.reconnects} times)")
    print()
    print_table(imported, search, osv, vendor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
