"""A deterministic synthetic mailing-list archive in mboxrd, shaped like the corpus the
public-inbox comparison used (shared/peers/peers.md §5: 20,000 messages, about 31 MB).

    .venv/bin/python bench/gen_mbox.py OUT.mbox [--count 20000] [--seed 1]

Our own generator (none of the peers' code): the same shape, so the same queries find
comparable numbers of messages.

- About 70 % replies, to a recent message (the newer, the likelier), with In-Reply-To, a
  References chain of at most 12 and the parent's opening lines quoted under an attribution.
- Thread starters: about 45 % patches ("[PATCH v2 3/5] net: fix heap buffer overflow"), with
  diff hunks cut from CPython's stdlib source (one changed line calls a `checked_` function and
  an `assert` line is added), about 25 % security reports ("[SECURITY] tls: … (CVE-2024-…)")
  with a proposed embargo date, the rest questions.
- 400 senders of Zipf-like activity, Cc lists, dates from 2023-01-01 about 50 minutes apart.
- Prose: sentences of CPython's stdlib docstrings, so words have realistic frequencies.
- A small share of the mail is MIME as real lists carry it: encoded names, quoted-printable,
  a patch attached, HTML only. Bodies carry lines that start with "From " (quoted per mboxrd).
"""

from __future__ import annotations

import argparse
import ast
import email.utils
import quopri
import random
import re
import sys
import sysconfig
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

START = datetime(2023, 1, 1, tzinfo=UTC)
MEAN_GAP_S = 3000.0
REPLY_SHARE = 0.70
REFS_MAX = 12
PEOPLE = 400
LIST_ADDRESS = "cvd-list@lists.test"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GIVEN = _words(
    "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert "
    "Sybil Trent Victor Walter Yusuf Zoe Arjun Mei Lars Ingrid Tomasz Priya Kenji Fatima Diego "
    "Oksana Jamal Chen Anja Pavel Lucia Ahmed Hana Marek Sven"
)
FAMILY = _words(
    "Smith Jones Garcia Muller Rossi Kowalski Tanaka Nguyen Silva Novak Ivanova Schmidt Dubois "
    "Larsen Kim Patel Okafor Haddad Costa Berg Fischer Moreau Wang Singh Ortiz Romano Lindqvist "
    "Yilmaz Kaur Sato"
)
ACCENTED = ("Jürgen Weiß", "Zoë Lefèvre", "Łukasz Wójcik", "Søren Ærø", "Íñigo Peña")
DOMAINS = _words("kernel.test distro-a.test distro-b.test vendor.test example.org uni.test")
AREAS = _words(
    "net mm fs/ext4 crypto usb drm sched bpf tls ssh openssl glibc curl libxml2 sudo systemd "
    "kvm nfs"
)
ACTIONS = "fix avoid handle check validate reject limit sanitize refactor add remove harden"
FLAWS = (
    "integer overflow in length field",
    "use-after-free on error path",
    "NULL dereference in parser",
    "out-of-bounds read in decoder",
    "race in reference counting",
    "missing bounds check",
    "uninitialized stack variable",
    "heap buffer overflow",
    "double free on teardown",
    "TOCTOU in path handling",
    "signedness bug",
    "memory leak in cleanup",
)
AGENTS = ("Mutt/2.2.9", "git-send-email 2.39.5", "Thunderbird/115.3.1", "aerc 0.15.2")
FROM_LINES = (
    "From the changelog it is not clear which release carries the fix.",
    "From a quick look the other callers are fine.",
    "From my reading of the spec this is allowed.",
)


@dataclass
class Sent:
    """What a reply needs to know of an earlier message."""

    message_id: str
    subject: str
    references: list[str]
    body: str
    author: str


@dataclass
class Corpus:
    sentences: list[str] = field(default_factory=list)
    sources: list[tuple[str, list[str]]] = field(default_factory=list)


def load_stdlib() -> Corpus:
    """Docstring sentences and source lines of CPython's stdlib (top-level modules)."""
    corpus = Corpus()
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:400]:
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        corpus.sources.append((path.name, source.splitlines()))
        kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        for node in ast.walk(tree):
            doc = ast.get_docstring(node) if isinstance(node, kinds) else None
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join((doc or "").split())):
                if 30 <= len(sentence) <= 240 and not sentence.startswith(">>>"):
                    corpus.sentences.append(sentence)
    return corpus


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible text, not secrets
        self.stdlib = load_stdlib()
        self.people = self._people()
        self.activity = [1 / (n + 1) ** 0.9 for n in range(len(self.people))]
        self.sent: list[Sent] = []
        self.when = START

    def _people(self) -> list[tuple[str, str]]:
        people = []
        for n in range(PEOPLE):
            if n % 80 == 41:
                name = ACCENTED[(n // 80) % len(ACCENTED)]
            else:
                name = f"{self.rng.choice(GIVEN)} {self.rng.choice(FAMILY)}"
            local = re.sub(r"[^a-z.]", "", name.lower().replace(" ", "."))
            people.append((name, f"{local}{n}@{self.rng.choice(DOMAINS)}"))
        return people

    def prose(self, sentences: int) -> str:
        text = " ".join(self.rng.choice(self.stdlib.sentences) for _ in range(sentences))
        return "\n".join(textwrap.wrap(text, 72))

    def hunk(self) -> str:
        name, lines = self.rng.choice(self.stdlib.sources)
        if len(lines) < 30:
            return ""
        start = self.rng.randrange(len(lines) - 20)
        context = lines[start : start + self.rng.randint(8, 18)]
        out = [f"diff --git a/lib/{name} b/lib/{name}", f"--- a/lib/{name}", f"+++ b/lib/{name}"]
        out.append(f"@@ -{start + 1},{len(context)} +{start + 1},{len(context) + 1} @@")
        middle = len(context) // 2
        for n, line in enumerate(context):
            if n == middle:
                out += [f"-{line}", "+" + line.replace("(", "(checked_", 1)]
                out.append("+    assert len(buf) <= limit")
            else:
                out.append(f" {line}")
        return "\n".join(out)

    def starter(self, name: str, address: str) -> tuple[str, str]:
        area, flaw = self.rng.choice(AREAS), self.rng.choice(FLAWS)
        kind = self.rng.random()
        if kind < 0.45:
            total = self.rng.randint(1, 8)
            part, version = self.rng.randint(1, total), self.rng.randint(1, 4)
            verb = self.rng.choice(ACTIONS.split())
            subject = f"[PATCH v{version} {part}/{total}] {area}: {verb} {flaw}"
            hunks = "\n".join(self.hunk() for _ in range(self.rng.randint(1, 3)))
            body = f"{self.prose(self.rng.randint(2, 5))}\n\nSigned-off-by: {name} <{address}>"
            return subject, f"{body}\n---\n{hunks}\n-- \n2.39.5\n"
        if kind < 0.70:
            cve = f"CVE-20{self.rng.randint(23, 25)}-{self.rng.randint(1000, 59999)}"
            date = self.when + timedelta(days=self.rng.randint(3, 14))
            embargo = f"Embargo: proposed public date {date:%Y-%m-%d %H:%M} UTC"
            body = f"{self.prose(self.rng.randint(3, 8))}\n\n{embargo}\n\n"
            return f"[SECURITY] {area}: {flaw} ({cve})", body + self.prose(self.rng.randint(1, 4))
        return f"{area}: question about {flaw}", self.prose(self.rng.randint(2, 6))

    def reply(self, parent: Sent) -> tuple[str, str]:
        subject = parent.subject if parent.subject.startswith("Re: ") else f"Re: {parent.subject}"
        lines = parent.body.splitlines()[: self.rng.randint(3, 15)]
        quoted = "\n".join(f"> {line}".rstrip() for line in lines)
        said = email.utils.format_datetime(self.when - timedelta(hours=1))
        body = (
            f"On {said}, {parent.author} wrote:\n{quoted}\n\n{self.prose(self.rng.randint(1, 5))}"
        )
        if self.rng.random() < 0.3:
            body += f"\n\n{quoted.splitlines()[-1]}\n\n{self.prose(self.rng.randint(1, 3))}"
        return subject, body

    def parent(self) -> Sent | None:
        if not self.sent or self.rng.random() >= REPLY_SHARE:
            return None
        back = int(self.rng.expovariate(1 / 40)) + 1
        return self.sent[-min(back, len(self.sent))]

    def message(self, number: int) -> tuple[str, str]:
        """(the sender's address, the message)."""
        self.when += timedelta(seconds=self.rng.expovariate(1 / MEAN_GAP_S))
        name, address = self.rng.choices(self.people, self.activity)[0]
        token = f"{self.rng.getrandbits(32):08x}"
        message_id = f"<{self.when:%Y%m%d%H%M%S}.{number}.{token}@{address.split('@')[1]}>"
        parent = self.parent()
        subject, body = self.reply(parent) if parent else self.starter(name, address)
        if self.rng.random() < 0.01:
            body += "\n\n" + self.rng.choice(FROM_LINES)
        body = f"{body.rstrip()}\n\n-- \n{name}\n"
        references = [*parent.references, parent.message_id][-REFS_MAX:] if parent else []
        self.sent.append(Sent(message_id, subject, references, body, name))
        headers = self.headers(
            name, address, subject, message_id, parent=parent, references=references
        )
        return address, render(headers, body, self.rng.random(), name=name)

    def headers(  # noqa: PLR0913 - one message's header facts
        self,
        name: str,
        address: str,
        subject: str,
        message_id: str,
        *,
        parent: Sent | None,
        references: list[str],
    ) -> list[str]:
        sender = email.utils.formataddr((name, address), charset="utf-8")  # RFC 2047 if needed
        out = [f"From: {sender}", f"To: {LIST_ADDRESS}"]
        cc = self.rng.sample(self.people, self.rng.randint(0, 4))
        if cc:
            out.append("Cc: " + ",\n\t".join(email.utils.formataddr(p, "utf-8") for p in cc))
        out += [f"Subject: {subject}", f"Date: {email.utils.format_datetime(self.when)}"]
        out.append(f"Message-ID: {message_id}")
        if parent:
            out += [f"In-Reply-To: {parent.message_id}", "References: " + "\n\t".join(references)]
        out += ["MIME-Version: 1.0", "List-Id: <cvd-list.lists.test>"]
        out.append(f"User-Agent: {self.rng.choice(AGENTS)}")
        return out


def render(headers: list[str], body: str, dice: float, *, name: str) -> str:
    """Header lines and the body as one message: mostly plain UTF-8, a few MIME shapes."""
    if dice < 0.01:  # quoted-printable
        encoded = quopri.encodestring(body.encode()).decode("ascii")
        headers = [*headers, "Content-Type: text/plain; charset=UTF-8"]
        return "\n".join([*headers, "Content-Transfer-Encoding: quoted-printable", "", encoded])
    if dice < 0.02 and "\ndiff --git" in body:  # the patch as an attachment
        text, patch = body.split("\ndiff --git", 1)
        boundary = "=-=-=attached=-=-="
        parts = [
            "This is a multi-part message in MIME format.",
            f"--{boundary}",
            "Content-Type: text/plain; charset=UTF-8",
            "",
            text,
            f"--{boundary}",
            'Content-Type: text/x-diff; name="fix.patch"',
            'Content-Disposition: attachment; filename="fix.patch"',
            "",
            "diff --git" + patch,
            f"--{boundary}--",
            "",
        ]
        headers = [*headers, f'Content-Type: multipart/mixed; boundary="{boundary}"']
        return "\n".join([*headers, "", *parts])
    if dice < 0.025:  # HTML only, as some mail clients send it
        paragraphs = "".join(f"<p>{_html(p)}</p>" for p in body.split("\n\n"))
        html = f"<html><body>{paragraphs}<p>Sent by {_html(name)}</p></body></html>"
        return "\n".join([*headers, "Content-Type: text/html; charset=UTF-8", "", html, ""])
    headers = [*headers, "Content-Type: text/plain; charset=UTF-8"]
    return "\n".join([*headers, "Content-Transfer-Encoding: 8bit", "", body])


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mboxrd_quote(message: str) -> str:
    """mboxrd: every line that starts with zero or more '>' then 'From ' gets one more '>'."""
    return re.sub(r"(?m)^(>*From )", r">\1", message)


def write_mbox(out: TextIO, count: int, seed: int) -> None:
    generator = Generator(seed)
    for number in range(count):
        address, message = generator.message(number)
        stamp = generator.when.strftime("%a %b %d %H:%M:%S %Y")
        out.write(f"From {address} {stamp}\n{mboxrd_quote(message).rstrip(chr(10))}\n\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        write_mbox(out, args.count, args.seed)
    size = args.out.stat().st_size / 1e6
    print(f"wrote {args.count} messages to {args.out} ({size:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
