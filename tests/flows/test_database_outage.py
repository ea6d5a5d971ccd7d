"""Database restarts under running workers and a web process: everything rides them out.

A PostgreSQL cluster of the test's own (`private_postgres.py`, whatever database the suite runs
on), two `lockstep worker`s and a `lockstep web` on it, and mail to an aiosmtpd sink in this
process that takes a moment per message, so a batch is still being sent when the database
goes. Twice, for about 5 s and then about 20 s (longer than the stale time, here 10 s: a
worker that judged the others by their heartbeats alone would take their work), the test
queues mail, schedules a case's date a few seconds ahead, stops PostgreSQL as a restart does
(`pg_ctl stop -m fast`), waits past the date and starts it again. Then: the same worker and web
processes are alive, the case is published within seconds of the return, every copy reaches
the sink exactly once, and no task was taken from a worker for dead.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.flows.private_postgres import PrivateCluster, skip_reason
from tests.flows.test_outbox_sigkill import LOCKSTEP, Deployment
from tests.flows.test_serve import free_port

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(skip_reason()), reason=skip_reason())]
ROOT = Path(__file__).resolve().parents[2]
STALE = 10
OUTAGES = (("-a", 5.0), ("-b", 20.0))  # (case tag, seconds the database is down, at least)
DATE_AHEAD = 6.0  # the case's date, from the moment it is set: inside the outage
PROMPT = 10.0  # published within this many seconds of the database's return
BATCH = 20  # copies queued just before each outage; the database goes after the 3rd is sent
CONNECTIONS = 2

SETUP = """
from lockstep.channels.models import ChannelKind
from lockstep.mailgw.outbound.protect import list_secret_key
list_secret_key()  # an instance with posts has its list key
from tests.factories.cases import build_case_world
from tests.factories.world import ChannelFactory
ChannelFactory(name="oss-security", slug="oss-security", kind=ChannelKind.PUBLIC, policy=None)
for tag in ("-a", "-b"):
    build_case_world(tag=tag)
"""
BEFORE_OUTAGE = """
from datetime import timedelta
from django.db import transaction
from lockstep.advisories.tasks import plan_case
from lockstep.cases.models import Case
from lockstep.core import clock
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
spec = MailSpec(subject="Batch TAG", body="Patch now.", confidential=False)
with transaction.atomic():
    fan_out(spec, [Recipient(f"m{n:02d}TAG@example.org", plain_ok=True) for n in range(BATCH)])
case = Case.objects.get(project__slug="libquokkaTAG")
date = clock.now() + timedelta(seconds=AHEAD)
Case.objects.filter(pk=case.pk).update(disclosure_at=date)
plan_case(case.pk)
print(date.isoformat())
"""


class SlowSink:
    """Accepts every message after `delay` seconds; records (recipient, Message-ID) and when."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self._accepted: list[tuple[str, str]] = []
        self._times: list[float] = []  # monotonic

    @property
    def accepted(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._accepted)

    def accepted_between(self, start: float, end: float, to: str) -> int:
        """How many copies to addresses containing `to` were accepted in [start, end)."""
        with self._lock:
            pairs = zip(self._accepted, self._times, strict=True)
            return sum(start <= at < end and to in rcpt for (rcpt, _), at in pairs)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        message_id = str(message_from_bytes(envelope.content)["Message-ID"])
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self._accepted.append((rcpt, message_id))
                self._times.append(time.monotonic())
        return "250 Message accepted"


@pytest.fixture
def sink() -> Iterator[tuple[SlowSink, int]]:
    handler, port = SlowSink(delay=0.2), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _until(
    check: Callable[[], bool], seconds: float, what: str, context: Callable[[], str]
) -> float:
    """Wait for `check`; return how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if check():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{what}: not reached within {seconds}s\n{context()}")


def _health(base: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Outages:
    """The deployment under test and what the test saw of it."""

    def __init__(
        self, deployment: Deployment, cluster: PrivateCluster, base: str, sink: SlowSink
    ) -> None:
        self.deployment = deployment
        self.sink = sink
        self.cluster = cluster
        self.base = base
        self.delays: list[float] = []  # publication after the database's return, seconds

    def context(self) -> str:
        return f"{self.deployment.logs()}\n--- postgresql\n{self.cluster.log()}"

    def published_at(self, tag: str) -> datetime | None:
        rows = self.deployment.query(
            "SELECT p.slug, c.published_at FROM cases_case c"
            " JOIN projects_project p ON p.id = c.project_id"
        )
        published: dict[str, datetime | None] = dict(rows)  # type: ignore[arg-type]
        return published.get(f"libquokka{tag}")

    def all_sent(self) -> bool:
        return {status for _, status in _outbox(self.deployment)} == {"sent"}

    def ride_out(self, tag: str, seconds: float) -> None:
        script = BEFORE_OUTAGE.replace("TAG", tag).replace("AHEAD", str(DATE_AHEAD))
        script = script.replace("BATCH", str(BATCH))
        out = subprocess.run(
            [LOCKSTEP, "manage", "shell", "-c", script],
            env=self.deployment.env, check=True, capture_output=True, timeout=60, text=True,
        )  # fmt: skip
        date = datetime.fromisoformat(out.stdout.strip().splitlines()[-1])
        batch = f"{tag}@"
        _until(lambda: self.sink.accepted_between(0, 1e12, batch) >= 3, 10, "3 sent", self.context)
        started = time.monotonic()
        self.cluster.stop()
        went = time.monotonic()  # the database is down from here (until then, mail flows)
        stopped = datetime.now(UTC)
        status, _ = _health(self.base)
        assert status == 503  # the web process answers, and says the database is down
        assert stopped < date, f"too slow: the date passed before the outage ({date}, {stopped})"
        down_until = max(started + seconds, went + (date - stopped).total_seconds() + 1)
        time.sleep(max(0.0, down_until - time.monotonic()))
        assert date < datetime.now(UTC)  # the date fell inside the outage
        self.cluster.start()
        back, back_at = datetime.now(UTC), time.monotonic()
        _until(lambda: self.published_at(tag) is not None, 60, f"case {tag}", self.context)
        published = self.published_at(tag)
        assert published is not None
        self.delays.append((published - back).total_seconds())
        _until(self.all_sent, 60, f"mail of {tag} sent", self.context)
        # The batch was being sent when the database went: what was on the wire then went
        # on (at most one copy per SMTP session), the rest after the return.
        assert self.sink.accepted_between(went, back_at, batch) <= CONNECTIONS
        assert self.sink.accepted_between(back_at, 1e12, batch) > 0
        _until(lambda: _health(self.base)[0] == 200, 10, "/healthz answers 200", self.context)
        for _ in range(4):  # each of the web process's threads reconnects by itself
            with urllib.request.urlopen(f"{self.base}/advisories/", timeout=5) as response:
                assert response.status == 200


def _start(deployment: Deployment, port: int) -> list[subprocess.Popen[bytes]]:
    with (deployment.tmp_path / "worker-web.log").open("wb") as log:
        web = subprocess.Popen(
            [LOCKSTEP, "web", "--port", str(port), "--workers", "1", "--threads", "2"],
            env=deployment.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deployment.workers.append(web)
    return [web, deployment.start_worker(), deployment.start_worker()]


def test_workers_and_web_ride_out_database_restarts(
    tmp_path: Path, cluster: PrivateCluster, sink: tuple[SlowSink, int]
) -> None:
    handler, smtp_port = sink
    deployment = Deployment(tmp_path, cluster.url, smtp_port)
    deployment.env.update(
        PYTHONPATH=str(ROOT),  # the setup uses the test factories
        LOCKSTEP_MAIL_LEASE_SECONDS="600",
        LOCKSTEP_WORKER_STALE_SECONDS=str(STALE),
        LOCKSTEP_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?connections={CONNECTIONS}",
    )
    subprocess.run(
        [LOCKSTEP, "manage", "migrate", "--noinput", "-v", "0"],
        env=deployment.env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    deployment.shell(SETUP)
    port = free_port()
    outages = Outages(deployment, cluster, f"http://127.0.0.1:{port}", handler)
    try:
        processes = _start(deployment, port)
        _until(
            lambda: _health(outages.base)[1]["worker"]["alive"] == 2,
            60,
            "2 workers",
            outages.context,
        )
        for tag, seconds in OUTAGES:
            outages.ride_out(tag, seconds)
            assert [p.poll() for p in processes] == [None, None, None], outages.context()
        _until(lambda: _running(deployment) == 0, 30, "no task running", outages.context)
        seen: dict[str, Any] = {}

        def beating_again() -> bool:  # each worker says so on its next heartbeat (5 s)
            seen.update(_health(outages.base)[1])
            return bool(seen.get("worker", {}).get("waiting_for_database") == 0)

        _until(beating_again, 30, "every worker beating again", outages.context)
        _check_end_state(deployment, handler, seen)
    finally:
        deployment.stop_all()
    assert all(0 <= delay < PROMPT for delay in outages.delays), outages.delays
    print(f"published after the database's return: {outages.delays} s")  # noqa: T201 - measured


def _outbox(deployment: Deployment) -> list[tuple[str, str]]:
    """(Message-ID, status) of every outbox row."""
    rows = deployment.query("SELECT message_id, status FROM mailgw_outboundmessage")
    return [(str(message_id), str(status)) for message_id, status in rows]


def _running(deployment: Deployment) -> int:
    rows = deployment.query(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
    )
    return int(rows[0][0])


def _check_end_state(deployment: Deployment, handler: SlowSink, report: dict[str, Any]) -> None:
    copies = _outbox(deployment)
    assert len(copies) >= 24  # the two batches, reminders, the announcements of publication
    delivered = Counter(message_id for _, message_id in handler.accepted)
    assert set(delivered) == {message_id for message_id, _ in copies}
    assert set(delivered.values()) == {1}  # nothing lost, nothing twice
    events = deployment.query(
        "SELECT object_id, count(*) FROM audit_auditevent"
        " WHERE tag = 'case:case:published' GROUP BY object_id"
    )
    assert sorted(count for _, count in events) == [1, 1]
    assert deployment.query("SELECT count(*) FROM channels_publicpost") == [(2,)]
    # No worker was taken for dead: the outage was longer than the stale time, but a judge
    # waits for everyone to beat again first.
    # Two worker processes, each with its publication lane (lockstep.ops.lanes): 4 heartbeats.
    assert deployment.query(
        "SELECT count(*) FROM ops_workerheartbeat WHERE stopped_at IS NULL"
    ) == [(4,)]
    lost = deployment.query(
        "SELECT traceback FROM django_tasks_database_dbtaskresult WHERE status = 'FAILED'"
    )
    assert all(reason == "the database connection was lost" for (reason,) in lost), lost
    worker = report["worker"]
    assert (worker["status"], worker["alive"], worker["waiting_for_database"]) == ("ok", 2, 0)
    assert worker["last_database_outage"]["seconds"] >= OUTAGES[-1][1] - 2
