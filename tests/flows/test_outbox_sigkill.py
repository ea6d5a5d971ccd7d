"""A worker killed (SIGKILL) in the middle of a delivery batch: the batch completes, by a worker
started later or by one that was running all along, with at most one copy sent twice per SMTP
session of the killed worker.

Real processes throughout: `lockstep worker` subprocesses deliver over real SMTP to an aiosmtpd
sink in this process, on their own database (a SQLite file in a temporary data folder, or a
fresh PostgreSQL database when the suite runs with `LOCKSTEP_DATABASE_URL=postgres://…`).

- A restart: the sink holds the RCPT of the 8th of 20 copies, so the worker is provably in the
  middle of the batch when it is killed (7 copies accepted, the 8th not); a worker started
  afterwards sends the rest when the claim's lease (2 s here) ends. No copy twice.
- A takeover, with the defaults (heartbeat 5 s, stale 30 s, lease 600 s) and 4 SMTP sessions:
  from the 8th copy on, the sink takes each message and never answers, so the killed worker
  has 4 copies the relay accepted and it never recorded: the worst case. The other worker,
  alive all along, finds the dead one's heartbeat stale and sends the rest within a minute
  (not at the lease's end); those 4 arrive twice, with their Message-ID, and nothing else does.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from email import message_from_bytes
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
from aiosmtpd.controller import Controller

from lockstep.ops.recovery import WORKER_LOST
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.slow
URL = os.environ.get("LOCKSTEP_DATABASE_URL", "")
LOCKSTEP = str(Path(sys.executable).with_name("lockstep"))
COPIES = 20
BLOCK_AT = 7  # index of the copy whose RCPT the sink holds: the 8th of 20
LEASE_SECONDS = 2
ADDRESSES = [f"r{n:02d}@example.org" for n in range(COPIES)]

QUEUE = f"""
from django.db import transaction
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
spec = MailSpec(subject="Advisory", body="Patch now.", confidential=False)
with transaction.atomic():
    fan_out(spec, [Recipient(a, plain_ok=True) for a in {ADDRESSES!r}])
"""


class BlockingSink:
    """Records (recipient, Message-ID) of each accepted copy; holds the first RCPT for
    `block_on` until `release` is set (waiting off the event loop: the client gets no reply)."""

    def __init__(self, block_on: str) -> None:
        self.block_on = block_on
        self.blocked = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._accepted: list[tuple[str, str]] = []

    @property
    def accepted(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._accepted)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address == self.block_on and not self.blocked.is_set():
            self.blocked.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message_id = str(message_from_bytes(envelope.content)["Message-ID"])
        with self._lock:
            self._accepted.extend((rcpt, message_id) for rcpt in envelope.rcpt_tos)
        return "250 Message accepted"


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of its own when the suite runs on PostgreSQL; else "" (SQLite)."""
    if not URL.startswith("postgres"):
        yield ""
        return
    name = f"lockstep_kill_{secrets.token_hex(4)}"
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(URL)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sink() -> Iterator[tuple[BlockingSink, int]]:
    handler = BlockingSink(block_on=ADDRESSES[BLOCK_AT])
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


class Deployment:
    """The worker processes' environment, their database, and the processes started."""

    def __init__(self, tmp_path: Path, database: str, smtp_port: int) -> None:
        self.tmp_path = tmp_path
        self.database = database
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir()
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))
        }
        self.env.update(
            LOCKSTEP_DATA_DIR=str(self.data_dir),
            LOCKSTEP_SECRET_KEY="test-" + secrets.token_hex(16),
            LOCKSTEP_HTTPS="0",
            LOCKSTEP_WORKER_HEARTBEAT_SECONDS="1",
            LOCKSTEP_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?connections=1",
            LOCKSTEP_MAIL_LEASE_SECONDS=str(LEASE_SECONDS),
        )
        if database:
            self.env["LOCKSTEP_DATABASE_URL"] = database
        self.workers: list[subprocess.Popen[bytes]] = []

    def manage(self, *argv: str) -> None:
        subprocess.run(
            [LOCKSTEP, "manage", *argv], env=self.env, check=True, capture_output=True, timeout=60
        )

    def shell(self, code: str) -> None:
        self.manage("shell", "-c", code)

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"worker{len(self.workers) + 1}.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [LOCKSTEP, "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: killpg reaches children
            )
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.tmp_path.glob("worker*.log"))
        )

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.database:
            with psycopg.connect(self.database) as db:
                return db.execute(sql).fetchall()
        path = self.data_dir / "lockstep.sqlite3"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20)) as db:
            return db.execute(sql).fetchall()

    def copies(self) -> dict[str, tuple[str, str, int]]:
        """to_address -> (status, Message-ID, attempts) of every outbox row."""
        rows = self.query(
            "SELECT to_address, status, message_id, attempts FROM mailgw_outboundmessage"
        )
        return {to: (status, message_id, attempts) for to, status, message_id, attempts in rows}

    def task_results(self) -> list[tuple[str, Any]]:
        """(status, return value) of every delivery task result, oldest first."""
        rows = self.query(
            "SELECT status, return_value FROM django_tasks_database_dbtaskresult"
            " WHERE task_path LIKE '%deliver_outbound' ORDER BY enqueued_at"
        )
        return [
            (status, json.loads(value) if isinstance(value, str) else value)
            for status, value in rows
        ]


def _until(check: Callable[[], bool], seconds: float, what: str, deployment: Deployment) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what}: not reached within {seconds}s\n{deployment.logs()}")


def test_worker_killed_mid_batch_the_restart_completes_it_without_duplicates(
    tmp_path: Path, database: str, sink: tuple[BlockingSink, int]
) -> None:
    handler, smtp_port = sink
    deployment = Deployment(tmp_path, database, smtp_port)
    deployment.manage("migrate", "--noinput", "-v", "0")
    deployment.shell(QUEUE)  # one outbox row per recipient; the delivery task on commit
    queued = deployment.copies()
    assert sorted(queued) == ADDRESSES
    assert {status for status, _, _ in queued.values()} == {"queued"}
    assert [status for status, _ in deployment.task_results()] == ["READY"]
    try:
        first = deployment.start_worker()

        def blocked_mid_batch() -> bool:
            assert first.poll() is None, f"the worker stopped\n{deployment.logs()}"
            return handler.blocked.is_set()

        _until(blocked_mid_batch, 30, "the sink holding the 8th copy", deployment)
        os.killpg(first.pid, signal.SIGKILL)  # the worker and anything it started
        assert first.wait(timeout=10) == -signal.SIGKILL

        # Right after the kill: the 7 copies the sink accepted are already recorded as sent;
        # the held 8th and the rest of the batch are still claimed by the dead worker.
        before_kill = [address for address, _ in handler.accepted]
        assert before_kill == ADDRESSES[:BLOCK_AT]
        after_kill = deployment.copies()
        sent_early = sorted(a for a, (status, _, _) in after_kill.items() if status == "sent")
        assert sent_early == ADDRESSES[:BLOCK_AT]
        claimed = sorted(a for a, (status, _, _) in after_kill.items() if status == "sending")
        assert claimed == ADDRESSES[BLOCK_AT:]
        # The killed worker's task stays RUNNING (nobody has run long enough to judge it dead);
        # the one it queued at start may wait, READY.
        assert [s for s, _ in deployment.task_results()].count("RUNNING") == 1
        handler.release.set()  # the dead worker's session is gone: the 8th is never accepted

        # The new worker queues a delivery as it starts; that one finds the dead worker's
        # claim still running and comes back when it expires.
        second = deployment.start_worker()

        def all_sent() -> bool:
            assert second.poll() is None, f"the worker stopped\n{deployment.logs()}"
            return {status for status, _, _ in deployment.copies().values()} == {"sent"}

        _until(all_sent, 30, "every copy sent", deployment)
        _until(
            lambda: {s for s, _ in deployment.task_results()} == {"RUNNING", "SUCCESSFUL"},
            10,
            "the redelivery task finished",
            deployment,
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        deployment.stop_all()

    accepted = handler.accepted
    copies = deployment.copies()
    assert Counter(address for address, _ in accepted) == Counter(ADDRESSES)  # once each
    assert len({message_id for _, message_id in accepted}) == COPIES
    # Each recipient got its own row's copy, and every row was sent on its first attempt.
    assert dict(accepted) == {address: message_id for address, (_, message_id, _) in copies.items()}
    assert {status for status, _, _ in copies.values()} == {"sent"}
    assert {attempts for _, _, attempts in copies.values()} == {0}
    results = deployment.task_results()
    assert [s for s, _ in results].count("RUNNING") == 1  # the killed worker's: not judged yet
    done = [value for status, value in results if status == "SUCCESSFUL"]
    assert len(done) == len(results) - 1
    assert sum(value["sent"] for value in done) == COPIES - BLOCK_AT


CONNECTIONS = 4
TAKEOVER_LIMIT = 60.0  # seconds from the kill to every copy sent


class HangingSink:
    """Takes (records) each message; from the copy to `first_hung` on, the first time each
    comes before `release`, it does not answer until then: the sender cannot know it was
    taken."""

    def __init__(self, first_hung: int) -> None:
        self.hang_from = set(ADDRESSES[first_hung:])
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._accepted: list[tuple[str, str]] = []
        self.hung: list[str] = []

    @property
    def accepted(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._accepted)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message_id = str(message_from_bytes(envelope.content)["Message-ID"])
        with self._lock:
            seen = {address for address, _ in self._accepted}
            self._accepted.extend((rcpt, message_id) for rcpt in envelope.rcpt_tos)
            hang = [r for r in envelope.rcpt_tos if r in self.hang_from and r not in seen]
            if self.release.is_set():
                hang = []
            self.hung.extend(hang)
        if hang:
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 Message accepted"


@pytest.fixture
def hanging_sink() -> Iterator[tuple[HangingSink, int]]:
    handler, port = HangingSink(first_hung=BLOCK_AT), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


def _delivering_pid(deployment: Deployment) -> int:
    """The process id of the worker that claimed the copies being sent."""
    ((worker_id,),) = deployment.query(
        "SELECT DISTINCT claimed_by FROM mailgw_outboundmessage WHERE status = 'sending'"
    )
    ((pid,),) = deployment.query(
        f"SELECT pid FROM ops_workerheartbeat WHERE worker_id = '{worker_id}'"  # noqa: S608 - a random id of letters and digits
    )
    return int(pid)


def test_a_live_worker_takes_over_a_killed_ones_batch_within_a_minute(
    tmp_path: Path, database: str, hanging_sink: tuple[HangingSink, int]
) -> None:
    handler, smtp_port = hanging_sink
    deployment = Deployment(tmp_path, database, smtp_port)
    for name in ("LOCKSTEP_WORKER_HEARTBEAT_SECONDS", "LOCKSTEP_MAIL_LEASE_SECONDS"):
        del deployment.env[name]  # the defaults: beats every 5 s, stale after 30 s, lease 600 s
    deployment.env["LOCKSTEP_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}?connections={CONNECTIONS}"
    deployment.manage("migrate", "--noinput", "-v", "0")
    deployment.shell(QUEUE)
    try:
        workers = [deployment.start_worker(), deployment.start_worker()]
        _until(lambda: len(handler.hung) == CONNECTIONS, 60, "every session hung", deployment)
        time.sleep(0.5)  # no more copies go: each session waits for its answer
        assert len(handler.hung) == CONNECTIONS
        pid = _delivering_pid(deployment)
        (victim,) = [w for w in workers if w.pid == pid]
        (survivor,) = [w for w in workers if w.pid != pid]
        os.killpg(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        assert victim.wait(timeout=10) == -signal.SIGKILL
        handler.release.set()  # its sessions are gone: the answers reach nobody

        def all_sent() -> bool:
            assert survivor.poll() is None, f"the worker stopped\n{deployment.logs()}"
            return {status for status, _, _ in deployment.copies().values()} == {"sent"}

        _until(all_sent, TAKEOVER_LIMIT + 15, "every copy sent by the live worker", deployment)
        took = time.monotonic() - killed
        _until(lambda: _idle(deployment), 10, "the deliveries finished", deployment)
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=30) == 0
    finally:
        deployment.stop_all()
    print(f"takeover: every copy sent {took:.1f} s after the kill")  # noqa: T201 - measured
    assert took < TAKEOVER_LIMIT
    _check_takeover(deployment, handler)


def _idle(deployment: Deployment) -> bool:
    return "RUNNING" not in {status for status, _ in deployment.task_results()}


def _check_takeover(deployment: Deployment, handler: HangingSink) -> None:
    twice = sorted(a for a, n in Counter(a for a, _ in handler.accepted).items() if n > 1)
    assert twice == sorted(handler.hung)  # only the copies the dead worker never heard about
    assert len(twice) == CONNECTIONS  # the bound: one per SMTP session of the dead worker
    assert set(dict(handler.accepted)) == set(ADDRESSES)
    by_address: dict[str, set[str]] = {}
    for address, message_id in handler.accepted:
        by_address.setdefault(address, set()).add(message_id)
    assert all(len(ids) == 1 for ids in by_address.values())  # a repeat has the same Message-ID
    lost = deployment.query(
        "SELECT exception_class_path, traceback FROM django_tasks_database_dbtaskresult"
        " WHERE status = 'FAILED'"
    )
    assert [path for path, _ in lost] == [WORKER_LOST]  # the dead worker's task, taken over
    assert "no heartbeat for 30 s" in lost[0][1]
