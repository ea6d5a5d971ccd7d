"""Publication benchmark: advisories at the exact moment, exactly once, with real workers.

    .venv/bin/python bench/publish.py [--cases 100] [--workers 2] [--spacing 0.3]
                                      [--poll-via http|db] [--no-restart] [--keep-data]

Needs PostgreSQL (default postgres://postgres@127.0.0.1:5432/, see --server-url). The
benchmark makes a database of its own (lockstep_bench_publish), migrates it and drops it at
the end.

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

It prints the table (goal: p99 visible delay under 2 s, no duplicate), then where the delay
goes: date to task claimed, claimed to case locked, locked to task finished (publication
transaction and commit), finished to visible, and what else the workers ran meanwhile.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from typing_extensions import override

ROOT = Path(__file__).resolve().parents[1]
SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "lockstep_bench_publish"
GOAL_P99 = 2.0
PUBLISH_TASK = "lockstep.advisories.tasks.publish_at_date"
CATCH_UP_TASK = "lockstep.advisories.tasks.catch_up"
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


def _environment(database_url: str, data_dir: str) -> dict[str, str]:
    """What every process of this instance gets: the CLI's settings, this database."""
    from lockstep.cli import DEFAULT_SETTINGS

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE=DEFAULT_SETTINGS,
        LOCKSTEP_DATABASE_URL=database_url,
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


def _build(cases: int, vendors: int) -> list[int]:
    """`cases` private-coordination cases with a vulnerability each; their ids."""
    from lockstep.accounts.actions import do_create_user
    from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
    from lockstep.cases.models import Route
    from lockstep.cases.queries import access_case_by_id
    from lockstep.channels.actions import do_add_channel_member, do_create_channel
    from lockstep.channels.models import ChannelKind
    from lockstep.core import clock
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
    project = do_create_project(upstream=upstream, name="libquokka", slug="libquokka", actor=system)
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
    realistic = (clock.now() + timedelta(days=7)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
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


def _db_fetcher(database_url: str) -> Callable[[], list[str]]:
    import psycopg

    from lockstep.advisories.models import Advisory

    table = Advisory._meta.db_table  # noqa: SLF001 - the table's name, for a raw read
    state: dict[str, Any] = {}
    query = f"SELECT public_id FROM {table} WHERE published_at <= now()"  # noqa: S608 - own name

    def fetch() -> list[str]:
        if "c" not in state:
            state["c"] = psycopg.connect(database_url, autocommit=True)
        return [row[0] for row in state["c"].execute(query).fetchall()]

    return fetch


# --- figures --------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def _spread(values: list[float]) -> tuple[float, float, float, float]:
    return _pct(values, 0.50), _pct(values, 0.95), _pct(values, 0.99), max(values, default=math.nan)


@dataclass
class Run:
    case_ids: list[int]
    dates: dict[int, datetime]
    poller: Poller
    poll_via: str
    workers: int
    restarts: int = 0
    kill_at: float | None = None  # seconds after the first date
    kill_index: int = 0
    kill_waited: float = 0.0  # from the victim case's date until the kill
    kill_hit: int | None = None  # the case whose publication the victim was running
    killed_pid: int | None = None
    fresh_pid: int | None = None
    fresh_ready_after: float | None = None  # kill -> the fresh worker's first heartbeat
    restart_delay: float = 0.0
    backlog_at_first_date: dict[str, int] = field(default_factory=dict)
    load: str = ""
    notes: list[str] = field(default_factory=list)


def _backlog() -> dict[str, int]:
    from django.db import close_old_connections
    from django_tasks_db.models import DBTaskResult

    close_old_connections()
    ready = DBTaskResult.objects.ready()
    return {
        "ready": ready.count(),
        "running": DBTaskResult.objects.running().count(),
        "ready_non_publish": ready.exclude(task_path=PUBLISH_TASK).count(),
    }


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _exactly_once(run: Run, advisories: list[Any]) -> dict[str, Any]:
    """Duplicates three ways (advisories, audit events, public posts) and missing cases."""
    from lockstep.audit.models import AuditEvent
    from lockstep.audit.tags import CaseTag
    from lockstep.channels.models import PublicPost

    per_case = Counter(a.case_id for a in advisories)
    audit = Counter(
        AuditEvent.objects.filter(
            tag=CaseTag.PUBLISHED.value,
            object_type="case",
            object_id__in=[str(i) for i in run.case_ids],
        ).values_list("object_id", flat=True)
    )
    subjects = Counter(PublicPost.objects.values_list("subject", flat=True))
    facts = {
        "advisories_dup": sum(1 for n in per_case.values() if n > 1),
        "audit_dup": sum(1 for n in audit.values() if n > 1),
        "posts_dup": sum(1 for a in advisories if subjects[a.post_subject] > 1),
        "unposted": sum(1 for a in advisories if a.public_post_id is None),
        "missing": sum(1 for i in run.case_ids if per_case[i] == 0),
        "unseen": sum(1 for a in advisories if a.public_id not in run.poller.first_seen),
    }
    facts["duplicates"] = facts["advisories_dup"] + facts["audit_dup"] + facts["posts_dup"]
    return facts


def _delays(
    run: Run, advisories: list[Any], published_by: dict[int, Any], pid_of: dict[str, int]
) -> dict[str, Any]:
    """Per case: date -> visible, -> published_at, and the steps of the task that published."""
    steps: dict[str, list[float]] = defaultdict(list)
    by_catch_up: list[int] = []
    rows: dict[int, dict[str, Any]] = {}
    for advisory in advisories:
        date = run.dates[advisory.case_id]
        row = rows[advisory.case_id] = {
            "public_id": advisory.public_id,
            "date": date.timestamp(),
            "published_at": advisory.published_at.timestamp(),
        }
        steps["server"].append((advisory.published_at - date).total_seconds())
        seen = run.poller.first_seen.get(advisory.public_id)
        if seen is not None:
            steps["visible"].append(seen - date.timestamp())
        publisher = published_by.get(advisory.case_id)
        if publisher is None:
            by_catch_up.append(advisory.case_id)
            continue
        row.update(
            started=publisher.started_at.timestamp() if publisher.started_at else None,
            finished=publisher.finished_at.timestamp() if publisher.finished_at else None,
            worker=pid_of.get(publisher.worker_ids[-1]) if publisher.worker_ids else None,
        )
        for name, value in (
            ("claim", _seconds(publisher.started_at, publisher.run_after)),
            ("lock", _seconds(advisory.published_at, publisher.started_at)),
            ("txn", _seconds(publisher.finished_at, advisory.published_at)),
        ):
            if value is not None:
                steps[name].append(value)
        if seen is not None and publisher.finished_at is not None:
            steps["seen_after"].append(seen - publisher.finished_at.timestamp())
    return {**steps, "rows": rows, "by_catch_up": by_catch_up}


def _worker_facts(run: Run, advisories: list[Any], pid_of: dict[str, int]) -> dict[str, Any]:
    """What the workers ran during the schedule; catch-ups; tasks a killed worker left."""
    from django_tasks_db.models import DBTaskResult

    window_start = min(run.dates.values()) - timedelta(seconds=1)
    busy: dict[str, list[float]] = defaultdict(list)
    for task in DBTaskResult.objects.filter(started_at__gte=window_start).exclude(
        finished_at__isnull=True
    ):
        busy[task.task_path.rsplit(".", 1)[-1]].append(
            (task.finished_at - task.started_at).total_seconds()
        )
    catch_ups = DBTaskResult.objects.filter(task_path=CATCH_UP_TASK, started_at__gte=window_start)
    public_at = {a.case_id: a.published_at for a in advisories}
    orphans = [
        (
            t.task_path.rsplit(".", 1)[-1],
            t.args_kwargs["args"],
            [pid_of.get(w) for w in t.worker_ids],
            public_at.get(t.args_kwargs["args"][0]) if t.args_kwargs["args"] else None,
        )
        for t in DBTaskResult.objects.running()
    ]
    return {
        "busy": busy,
        "catch_ups": [(t.status, t.return_value, t.started_at, t.finished_at) for t in catch_ups],
        "orphans": orphans,
    }


def _count(run: Run) -> dict[str, Any]:
    from django.db import close_old_connections
    from django_tasks_db.models import DBTaskResult

    from lockstep.advisories.models import Advisory
    from lockstep.ops.models import WorkerHeartbeat

    close_old_connections()
    advisories = list(Advisory.objects.filter(case_id__in=run.case_ids))
    tasks = list(DBTaskResult.objects.filter(task_path=PUBLISH_TASK))
    benchmark_tasks = [t for t in tasks if t.run_after <= max(run.dates.values())]
    published_by = {t.args_kwargs["args"][0]: t for t in benchmark_tasks if t.return_value}
    pid_of = dict(WorkerHeartbeat.objects.values_list("worker_id", "pid"))
    return {
        **_exactly_once(run, advisories),
        **_delays(run, advisories, published_by, pid_of),
        **_worker_facts(run, advisories, pid_of),
        "by_task": len(published_by),
        "task_statuses": dict(Counter(t.status for t in benchmark_tasks)),
        "task_total": len(tasks),
        "task_noop": sum(
            1 for t in benchmark_tasks if t.status == "SUCCESSFUL" and not t.return_value
        ),
        "stale_tasks": len(tasks) - len(benchmark_tasks),
        "publish_workers": Counter(
            pid_of.get(t.worker_ids[-1]) for t in published_by.values() if t.worker_ids
        ),
    }


def _since(later: datetime | None, earlier: datetime) -> str:
    return "-" if later is None else f"{(later - earlier).total_seconds():.3f}"


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _report(run: Run, facts: dict[str, Any]) -> None:
    visible, server = facts.get("visible", []), facts.get("server", [])
    v99 = _pct(visible, 0.99)
    met = (
        not math.isnan(v99)
        and v99 < GOAL_P99
        and facts["duplicates"] == 0
        and facts["missing"] == 0
        and facts["unseen"] == 0
    )
    head = (
        "cases",
        "workers",
        "restarts",
        "delay",
        "p50 s",
        "p95 s",
        "p99 s",
        "max s",
        "duplicates",
        "missing",
        "goal",
        "met",
    )
    line = "{:>5} {:>7} {:>8}  {:<16} {:>6} {:>6} {:>6} {:>6} {:>10} {:>7}  {:<24} {}"
    print(line.format(*head))
    rows = ((f"visible ({run.poll_via})", visible), ("server-side", server))
    for n, (label, values) in enumerate(rows):
        spread = [_fmt(v) for v in _spread(values)]
        top = n == 0
        print(
            line.format(
                len(run.case_ids) if top else "",
                run.workers if top else "",
                run.restarts if top else "",
                label,
                *spread,
                facts["duplicates"] if top else "",
                facts["missing"] if top else "",
                "p99 < 2 s, 0 duplicates" if top else "",
                ("yes" if met else "NO") if top else "",
            )
        )
    print()
    print(
        f"duplicates: advisories per case > 1: {facts['advisories_dup']}, "
        f"'case:case:published' events per case > 1: {facts['audit_dup']}, "
        f"public posts per advisory > 1: {facts['posts_dup']} "
        f"(advisories without a public post: {facts['unposted']})"
    )
    print(
        f"missing: never published {facts['missing']}, published but never seen by the "
        f"poller {facts['unseen']}"
    )
    print(
        f"publish_at_date results: {facts['task_total']} in all; at the benchmark dates "
        f"{sum(facts['task_statuses'].values())} {facts['task_statuses']} of which "
        f"{facts['by_task']} published and {facts['task_noop']} found nothing to do; "
        f"{facts['stale_tasks']} still wait for the original 7-day date"
    )
    print(f"published by a worker's catch-up instead: {len(facts['by_catch_up'])} case(s)")
    first = min(run.dates.values())
    for status, value, started, finished in facts["catch_ups"]:
        print(
            f"  catch_up {status} {value}: ran from +{(started - first).total_seconds():.2f} "
            f"to +{_since(finished, first)} s after the first date"
        )
    print(f"tasks left RUNNING (claimed by the killed worker): {len(facts['orphans'])}")
    for name, task_args, pids, public in facts["orphans"]:
        when = _since(public, first) if public else "never"
        print(f"  {name}{tuple(task_args)} by pid {pids}: case public at +{when} s")
    print(f"publications per worker pid: {dict(facts['publish_workers'])}")
    if run.kill_at is not None:
        hit = (
            f"while it was publishing case #{run.case_ids.index(run.kill_hit)}"
            if run.kill_hit is not None
            else "(not in a publication)"
        )
        ready = _fmt(run.fresh_ready_after or math.nan)
        print(
            f"restart: SIGKILL pid {run.killed_pid} {run.kill_waited:.3f} s after the date of "
            f"case #{run.kill_index} (+{run.kill_at:.2f} s after the first date) {hit}; "
            f"fresh worker pid {run.fresh_pid} (started {run.restart_delay:.1f} s after the kill) "
            f"beat {ready} s after the kill"
        )
    polls = run.poller.polls
    durations = [answered - asked for asked, answered, _ in polls]
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(polls)]
    print(
        f"poller: {len(polls)} polls, answer p50 {_pct(durations, 0.5) * 1000:.1f} ms, "
        f"p99 {_pct(durations, 0.99) * 1000:.1f} ms, max {max(durations) * 1000:.1f} ms; "
        f"answers every {_pct(gaps, 0.5) * 1000:.1f} ms (p50), longest gap "
        f"{max(gaps, default=0) * 1000:.1f} ms; errors {len(run.poller.errors)}"
        + (f" (first: {run.poller.errors[0]})" if run.poller.errors else "")
    )
    print(f"queue just before the first date: {run.backlog_at_first_date}")
    print(f"load average (1/5/15 min) at the end: {run.load}")
    for note in run.notes:
        print(note)
    print()
    print(
        f"where the delay goes (cases published by their publish_at_date task: {facts['by_task']})"
    )
    print("{:<48} {:>7} {:>7} {:>7} {:>7}".format("step", "p50 s", "p95 s", "p99 s", "max s"))
    steps = (
        ("date -> task claimed (poll interval, busy workers)", facts.get("claim", [])),
        ("claimed -> case row locked (published_at)", facts.get("lock", [])),
        ("locked -> task finished (publication, commit)", facts.get("txn", [])),
        ("task finished -> seen by the poller", facts.get("seen_after", [])),
    )
    for label, values in steps:
        print("{:<48} {:>7} {:>7} {:>7} {:>7}".format(label, *(_fmt(v) for v in _spread(values))))
    print()
    print("what the workers ran from 1 s before the first date (count, mean s, max s, total s)")
    for name, values in sorted(facts["busy"].items(), key=lambda kv: -sum(kv[1])):
        print(
            f"  {name:<28} {len(values):>5} {statistics.fmean(values):>8.3f} "
            f"{max(values):>8.3f} {sum(values):>8.2f}"
        )


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
    """A fresh database and data folder; both go away afterwards (the folder unless kept)."""
    data = Path(tempfile.mkdtemp(prefix="lockstep-publish-"))
    url = _database_url(args.server_url, args.database)
    _recreate_database(args.server_url, args.database)
    try:
        sys.path.insert(0, str(ROOT))
        yield _environment(url, str(data)), data
    finally:
        with suppress(Exception):
            from django.db import connections

            connections.close_all()
        _drop_database(args.server_url, args.database)
        if args.keep_data:
            print(f"logs and data kept in {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)


def _running_publication(worker_id: str) -> int | None:
    """The case whose `publish_at_date` task `worker_id` is running now, if any."""
    from django_tasks_db.models import DBTaskResult

    row = (
        DBTaskResult.objects.running()
        .filter(task_path=PUBLISH_TASK, worker_ids__contains=[worker_id])
        .values_list("args_kwargs", flat=True)
        .first()
    )
    return int(row["args"][0]) if row else None


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
    worker_id = (
        WorkerHeartbeat.objects.filter(pid=victim.pid).values_list("worker_id", flat=True).first()
    )
    _sleep_until(moment)
    if args.kill_when == "publishing" and worker_id:
        give_up = time.time() + 5.0
        while (hit := _running_publication(worker_id)) is None and time.time() < give_up:
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


def _measure(args: argparse.Namespace, env: dict[str, str], data: Path) -> int:
    _setup(env)
    started = time.perf_counter()
    case_ids = _build(args.cases, args.vendors)
    print(
        f"built {len(case_ids)} cases through the actions in {time.perf_counter() - started:.1f} s"
    )
    logs = data / "logs"
    logs.mkdir()
    procs = Processes(env=env, logs=logs)
    poller: Poller | None = None
    try:
        port = _free_port()
        procs.start_web(port)
        for _ in range(args.workers):
            procs.start_worker()
        _until(lambda: _health(port)["worker"]["alive"] >= args.workers, 90, "workers", procs)
        _until(_queue_idle, 180, "the start-up tasks to finish", procs)
        fetch = (
            _http_fetcher(port)
            if args.poll_via == "http"
            else _db_fetcher(env["LOCKSTEP_DATABASE_URL"])
        )
        poller = Poller(fetch, args.poll)
        poller.start()
        first = math.ceil(time.time() + args.lead)  # T0 + lead, on a whole second
        dates = _compress_schedule(case_ids, first, args.spacing)
        last = max(dates.values()).timestamp()
        run = Run(case_ids, dates, poller, args.poll_via, args.workers)
        _sleep_until(first - 0.2)
        run.backlog_at_first_date = _backlog()
        if not args.no_restart:
            _restart(args, procs, run, first)
        _sleep_until(last + args.margin)
        deadline = time.time() + args.timeout
        while not _all_published(case_ids) and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # let the poller see the last one
        poller.stop_event.set()
        poller.join(timeout=10)
        procs.stop_workers()
        run.load = " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
        facts = _count(run)
        _report(run, facts)
        if args.keep_data:
            _dump(data / "figures.json", run, facts)
    finally:
        if poller is not None:
            poller.stop_event.set()
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
    parser.add_argument("--server-url", default=SERVER_URL, help="PostgreSQL server (trust)")
    parser.add_argument("--database", default=DATABASE, help="scratch database to create")
    parser.add_argument("--keep-data", action="store_true", help="keep the logs folder")
    args = parser.parse_args()
    if args.database.startswith("test"):
        parser.error("the scratch database must not be named test*: the test suite uses those")
    with _instance(args) as (env, data):
        return _measure(args, env, data)


if __name__ == "__main__":
    sys.exit(main())
