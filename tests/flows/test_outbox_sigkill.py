"""A worker killed (SIGKILL) in the middle of a delivery batch: after a restart the batch
completes, and every recipient gets exactly one copy.

Real processes throughout: `lockstep worker` subprocesses deliver over real SMTP to an aiosmtpd
sink in this process, on their own database (a SQLite file in a temporary data folder, or a
fresh PostgreSQL database when the suite runs with `LOCKSTEP_DATABASE_URL=postgres://…`). The
sink holds the RCPT of the 8th of 20 copies, so the worker is provably in the middle of the
batch when it is killed: 7 copies accepted, the 8th not.
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
        # The killed worker's task stays RUNNING; the one it queued at start may wait, READY.
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
    assert [s for s, _ in results].count("RUNNING") == 1  # the killed worker's: never rerun
    done = [value for status, value in results if status == "SUCCESSFUL"]
    assert len(done) == len(results) - 1
    assert sum(value["sent"] for value in done) == COPIES - BLOCK_AT
