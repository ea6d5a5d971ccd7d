"""The mail load of `bench/publish.py --load`: posts to big private cases while dates fall due.

Issue 13 (1): publication and CVE-record tasks never wait behind mail. To show it, the workers'
main loops are kept busy delivering while the benchmark's dates fall due:

- `build_load` makes, through the product's actions, a second upstream project (libwombat)
  whose redistributors are --load-vendors vendor organisations on the same private list, with
  --load-members members between them, each with an OpenPGP key of their own (cv25519, made
  here), and --load-cases embargoed cases on it. Every member is a participant, so each post in
  such a case is one copy per member (and one for the list's coordinator), signed by the list
  key and encrypted to the member's key at delivery.
- `Poster`, a thread of the benchmark, writes a post (`do_add_post`, as the upstream's
  maintainer) in those cases in turn whenever fewer than --load-backlog copies wait to be sent
  (looking every --post-every seconds), from --lead seconds before the first date until the
  measurement ends. Each post's commit queues a `deliver_outbound` task on the "default"
  queue, which the workers' main loops take.
- `MailSink` is the relay: aiosmtpd on 127.0.0.1 in a process of its own, counting recipients
  (`LOCKSTEP_SMTP_URL` points the workers at it).
- `mail_facts` says afterwards, from the outbox rows and the task results, how busy mail was
  while the dates fell due: copies queued and sent in that window, the backlog (queued, not
  yet sent) at the first and last date, and the share of the window each worker's main loop
  spent running tasks (mail, and the reminders and notices mail brings) and in
  `deliver_outbound` alone. "The load held" when copies waited all through and every main loop
  was at least 80 % busy: otherwise the dates did not fall under load, whatever the figures.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fanout import _sink as fanout_sink
from typing_extensions import override

DELIVER_TASK = "lockstep.mailgw.outbound.tasks.deliver_outbound"
LOAD_PURL = "pkg:pypi/libwombat"
POST_BODY = (
    "Post {n}: we tested the candidate patch for the window-size check in wombat_decode() on "
    "x86_64 and aarch64; the crafted stream no longer overflows the output buffer.\n\n"
    + "The backport to the 2.x branch needs the helper from the previous commit as well.\n"
    * 12
)


# --- the relay ------------------------------------------------------------------------------


# The relay is bench/fanout.py's counting aiosmtpd sink, in a process of its own.
_sink = fanout_sink


class MailSink:
    """The SMTP relay the workers deliver to; `received` counts accepted recipients."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # nothing of Django's state inherited
        self.count = context.Value("i", 0)
        self.ready = context.Event()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.process = context.Process(
            target=_sink, args=(self.port, self.count, self.ready), daemon=True
        )

    def start(self) -> str:
        self.process.start()
        if not self.ready.wait(60):
            raise SystemExit("the SMTP sink did not start")
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> int:
        value: int = self.count.value
        return value

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)


# --- the world ------------------------------------------------------------------------------


@dataclass
class LoadWorld:
    case_ids: list[int]
    author_id: int  # the libwombat maintainer, who writes the posts
    recipients: int  # copies per post (every member of every participant but the author)
    keys_s: float  # seconds spent making the members' keys


def _members(count: int, vendors: int, channel: Any, project: Any, actor: Any) -> float:
    """`vendors` vendor organisations on the list and redistributing `project`, with `count`
    members between them, each with a key of their own; returns the seconds spent on keys."""
    from lockstep.accounts.actions import do_create_user
    from lockstep.channels.actions import do_add_channel_member
    from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
    from lockstep.orgs.actions import do_add_member, do_add_user_key, do_create_organization
    from lockstep.orgs.models import OrgKind
    from lockstep.projects.actions import do_add_redistributor

    openpgp = SequoiaOpenPGP()
    keys_s = 0.0
    orgs = []
    for index in range(vendors):
        org = do_create_organization(name=f"Load vendor {index}", kind=OrgKind.VENDOR, actor=actor)
        do_add_channel_member(channel, org, actor=actor)
        do_add_redistributor(project, org, actor=actor)
        orgs.append(org)
    for n in range(count):
        email = f"member{n}@loadvendor{n % vendors}.test"
        user = do_create_user(email=email, password=None, display_name=email, actor=actor)
        do_add_member(orgs[n % vendors], user, actor=actor)
        began = time.perf_counter()
        public, _secret = openpgp.generate_key(f"Member {n} <{email}>")
        keys_s += time.perf_counter() - began
        do_add_user_key(user, armored=public, actor=actor)
    return keys_s


def build_load(cases: int, members: int, vendors: int, disclosure_at: datetime) -> LoadWorld:
    """The load's cases (see the module's docstring); the dates stay where they are (days
    away): these cases only make mail."""
    from lockstep.accounts.actions import do_create_user
    from lockstep.cases.mail_queries import mail_recipients
    from lockstep.cases.models import Case
    from lockstep.channels.models import Channel
    from lockstep.core.actor import Actor
    from lockstep.intake.actions import Acceptance, ReportInput, do_accept_report, do_submit_report
    from lockstep.orgs.actions import do_add_member, do_create_organization
    from lockstep.orgs.models import OrgKind, Role
    from lockstep.projects.actions import do_create_project

    system = Actor.system("bench")
    channel = Channel.objects.get(slug="distros")
    upstream = do_create_organization(name="libwombat team", kind=OrgKind.UPSTREAM, actor=system)
    author = do_create_user(
        email="maintainer@libwombat.test", password=None, display_name="Wombat", actor=system
    )
    do_add_member(upstream, author, role=Role.ADMIN, actor=system)
    project = do_create_project(
        upstream=upstream, name="libwombat", slug="libwombat", purls=[LOAD_PURL], actor=system
    )
    keys_s = _members(members, vendors, channel, project, system)
    ids = []
    for index in range(cases):
        submitted = do_submit_report(
            project,
            ReportInput(
                title=f"Out-of-bounds write #{index} in wombat_decode()",
                description="A crafted stream writes past the output buffer.",
            ),
            actor=Actor.anonymous(),
        )
        case = do_accept_report(
            submitted.report, Acceptance(channel=channel, disclosure_at=disclosure_at), actor=system
        )
        if not case.is_embargoed:
            raise SystemExit(f"load case {case.pk} is not embargoed ({case.route})")
        ids.append(case.pk)
    first = Case.objects.get(pk=ids[0])
    recipients = len(mail_recipients(first, except_user_id=author.pk))
    return LoadWorld(ids, author.pk, recipients, keys_s)


# --- the posts ------------------------------------------------------------------------------


class Poster(threading.Thread):
    """Writes a post in the load's cases in turn until stopped: every `every` seconds, the
    moment fewer than `backlog` copies wait to be sent (or always, with `backlog` 0). So the
    main loops never run out of mail, whatever the machine's speed, and the outbox does not
    grow without end either."""

    def __init__(self, world: LoadWorld, *, every: float, backlog: int) -> None:
        super().__init__(name="poster", daemon=True)
        self.world = world
        self.every = every
        self.backlog = backlog
        self.posts: list[tuple[float, float, int]] = []  # (began, committed, case id)
        self.errors: list[str] = []
        self.stop_event = threading.Event()

    def _wanted(self) -> bool:
        from lockstep.mailgw.models import OutboundMessage, OutboxStatus

        if not self.backlog:
            return True
        waiting = OutboundMessage.objects.filter(
            status__in=(OutboxStatus.QUEUED, OutboxStatus.SENDING)
        ).count()
        return waiting < self.backlog

    @override
    def run(self) -> None:
        from django.db import DatabaseError, connection

        from lockstep.accounts.models import User
        from lockstep.cases.actions.posts import do_add_post
        from lockstep.cases.queries import access_case_by_id
        from lockstep.core.actor import Actor
        from lockstep.core.errors import LockstepError

        try:
            author = Actor.for_user(User.objects.get(pk=self.world.author_id))
            n = 0
            while not self.stop_event.is_set():
                began = time.time()
                try:
                    if self._wanted():
                        case_id = self.world.case_ids[n % len(self.world.case_ids)]
                        access = access_case_by_id(author, case_id)
                        do_add_post(access, body=POST_BODY.format(n=n), actor=author)
                        self.posts.append((began, time.time(), case_id))
                        n += 1
                except (DatabaseError, LockstepError) as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                self.stop_event.wait(max(began + self.every - time.time(), 0.0))
        finally:
            connection.close()


# --- what mail did --------------------------------------------------------------------------


def _overlap(begin: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    return max((min(end, hi) - max(begin, lo)).total_seconds(), 0.0)


def _lifetimes(until: datetime) -> dict[str, tuple[datetime, datetime]]:
    """When each loop ran: from its start to its stop, or to its last heartbeat (killed)."""
    from lockstep.ops.models import WorkerHeartbeat

    rows = WorkerHeartbeat.objects.values_list(
        "worker_id", "started_at", "last_seen_at", "stopped_at"
    )
    return {
        worker: (started, min(stopped or seen, until)) for worker, started, seen, stopped in rows
    }


def _main_loops_busy(
    first: datetime, last: datetime, until: datetime
) -> dict[str, tuple[float, float]]:
    """Per main loop (worker id): the share of the window [first, last], while the loop ran,
    that it spent running tasks (any: mail, reminders, ...), and in deliver_outbound alone."""
    from django_tasks_db.models import DBTaskResult

    from lockstep.ops.lanes import LANE_SUFFIX

    lives = _lifetimes(until)
    busy: dict[str, float] = defaultdict(float)
    mail: dict[str, float] = defaultdict(float)
    tasks = DBTaskResult.objects.filter(started_at__lte=last).exclude(finished_at__lt=first)
    for task in tasks:
        if task.started_at is None or not task.worker_ids:
            continue
        worker = task.worker_ids[-1]
        if worker.endswith(LANE_SUFFIX):
            continue
        _, gone = lives.get(worker, (first, until))
        end = min(task.finished_at or until, gone)  # a killed loop's task stays RUNNING
        seconds = _overlap(task.started_at, end, first, last)
        busy[worker] += seconds
        if task.task_path == DELIVER_TASK:
            mail[worker] += seconds
    shares = {}
    for worker, seconds in busy.items():
        born, gone = lives.get(worker, (first, until))
        life = max(_overlap(born, gone, first, last), 1e-9)
        shares[worker] = (min(seconds / life, 1.0), min(mail[worker] / life, 1.0))
    return shares


def mail_facts(first: datetime, last: datetime, until: datetime) -> dict[str, Any]:
    """How busy mail was from the first date to the last (`until`: when the workers stopped)."""
    from lockstep.mailgw.models import OutboundMessage

    rows = list(OutboundMessage.objects.values_list("created_at", "sent_at", "protection"))

    def backlog(at: datetime) -> int:
        return sum(1 for made, sent, _ in rows if made <= at and (sent is None or sent > at))

    sent_in = sum(1 for _, sent, _ in rows if sent is not None and first <= sent <= last)
    return {
        "copies": len(rows),
        "sent": sum(1 for _, sent, _ in rows if sent is not None),
        "protection": dict(Counter(p for _, _, p in rows)),
        "queued_in_window": sum(1 for made, _, _ in rows if first <= made <= last),
        "sent_in_window": sent_in,
        "window_s": (last - first).total_seconds(),
        "backlog_first": backlog(first),
        "backlog_last": backlog(last),
        "backlog_min": min(
            (backlog(first + timedelta(seconds=0.25 * k)) for k in range(_steps(first, last))),
            default=0,
        ),
        "main_busy": _main_loops_busy(first, last, until),
    }


def _steps(first: datetime, last: datetime) -> int:
    return int((last - first).total_seconds() / 0.25) + 1


@dataclass
class LoadReport:
    world: LoadWorld
    poster: Poster
    sink_received: int = 0
    facts: dict[str, Any] = field(default_factory=dict)

    def held(self) -> bool:
        """The load did what it is for: mail waited all through the dates, and every main
        loop spent most of the window delivering."""
        busy = self.facts["main_busy"]
        return self.facts["backlog_min"] > 0 and bool(busy) and min(busy.values())[0] >= 0.8

    def lines(self, pid_of: dict[str, int]) -> list[str]:
        f, poster = self.facts, self.poster
        window = f["window_s"]
        busy = ", ".join(
            f"pid {pid_of.get(worker, worker)} {share * 100:.0f} % ({mail * 100:.0f} % mail)"
            for worker, (share, mail) in sorted(f["main_busy"].items())
        )
        errors = f"{len(poster.errors)}" + (f", first: {poster.errors[0]}" if poster.errors else "")
        how = (
            f"whenever fewer than {poster.backlog} copies waited, at most one every "
            f"{poster.every:g} s"
            if poster.backlog
            else f"one every {poster.every:g} s"
        )
        posts = (
            f"mail load: {len(poster.posts)} posts ({how}) in "
            f"{len(self.world.case_ids)} private cases of {self.world.recipients} recipients "
            f"each (post errors: {errors})"
        )
        copies = (
            f"  copies: {f['copies']} queued in all ({f['protection']}), {f['sent']} sent, "
            f"{self.sink_received} received by the SMTP sink"
        )
        during = (
            f"  while the dates fell due ({window:.1f} s, first to last date): "
            f"{f['queued_in_window']} copies queued, {f['sent_in_window']} sent "
            f"({f['sent_in_window'] / max(window, 1e-9):.0f}/s); copies waiting at the first "
            f"date {f['backlog_first']}, at the last {f['backlog_last']}, fewest "
            f"{f['backlog_min']}"
        )
        loops = (
            "  share of that window (while it ran) each worker's main loop spent running tasks "
            f"(of which deliver_outbound): {busy or 'none'}"
        )
        verdict = "yes" if self.held() else "NO: the dates did not fall under load (post more)"
        held = f"  the load held (copies waiting all through, main loops >= 80 % busy): {verdict}"
        return [posts, copies, during, loops, held]
