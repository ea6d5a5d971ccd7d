"""`bench/archive.py --mbox`: the public-inbox comparison on its own terms.

1. Our generator (`gen_mbox.py`) writes a 20,000-message mboxrd shaped like the one the
   public-inbox figures were measured on (shared/peers/peers.md §5; not timed).
2. `lockstep archive import-mbox` imports it into a public list, as an operator would: a
   separate process, timed end to end (start-up, both passes, inserts, the full-text index and
   its merge). A second run checks that nothing is imported twice.
3. `lockstep web` (gunicorn, 2 processes x 4 threads) answers the query set public-inbox was
   measured with (peers.md appendix A8: the same sixteen queries in the same syntax; the CVE ID
   and the Message-ID are one of our corpus's, chosen as A8's were: a CVE named once, the first
   message), plus very common words; one keep-alive connection, one warm-up request then
   `--reps` timed requests per query, as A8 does. p50/p95 per query, per class and overall.
4. With public-inbox installed (`public-inbox-index` on PATH), the same mbox goes into a v2
   inbox (`InboxWritable->import_mbox`, the import public-inbox's own tools use), timed, and
   `public-inbox-httpd -W 1` answers the same queries; both are printed side by side. Without
   it, peers.md's figures (same machine class, another day) are shown, labelled as such.
5. The goals, met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import archive
import gen_mbox

LIST = "cvd-list"
# shared/peers/peers.md §5 (public-inbox 1.9.0, Xapian 1.4.22; same machine class, 2026-11-25).
PI_IMPORT_S, PI_P50_MS, PI_P95_MS = 71.8, 6.1, 12.2
GOAL_IMPORT_S, GOAL_P95_MS = 35.0, 10.0
# (query, class): peers.md appendix A8's set; {cve} and {mid} are filled from our corpus.
A8 = (
    ("overflow", "word"),
    ("bounds check", "words"),
    ('"heap buffer overflow"', "phrase"),
    ("s:PATCH", "field"),
    ("s:SECURITY AND b:embargo", "fields, AND"),
    ("f:alice", "sender"),
    ("d:2023-06-01..2023-06-30", "date range"),
    ("s:crypto AND b:assert", "fields, AND"),
    ("sanit*", "prefix"),
    ("(ssh OR tls) AND overflow", "boolean"),
    ("memoryview", "rare word"),
    ("{cve}", "one message"),
    ("zzyzxqv", "no match"),
    ("m:{mid}", "one message"),
    ("dfn:lib/ssl.py", "diff"),
    ("dfb:checked_", "diff"),
)
COMMON = (("the", "very common"), ("return", "very common"), ("this", "very common"))
OUR_HITS = re.compile(rb"(\d+) (or more )?match")
PI_HITS = re.compile(rb"of ~?(\d+)")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Timed:
    hits: str
    samples: list[float] = field(default_factory=list)  # ms

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)


def corpus_queries(mbox: Path) -> list[tuple[str, str]]:
    """A8's queries with our corpus's CVE named once and first Message-ID."""
    text = mbox.read_text(encoding="utf-8", errors="replace")
    counts: dict[str, int] = {}
    for cve in re.findall(r"CVE-20\d\d-\d+", text):
        counts[cve] = counts.get(cve, 0) + 1
    once = sorted(cve for cve, n in counts.items() if n == 1 and cve.startswith("CVE-2024"))
    first = re.search(r"^Message-ID: <([^>]+)>", text, re.MULTILINE)
    if not once or first is None:
        raise SystemExit("the corpus has no CVE named once, or no Message-ID")
    fill = {"cve": once[len(once) // 2], "mid": first.group(1)}
    return [(query.format(**fill), kind) for query, kind in (*A8, *COMMON)]


def _lockstep(*argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "lockstep.cli", *argv]
    return subprocess.run(
        command,
        cwd=archive.ROOT,
        env=os.environ.copy(),
        text=True,
        check=False,
        stdout=subprocess.PIPE,
    )


def import_mbox(mbox: Path) -> tuple[float, float, str]:
    """(wall s, CPU s, summary) of `lockstep archive import-mbox` in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = _lockstep("archive", "import-mbox", LIST, str(mbox))
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"import-mbox failed ({done.returncode}):\n{done.stdout}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def measure(
    connection: http.client.HTTPConnection, path: str, reps: int, hits: re.Pattern[bytes]
) -> Timed:
    """One warm-up, then `reps` timed GETs on one keep-alive connection (A8's method)."""
    timed = Timed(hits="?")
    for attempt in range(reps + 1):
        began = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - began) * 1000
        if response.status not in {200, 404}:  # public-inbox answers 404 for no hit
            raise SystemExit(f"GET {path} answered HTTP {response.status}")
        if attempt:
            timed.samples.append(elapsed)
    found = hits.search(body)
    timed.hits = (
        (found.group(1).decode() + ("+" if found.lastindex == 2 and found.group(2) else ""))
        if found
        else "0"
    )
    return timed


def run_queries(
    port: int, prefix: str, queries: list[tuple[str, str]], reps: int, hits: re.Pattern[bytes]
) -> list[Timed]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        return [
            measure(connection, prefix + urllib.parse.quote(query), reps, hits)
            for query, _ in queries
        ]
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------
# public-inbox, when installed

PI_IMPORT = """
use strict; use warnings;
use PublicInbox::Config; use PublicInbox::InboxWritable;
my ($name, $file) = @ARGV;
my $inbox = PublicInbox::Config->new->lookup_name($name) or die "no inbox $name\\n";
open(my $mbox, '<', $file) or die "cannot open $file: $!\\n";
PublicInbox::InboxWritable->new($inbox)->import_mbox($mbox, 'mboxrd');
"""


def _pi_env(home: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "PI_CONFIG": str(home / "pi-config")}


def public_inbox_import(mbox: Path, home: Path) -> tuple[float, float]:
    env = _pi_env(home)
    inbox = home / "inbox"
    init = ["public-inbox-init", "-V2", "-L", "full", "bench", str(inbox)]
    subprocess.run([*init, "http://127.0.0.1/bench", "cvd-list@lists.test"], env=env, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(["perl", "-e", PI_IMPORT, "bench", str(mbox)], env=env, check=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


@contextlib.contextmanager
def public_inbox_httpd(home: Path) -> Iterator[int]:
    port = free_port()
    argv = ["public-inbox-httpd", "-l", f"http://127.0.0.1:{port}", "-W", "1"]
    with (home / "httpd.log").open("wb") as log:
        server = subprocess.Popen(
            argv, env=_pi_env(home), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/bench/")
                if probe.getresponse().status == 200:
                    break
            time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


# ---------------------------------------------------------------------------------------------
# Report


def _all(results: list[Timed]) -> list[float]:
    return [sample for timed in results for sample in timed.samples]


def _p(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms"


def print_queries(
    queries: list[tuple[str, str]], ours: list[Timed], peer: list[Timed] | None
) -> None:
    head = f"{'query':<44} {'class':<12} {'hits':>6} {'p50':>6} {'p95':>6}"
    print(f"{head}   {'p-i hits':>8} {'p50':>6} {'p95':>6}")
    for n, ((query, kind), timed) in enumerate(zip(queries, ours, strict=True)):
        other = peer[n] if peer and n < len(peer) else None
        theirs = f"{'—':>8} {'—':>6} {'—':>6}"
        if other:
            theirs = f"{other.hits:>8} {other.p50:6.1f} {other.p95:6.1f}"
        mine = f"{timed.hits:>6} {timed.p50:6.1f} {timed.p95:6.1f}"
        print(f"{query[:44]:<44} {kind:<12} {mine}   {theirs}")
    print("(ms; our hits count the newest 1,000 matches it ranks, '+' when there are more)")


def print_classes(
    queries: list[tuple[str, str]], ours: list[Timed], peer: list[Timed] | None
) -> None:
    kinds = list(dict.fromkeys(kind for _, kind in queries))
    print(f"{'class':<14} {'ours p50':>9} {'p95':>6}   {'p-i p50':>8} {'p95':>6}")
    for kind in kinds:
        mine = [s for (_, k), t in zip(queries, ours, strict=True) if k == kind for s in t.samples]
        row = f"{kind:<14} {statistics.median(mine):9.1f} {percentile(mine, 0.95):6.1f}"
        theirs = [
            s
            for (_, k), t in zip(queries, peer or [], strict=False)
            if k == kind
            for s in t.samples
        ]
        if theirs:
            row += f"   {statistics.median(theirs):8.1f} {percentile(theirs, 0.95):6.1f}"
        print(row)


def _met(ok: bool) -> str:  # noqa: FBT001
    return "met" if ok else "not met"


def print_goals(import_s: float, a8: list[float], peer_p95: float, peer_label: str) -> None:
    p95 = percentile(a8, 0.95)
    met = _met(import_s < GOAL_IMPORT_S)
    print(f"goal: import + index under {GOAL_IMPORT_S:.0f} s: {import_s:.1f} s: {met}")
    print(f"goal: search p95 under {GOAL_P95_MS:.0f} ms: {p95:.1f} ms: {_met(p95 < GOAL_P95_MS)}")
    peer = f"public-inbox's ({peer_label}: {peer_p95:.1f} ms)"
    print(f"goal: search p95 below {peer}: {_met(p95 < peer_p95)}")


def report(
    queries: list[tuple[str, str]],
    ours: list[Timed],
    peer: list[Timed] | None,
    wall: float,
    peer_import: float | None,
) -> None:
    reps = len(ours[0].samples)
    print(f"\nsearch over HTTP, one keep-alive connection, a warm-up then {reps} per query:")
    print_queries(queries, ours, peer)
    print()
    print_classes(queries, ours, peer)
    a8 = _all(ours[: len(A8)])
    print(f"\nLockstep, A8 set, all {len(a8)} requests: {_p(a8)}")
    print(f"Lockstep, with the very common words too: {_p(_all(ours))}")
    peer_p50, peer_p95, label = PI_P50_MS, PI_P95_MS, "peers.md"
    if peer:
        theirs = _all(peer)
        peer_p50, peer_p95, label = statistics.median(theirs), percentile(theirs, 0.95), "this run"
        print(f"public-inbox, A8 set, all {len(theirs)} requests: {_p(theirs)}")
    print(f"\n{'':<24} {'Lockstep':>9} {'public-inbox':>13}  ({label})")
    print(f"{'import + index (s)':<24} {wall:9.1f} {peer_import or PI_IMPORT_S:13.1f}")
    print(f"{'search p50 (ms)':<24} {statistics.median(a8):9.1f} {peer_p50:13.1f}")
    print(f"{'search p95 (ms)':<24} {percentile(a8, 0.95):9.1f} {peer_p95:13.1f}")
    print(
        "load average (1, 5, 15 min) at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print_goals(wall, a8, peer_p95, label)


# ---------------------------------------------------------------------------------------------
# Main


def make_mbox(path: Path, count: int, seed: int) -> None:
    began = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="\n") as out:
        gen_mbox.write_mbox(out, count, seed)
    size, spent = path.stat().st_size / 1e6, time.perf_counter() - began
    print(f"mbox: {count} messages, {size:.1f} MB mboxrd, by bench/gen_mbox.py in {spent:.1f} s")


def lockstep_import(mbox: Path, data_dir: str, database_url: str | None) -> float:
    """The list, then `import-mbox` twice (the second must import nothing); the first's time."""
    archive._setup(data_dir, database_url)  # noqa: SLF001 - the bench's own set-up
    from django.db import connection, connections

    from lockstep.channels.actions import do_create_channel
    from lockstep.channels.models import ChannelKind
    from lockstep.core.actor import Actor

    do_create_channel(name=LIST, slug=LIST, kind=ChannelKind.PUBLIC, actor=Actor.system("bench"))
    vendor = connection.vendor
    connections.close_all()
    wall, cpu, summary = import_mbox(mbox)
    print(f"import-mbox ({vendor}): {wall:.1f} s wall, {cpu:.1f} s CPU")
    print("  " + summary.strip().replace("\n", "\n  "))
    again, _, summary = import_mbox(mbox)
    print(f"import-mbox again: {again:.1f} s: {summary.splitlines()[0]}")
    database = Path(data_dir) / "lockstep.sqlite3"
    if database.exists():
        size = sum(p.stat().st_size for p in database.parent.glob("lockstep.sqlite3*"))
        print(f"database with the archive and its full-text index: {size / 1e6:.0f} MB")
    return wall


def public_inbox(
    args: argparse.Namespace, mbox: Path, data_dir: str, queries: list[tuple[str, str]]
) -> tuple[list[Timed] | None, float | None]:
    if not shutil.which("public-inbox-index") or args.no_public_inbox:
        why = "not run (--no-public-inbox)" if args.no_public_inbox else "not installed"
        print(f"public-inbox {why} (Debian: apt-get install public-inbox):")
        print("  its figures below are peers.md §5's (same machine class, another day)")
        return None, None
    home = Path(tempfile.mkdtemp(prefix="pi-", dir=data_dir))
    wall, cpu = public_inbox_import(mbox, home)
    print(f"public-inbox import + index: {wall:.1f} s wall, {cpu:.1f} s CPU")
    with public_inbox_httpd(home) as port:
        return run_queries(port, "/bench/?q=", queries[: len(A8)], args.reps, PI_HITS), wall


def run(args: argparse.Namespace, data_dir: str, database_url: str | None) -> int:
    mbox = Path(data_dir) / "bench20k.mbox"
    make_mbox(mbox, args.count, args.seed)
    queries = corpus_queries(mbox)
    wall = lockstep_import(mbox, data_dir, database_url)
    with archive.web_server(args.workers, args.threads, Path(data_dir) / "web.log") as port:
        ours = run_queries(port, "/search/?q=", queries, args.reps, OUR_HITS)
    peer, peer_import = public_inbox(args, mbox, data_dir, queries)
    report(queries, ours, peer, wall, peer_import)
    return 0
