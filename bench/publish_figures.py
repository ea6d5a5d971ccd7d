"""The figures of `bench/publish.py`: what the run saw, counted in its database, and printed.

Exactly once (advisories, "case:case:published" audit events and public-list posts per case),
missing cases, the delays from each date (to visible, to `published_at`, and the steps of the
task that published), what the workers ran meanwhile, and the goal with "met" or "not met".
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from publish import Poller
    from publish_load import LoadReport

GOAL_P99 = 2.0  # seconds, date -> visible; a worker killed midway
GOAL_P99_LOAD = 1.0  # under mail load (issue 13)
PUBLISH_TASK = "lockstep.advisories.tasks.publish_at_date"
CATCH_UP_TASK = "lockstep.advisories.tasks.catch_up"


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
    database: str = "postgres"
    mail: LoadReport | None = None  # with --load
    stopped_at: datetime | None = None  # when the workers were told to stop

    @property
    def goal_p99(self) -> float:
        return GOAL_P99_LOAD if self.mail else GOAL_P99

    @property
    def goal(self) -> str:
        return f"p99 < {self.goal_p99:g} s, 0 duplicates, 0 missing"


def backlog() -> dict[str, int]:
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


def count_run(run: Run) -> dict[str, Any]:
    from django.db import close_old_connections
    from django_tasks_db.models import DBTaskResult

    from lockstep.advisories.models import Advisory
    from lockstep.ops.lanes import LANE_SUFFIX
    from lockstep.ops.models import WorkerHeartbeat

    close_old_connections()
    advisories = list(Advisory.objects.filter(case_id__in=run.case_ids))
    ours = set(run.case_ids)  # not the load's cases (--load), whose dates are days away
    tasks = [
        t
        for t in DBTaskResult.objects.filter(task_path=PUBLISH_TASK)
        if t.args_kwargs["args"] and t.args_kwargs["args"][0] in ours
    ]
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
        "publish_loops": Counter(
            "publication lane" if t.worker_ids[-1].endswith(LANE_SUFFIX) else "main loop"
            for t in published_by.values()
            if t.worker_ids
        ),
        "pid_of": pid_of,
        "task_errors": Counter(
            (t.traceback or t.exception_class_path).strip().rsplit("\n", 1)[-1]
            for t in benchmark_tasks
            if t.status == "FAILED"
        ),
    }


def _since(later: datetime | None, earlier: datetime) -> str:
    return "-" if later is None else f"{(later - earlier).total_seconds():.3f}"


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _met(run: Run, facts: dict[str, Any]) -> bool:
    v99 = _pct(facts.get("visible", []), 0.99)
    return (
        not math.isnan(v99)
        and v99 < run.goal_p99
        and facts["duplicates"] == 0
        and facts["missing"] == 0
        and facts["unseen"] == 0
    )


def report(run: Run, facts: dict[str, Any]) -> None:
    _report_table(run, facts)
    _report_exactly_once(run, facts)
    _report_run(run, facts)
    _report_steps(facts)
    where = (
        f"{run.database}, {len(run.case_ids)} cases, {run.workers} workers"
        + (", under mail load" if run.mail else "")
        + (", a worker killed midway" if run.restarts else "")
    )
    print(f"goal ({where}): date -> visible {run.goal}: {'met' if _met(run, facts) else 'not met'}")


def _report_table(run: Run, facts: dict[str, Any]) -> None:
    visible, server = facts.get("visible", []), facts.get("server", [])
    met = _met(run, facts)
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
    line = "{:>5} {:>7} {:>8}  {:<16} {:>6} {:>6} {:>6} {:>6} {:>10} {:>7}  {:<36} {}"
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
                run.goal if top else "",
                ("met" if met else "not met") if top else "",
            )
        )
    print()


def _report_exactly_once(run: Run, facts: dict[str, Any]) -> None:
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
    for error, n in facts["task_errors"].most_common(3):
        print(f"  FAILED {n}x: {error}")
    print(f"published by a worker's catch-up instead: {len(facts['by_catch_up'])} case(s)")
    first = min(run.dates.values())
    for status, value, started, finished in facts["catch_ups"]:
        print(
            f"  catch_up {status} {value}: ran from +{(started - first).total_seconds():.2f} "
            f"to +{_since(finished, first)} s after the first date"
        )
    print(f"tasks left RUNNING (claimed by the killed worker): {len(facts['orphans'])}")
    for name, task_args, pids, public in facts["orphans"]:
        when = f"+{_since(public, first)} s" if public else "never"
        case = f": case public at {when}" if name == PUBLISH_TASK.rsplit(".", 1)[-1] else ""
        print(f"  {name}{tuple(task_args)} by pid {pids}{case}")
    print(
        f"publications per worker pid: {dict(facts['publish_workers'])}, per loop: "
        f"{dict(facts['publish_loops'])}"
    )


def _report_run(run: Run, facts: dict[str, Any]) -> None:
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
    if run.mail is not None:
        for text in run.mail.lines(facts["pid_of"]):
            print(text)
    print()


def _report_steps(facts: dict[str, Any]) -> None:
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
    print()
