"""Publication benchmark: advisories at the exact moment, exactly once, with real workers.

    .venv/bin/python bench/publish.py [--cases 100] [--workers 2] [--spacing 0.3]
                                      [--poll-via http|db] [--no-restart] [--keep-data]
                                      [--database postgres|sqlite] [--load]

On PostgreSQL (the default; postgres://postgres@127.0.0.1:5432/, see --server-url) the
benchmark makes a database of its own (--database-name, lockstep_bench_publish), migrates it
and drops it at the end. With --database sqlite it uses a SQLite file in its temporary data
folder, as a one-machine instance does.

1. It builds N private-coordination cases, one vulnerability each, through the product's
   actions: an upstream team and its project, a coordinator with a private list (distros
   policy) of vendors that ship the project, a public list that advisories are posted to,
   and per case a report that is accepted with a realistic date (7 days ahead, 14:00 UTC,
   checked by the list's policy).
2. It starts `lockstep web` (gunicorn, as `lockstep.cli` builds its command line) and
   `--workers` real `lockstep worker` processes, and waits until their start-up work (the
   catch-up, mail of the set-up) is done.
3. The schedule is then COMPRESSED TO SECONDS for the benchmark: the policy only accepts
   dates at least 24 hours away (and in whole minutes), so case i's disclosure date is moved
   with a queryset update to T0 + --lead + i * --spacing seconds and the real planner
   (`lockstep.advisories.tasks.plan_case`) queues its real `publish_at_date` task with
   `run_after` at that moment. (The pre-date reminders of such a date are all overdue, so
   the planner queues them to run at once; they run during the lead time.)
4. A poller in this process watches what the public sees, every --poll seconds (20 ms),
   from before the first date: `GET /api/v1/advisories?limit=200` on the web server
   (--poll-via http, the default), or the committed `Advisory` rows with
   `published_at <= now()` read straight from PostgreSQL (--poll-via db, for a finer grain
   and no web load). A case's visible delay is the end of the first answer that lists its
   advisory, minus its date; the server-side delay is `Advisory.published_at` minus its date.
5. Unless --no-restart, one worker is killed with SIGKILL at the date of case
   int(N * --restart-at) -- with --kill-when publishing (the default) at the first moment
   after it that this worker is running a `publish_at_date` task, so that a publication is
   cut off half-way -- and a fresh one is started (--restart-delay seconds later): the
   database queue and the catch-up at worker start must neither lose nor repeat one.
6. After the last date (plus --margin, or until every case is public, at most --timeout),
   the workers are stopped (SIGTERM, then SIGKILL) and the database is counted: advisories
   per case, "case:case:published" audit events per case, public-list posts per advisory,
   cases never published, and the `publish_at_date` task results.

With --load (issue 13: publication never waits behind mail), posts are written all along,
from --lead seconds before the first date to the end, in --load-cases private cases of 300
members each (--load-members), whenever fewer than --load-backlog (1,500) copies wait; every
copy is signed and encrypted to the member's own key and delivered over SMTP to an aiosmtpd
sink. So the workers' main loops are busy with `deliver_outbound` while the dates fall due,
and the publications have only the workers' publication lanes (lockstep.ops.lanes) to count
on. `bench/publish_load.py` builds and makes that load, and says afterwards how busy mail was
during the dates (copies queued and sent, copies waiting, main loops' time in delivery).

It prints (bench/publish_figures.py) the table, then where the delay goes: date to task
claimed, claimed to case locked, locked to task finished (publication transaction and commit),
finished to visible, and what else the workers ran meanwhile; last, the goal and "met" or "not
met". Goal: p99 visible delay under 2 s with no duplicate and none missing; with --load, p99
under 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from publish_figures import PUBLISH_TASK, Run, backlog, count_run, report
from publish_load import LoadReport, LoadWorld, MailSink, Poster, build_load, mail_facts
from typing_extensions import override

ROOT = Path(__file__).resolve().parents[1]
SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "lockstep_bench_publish"
AFFECTED = [{"purl": "pkg:pypi/libquokka", "ranges": [{"introduced": "0", "fixed": "1.4.2"}]}]
VENDOR_USERS = 2


# --- the database and the environment -------------------------------------------------------


def _database_url(server_url: str, name: str) -> str:
    return urlunparse(urlparse(server_url)._replace(path=f"/{name}"))


def _recreate_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(database_url: str | None, data_dir: str) -> dict[str, str]:
    """What every process of this instance gets: the CLI's settings, this database (without a
    URL: SQLite in the data folder)."""
    from lockstep.cli import DEFAULT_SETTINGS

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
    if database_url:
        env["LOCKSTEP_DATABASE_URL"] = database_url
    env.update(
        DJANGO_SETTINGS_MODULE=DEFAULT_SETTINGS,
        LOCKSTEP_DATA_DIR=data_dir,
        LOCKSTEP_SECRET_KEY="bench-" + secrets.token_hex(16),
        LOCKSTEP_HTTPS="0",  # plain HTTP on 127.0.0.1
        LOCKSTEP_WORKER_HEARTBEAT_SECONDS="1",
    )
    return env


def _setup(env: dict[str, str]) -> None:
    for name in [k for k in os.environ if k.startswith(("LOCKSTEP_", "DJANGO_"))]:
        del os.environ[name]
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from lockstep.mailgw.outbound.protect import list_secret_key

    list_secret_key()  # as `lockstep serve` does at first start: the posts made here need it


# --- the world ------------------------------------------------------------------------------


def _realistic_date() -> datetime:
    """A date the list's policy accepts: 7 days ahead, 14:00 UTC."""
    from lockstep.core import clock

    return (clock.now() + timedelta(days=7)).replace(hour=14, minute=0, second=0, microsecond=0)


def _build(cases: int, vendors: int) -> list[int]:
    """`cases` private-coordination cases with a vulnerability each; their ids."""
    from lockstep.accounts.actions import do_create_user
    from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
    from lockstep.cases.models import Route
    from lockstep.cases.queries import access_case_by_id
    from lockstep.channels.actions import do_add_channel_member, do_create_channel
    from lockstep.channels.models import ChannelKind
    from lockstep.core.actor import Actor
    from lockstep.embargo.policy import DISTROS
    from lockstep.intake.actions import Acceptance, ReportInput, do_accept_report, do_submit_report
    from lockstep.orgs.actions import do_add_member, do_create_organization
    from lockstep.orgs.models import OrgKind, Role
    from lockstep.projects.actions import do_add_redistributor, do_create_project

    system = Actor.system("bench")

    def member(org: Any, email: str, role: Role = Role.MEMBER) -> Any:
        user = do_create_user(email=email, password=None, display_name=email, actor=system)
        do_add_member(org, user, role=role, actor=system)
        return user

    upstream = do_create_organization(name="libquokka team", kind=OrgKind.UPSTREAM, actor=system)
    maintainer = member(upstream, "maintainer@libquokka.test", Role.ADMIN)
    project = do_create_project(
        upstream=upstream,
        name="libquokka",
        slug="libquokka",
        purls=[AFFECTED[0]["purl"]],
        actor=system,
    )
    coordinator = do_create_organization(name="Openlist", kind=OrgKind.COORDINATOR, actor=system)
    member(coordinator, "coordinator@openlist.test", Role.ADMIN)
    distros = do_create_channel(
        name="distros",
        slug="distros",
        kind=ChannelKind.PRIVATE,
        policy=DISTROS,
        operated_by=coordinator,
        actor=system,
    )
    do_create_channel(
        name="oss-security", slug="oss-security", kind=ChannelKind.PUBLIC, actor=system
    )
    for index in range(vendors):
        org = do_create_organization(name=f"Vendor {index}", kind=OrgKind.VENDOR, actor=system)
        for seat in range(VENDOR_USERS):
            member(org, f"security{seat}@vendor{index}.test")
        do_add_channel_member(distros, org, actor=system)
        do_add_redistributor(project, org, actor=system)
    lead = Actor.for_user(maintainer)
    realistic = _realistic_date()
    ids = []
    for index in range(cases):
        submitted = do_submit_report(
            project,
            ReportInput(
                title=f"Heap overflow #{index} in quokka_inflate()",
                description="A crafted stream overflows the window buffer.",
            ),
            actor=Actor.anonymous(),
        )
        case = do_accept_report(
            submitted.report, Acceptance(channel=distros, disclosure_at=realistic), actor=system
        )
        if case.route != Route.PRIVATE_COORDINATION or case.disclosure_at is None:
            raise SystemExit(f"case {case.pk} is {case.route} with date {case.disclosure_at}")
        do_add_vulnerability(
            access_case_by_id(lead, case.pk),
            VulnerabilityInput(
                title=f"Heap overflow #{index} in quokka_inflate()",
                description="A crafted stream overflows the window buffer.",
                cwe="CWE-787",
                cvss3="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                affected=AFFECTED,
            ),
            actor=lead,
        )
        ids.append(case.pk)
    return ids


def _compress_schedule(case_ids: list[int], first: float, spacing: float) -> dict[int, datetime]:
    """Move each date to its benchmark moment and let the real planner queue its tasks."""
    from django.db import transaction

    from lockstep.advisories.tasks import plan_case
    from lockstep.cases.models import Case

    dates = {
        case_id: datetime.fromtimestamp(round(first + n * spacing, 3), tz=UTC)
        for n, case_id in enumerate(case_ids)
    }
    with transaction.atomic():
        for case_id, when in dates.items():
            Case.objects.filter(pk=case_id).update(disclosure_at=when)
    for case_id in case_ids:
        plan_case(case_id)
    return dates


# --- processes ------------------------------------------------------------------------------


@dataclass
class Processes:
    env: dict[str, str]
    logs: Path
    web: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    retired: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with (self.logs / log_name).open("ab") as log:
            return subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=log, stderr=log)

    def start_web(self, port: int) -> None:
        from lockstep.cli import _gunicorn_argv

        args = argparse.Namespace(host="127.0.0.1", port=port, workers=1, threads=4)
        self.web = self._spawn(_gunicorn_argv(args), "web.log")

    def start_worker(self) -> subprocess.Popen[bytes]:
        from lockstep.cli import _worker_argv

        worker = self._spawn(_worker_argv(), f"worker-{len(self.workers) + len(self.retired)}.log")
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        worker.kill()
        worker.wait(timeout=10)
        self.workers.remove(worker)
        self.retired.append(worker)

    def stop_workers(self, grace: float = 15.0) -> None:
        _stop(self.workers, grace)

    def stop_all(self) -> None:
        _stop([*self.workers, *([self.web] if self.web else [])], 15.0)


def _stop(children: list[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL whatever still runs."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        with suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _until(check: Callable[[], bool], seconds: float, what: str, procs: Processes) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for child in [*procs.workers, *([procs.web] if procs.web else [])]:
            if child.poll() is not None:
                raise SystemExit(f"a child process exited ({child.args!r}); see {procs.logs}")
        with suppress(OSError, ValueError, KeyError):
            if check():
                return
        time.sleep(0.2)
    raise SystemExit(f"timed out after {seconds:.0f} s waiting for {what}; see {procs.logs}")


def _health(port: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        body: dict[str, Any] = json.loads(connection.getresponse().read())
        return body
    finally:
        connection.close()


def _queue_idle() -> bool:
    """No task is runnable now or running (the set-up's mail, the workers' catch-up)."""
    from django.db import close_old_connections
    from django_tasks_db.models import DBTaskResult

    close_old_connections()
    return not (DBTaskResult.objects.ready().exists() or DBTaskResult.objects.running().exists())


# --- what the public sees -------------------------------------------------------------------


class Poller(threading.Thread):
    """Asks `fetch` for the visible advisory ids every `period`; keeps the first sighting."""

    def __init__(self, fetch: Callable[[], list[str]], period: float) -> None:
        super().__init__(name="poller", daemon=True)
        self.fetch = fetch
        self.period = period
        self.first_seen: dict[str, float] = {}  # public id -> end of the first answer with it
        self.polls: list[tuple[float, float, int]] = []  # (asked, answered, advisories listed)
        self.errors: list[str] = []
        self.stop_event = threading.Event()

    @override
    def run(self) -> None:
        while not self.stop_event.is_set():
            started = time.time()
            try:
                ids = self.fetch()
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                ids = []
            answered = time.time()
            self.polls.append((started, answered, len(ids)))
            for public_id in ids:
                self.first_seen.setdefault(public_id, answered)
            self.stop_event.wait(max(self.period - (time.time() - started), 0.0))


def _http_fetcher(port: int) -> Callable[[], list[str]]:
    state: dict[str, http.client.HTTPConnection] = {}

    def fetch() -> list[str]:
        connection = state.get("c")
        if connection is None:
            connection = state["c"] = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/api/v1/advisories?limit=200")
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            state.pop("c", None)
            raise
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}")
        return [row["id"] for row in json.loads(body)]

    return fetch


def _db_fetcher(env: dict[str, str]) -> Callable[[], list[str]]:
    """Committed advisories read straight from the database, on a connection of its own."""
    from lockstep.advisories.models import Advisory

    table = Advisory._meta.db_table  # noqa: SLF001 - the table's name, for a raw read
    state: dict[str, Any] = {}
    if "LOCKSTEP_DATABASE_URL" not in env:
        return _sqlite_fetcher(Path(env["LOCKSTEP_DATA_DIR"]) / "lockstep.sqlite3", table)
    import psycopg

    query = f"SELECT public_id FROM {table} WHERE published_at <= now()"  # noqa: S608 - own name

    def fetch() -> list[str]:
        if "c" not in state:
            state["c"] = psycopg.connect(env["LOCKSTEP_DATABASE_URL"], autocommit=True)
        return [row[0] for row in state["c"].execute(query).fetchall()]

    return fetch


def _sqlite_fetcher(path: Path, table: str) -> Callable[[], list[str]]:
    """Django keeps UTC datetimes in SQLite as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text, which
    compares as it sorts."""
    import sqlite3

    state: dict[str, sqlite3.Connection] = {}
    query = f"SELECT public_id FROM {table} WHERE published_at <= ?"  # noqa: S608 - own name

    def fetch() -> list[str]:
        if "c" not in state:
            state["c"] = sqlite3.connect(path, timeout=5, isolation_level=None)
        now = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return [row[0] for row in state["c"].execute(query, (now,)).fetchall()]

    return fetch


# --- the run --------------------------------------------------------------------------------


def _sleep_until(moment: float) -> None:
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 0.05))


def _all_published(case_ids: list[int]) -> bool:
    from django.db import close_old_connections

    from lockstep.cases.models import Case

    close_old_connections()
    return not Case.objects.filter(pk__in=case_ids, published_at__isnull=True).exists()


@contextmanager
def _instance(args: argparse.Namespace) -> Iterator[tuple[dict[str, str], Path]]:
    """A fresh database and data folder; both go away afterwards (the folder unless kept).
    SQLite's database is a file in the data folder."""
    data = Path(tempfile.mkdtemp(prefix="lockstep-publish-"))
    postgres = args.database == "postgres"
    url = _database_url(args.server_url, args.database_name) if postgres else None
    if postgres:
        _recreate_database(args.server_url, args.database_name)
    try:
        sys.path.insert(0, str(ROOT))
        yield _environment(url, str(data)), data
    finally:
        with suppress(Exception):
            from django.db import connections

            connections.close_all()
        if postgres:
            _drop_database(args.server_url, args.database_name)
        if args.keep_data:
            print(f"logs and data kept in {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)


def _running_publication(worker_ids: set[str]) -> int | None:
    """The case whose `publish_at_date` task one of `worker_ids` (a process's main loop and
    publication lane) is running now, if any. Filtered here: SQLite has no JSON containment."""
    from django_tasks_db.models import DBTaskResult

    rows = (
        DBTaskResult.objects.running()
        .filter(task_path=PUBLISH_TASK)
        .values_list("args_kwargs", "worker_ids")
    )
    for task_args, ids in rows:
        if ids and ids[-1] in worker_ids:
            return int(task_args["args"][0])
    return None


def _restart(args: argparse.Namespace, procs: Processes, run: Run, first: float) -> None:
    """SIGKILL one worker at the date of case int(N * restart_at) (with --kill-when
    publishing: at the first moment after it that the worker is running a publication),
    and start a fresh one."""
    from django.db import close_old_connections

    from lockstep.ops.models import WorkerHeartbeat

    run.kill_index = int(len(run.case_ids) * args.restart_at)
    moment = run.dates[run.case_ids[run.kill_index]].timestamp()
    victim = procs.workers[0]
    close_old_connections()
    worker_ids = set(  # its main loop and its publication lane beat with its pid
        WorkerHeartbeat.objects.filter(pid=victim.pid).values_list("worker_id", flat=True)
    )
    _sleep_until(moment)
    if args.kill_when == "publishing" and worker_ids:
        give_up = time.time() + 5.0
        while (hit := _running_publication(worker_ids)) is None and time.time() < give_up:
            time.sleep(0.002)
        run.kill_hit = hit
    killed = time.time()
    run.killed_pid = victim.pid
    procs.kill_worker(victim)
    time.sleep(args.restart_delay)
    fresh = procs.start_worker()
    run.fresh_pid = fresh.pid
    run.kill_at, run.kill_waited, run.restarts = killed - first, killed - moment, 1
    run.restart_delay = args.restart_delay

    def fresh_beat() -> bool:
        close_old_connections()
        beat = WorkerHeartbeat.objects.filter(pid=fresh.pid).values_list("started_at", flat=True)
        started = beat.first()
        if started is not None:
            run.fresh_ready_after = started.timestamp() - killed
        return started is not None

    _until(fresh_beat, 60, "the fresh worker", procs)


def _dump(path: Path, run: Run, facts: dict[str, Any]) -> None:
    """Raw figures for a closer look (with --keep-data)."""
    rows = {
        "dates": {str(k): v.timestamp() for k, v in run.dates.items()},
        "first_seen": run.poller.first_seen,
        "polls": run.poller.polls,
        "cases": facts["rows"],
    }
    path.write_text(json.dumps(rows, default=str), encoding="utf-8")


def _start(args: argparse.Namespace, procs: Processes) -> int:
    """The web server and the workers, once their start-up work is done; the web's port."""
    port = _free_port()
    procs.start_web(port)
    for _ in range(args.workers):
        procs.start_worker()
    _until(lambda: _health(port)["worker"]["alive"] >= args.workers, 90, "workers", procs)
    _until(_queue_idle, 300, "the start-up tasks (and the set-up's mail) to finish", procs)
    return port


def _build_load(args: argparse.Namespace) -> LoadWorld | None:
    if not args.load:
        return None
    started = time.perf_counter()
    world = build_load(args.load_cases, args.load_members, args.load_vendors, _realistic_date())
    print(
        f"built {len(world.case_ids)} load cases of {world.recipients} recipients each "
        f"({args.load_members} members with keys of their own; keys {world.keys_s:.1f} s) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return world


def _wait_for_publication(args: argparse.Namespace, run: Run, last: float) -> None:
    _sleep_until(last + args.margin)
    deadline = time.time() + args.timeout
    while not _all_published(run.case_ids) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # let the poller see the last one
    run.poller.stop_event.set()
    run.poller.join(timeout=10)


def _measure(args: argparse.Namespace, env: dict[str, str], data: Path) -> int:
    """With --load, the SMTP sink runs first: every process of the instance delivers to it."""
    sink = MailSink() if args.load else None
    try:
        if sink is not None:
            env["LOCKSTEP_SMTP_URL"] = sink.start()
        return _measure_with(args, env, data, sink)
    finally:
        if sink is not None:
            sink.stop()


def _measure_with(
    args: argparse.Namespace, env: dict[str, str], data: Path, sink: MailSink | None
) -> int:
    _setup(env)
    started = time.perf_counter()
    case_ids = _build(args.cases, args.vendors)
    print(
        f"built {len(case_ids)} cases through the actions in {time.perf_counter() - started:.1f} s"
    )
    world = _build_load(args)
    logs = data / "logs"
    logs.mkdir()
    procs = Processes(env=env, logs=logs)
    poller: Poller | None = None
    poster = Poster(world, every=args.post_every, backlog=args.load_backlog) if world else None
    try:
        port = _start(args, procs)
        fetch = _http_fetcher(port) if args.poll_via == "http" else _db_fetcher(env)
        poller = Poller(fetch, args.poll)
        poller.start()
        if poster is not None:
            poster.start()  # the mail load: from now, --lead seconds before the first date
        first = math.ceil(time.time() + args.lead)  # T0 + lead, on a whole second
        dates = _compress_schedule(case_ids, first, args.spacing)
        last = max(dates.values()).timestamp()
        run = Run(case_ids, dates, poller, args.poll_via, args.workers, database=args.database)
        _sleep_until(first - 0.2)
        run.backlog_at_first_date = backlog()
        if not args.no_restart:
            _restart(args, procs, run, first)
        _wait_for_publication(args, run, last)
        if poster is not None:
            poster.stop_event.set()
            poster.join(timeout=60)
        run.stopped_at = datetime.now(tz=UTC)
        procs.stop_workers()
        run.load = " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
        if poster is not None and sink is not None:
            run.mail = LoadReport(poster.world, poster, sink.received)
            run.mail.facts = mail_facts(min(dates.values()), max(dates.values()), run.stopped_at)
        facts = count_run(run)
        report(run, facts)
        if args.keep_data:
            _dump(data / "figures.json", run, facts)
    finally:
        if poller is not None:
            poller.stop_event.set()
        if poster is not None:
            poster.stop_event.set()
        procs.stop_all()
        for child in procs.retired:
            if child.poll() is None:
                child.kill()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spacing", type=float, default=0.3, help="seconds between dates")
    parser.add_argument("--lead", type=float, default=10.0, help="seconds before the first date")
    parser.add_argument("--vendors", type=int, default=4, help="vendor organisations on the list")
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between polls")
    parser.add_argument("--poll-via", choices=("http", "db"), default="http")
    parser.add_argument("--no-restart", action="store_true", help="do not kill a worker midway")
    parser.add_argument("--restart-at", type=float, default=0.4, help="share of the dates")
    parser.add_argument(
        "--restart-delay", type=float, default=0.0, help="seconds from the kill to the fresh start"
    )
    parser.add_argument(
        "--kill-when",
        choices=("publishing", "date"),
        default="publishing",
        help="kill at that date, or at the first moment after it the worker publishes",
    )
    parser.add_argument("--margin", type=float, default=5.0, help="seconds after the last date")
    parser.add_argument("--timeout", type=float, default=60.0, help="then at most this long")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--server-url", default=SERVER_URL, help="PostgreSQL server (trust)")
    parser.add_argument(
        "--database-name", default=DATABASE, help="PostgreSQL scratch database to create"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the logs folder")
    load = parser.add_argument_group("mail load (issue 13: publication never waits behind mail)")
    load.add_argument("--load", action="store_true", help="post in big cases while dates fall")
    load.add_argument("--load-cases", type=int, default=4, help="private cases posted in")
    load.add_argument("--load-members", type=int, default=300, help="members in each of them")
    load.add_argument("--load-vendors", type=int, default=10, help="organisations they are in")
    load.add_argument(
        "--load-backlog",
        type=int,
        default=1500,
        help="post whenever fewer copies wait to be sent (0: post every --post-every seconds)",
    )
    load.add_argument("--post-every", type=float, default=0.2, help="at most one post per this")
    args = parser.parse_args()
    if args.database_name.startswith("test"):
        parser.error("the scratch database must not be named test*: the test suite uses those")
    with _instance(args) as (env, data):
        return _measure(args, env, data)


if __name__ == "__main__":
    sys.exit(main())
