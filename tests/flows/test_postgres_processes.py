"""PostgreSQL deployment: one `lockstep web` and two `lockstep worker` processes share a database.

Runs only when the suite runs on PostgreSQL (`LOCKSTEP_DATABASE_URL=postgres://…`); it makes a
database of its own and drops it afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from tests.flows.test_serve import free_port

URL = os.environ.get("LOCKSTEP_DATABASE_URL", "")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not URL.startswith("postgres"), reason="needs LOCKSTEP_DATABASE_URL"),
]
LOCKSTEP = str(Path(sys.executable).with_name("lockstep"))
TASKS = 40


@pytest.fixture
def database() -> Iterator[str]:
    name = f"lockstep_proc_{secrets.token_hex(4)}"
    parts = urlparse(URL)
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
    env.update(
        LOCKSTEP_DATABASE_URL=url,
        LOCKSTEP_DATA_DIR=str(tmp_path),
        LOCKSTEP_SECRET_KEY="test-" + secrets.token_hex(16),
        LOCKSTEP_HTTPS="0",
        LOCKSTEP_WORKER_HEARTBEAT_SECONDS="1",
    )
    return env


def _health(base: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        report: dict[str, object] = json.loads(response.read())
        return report


def _until(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"not reached within {seconds}s")


def test_web_and_two_workers_share_postgresql(database: str, tmp_path: Path) -> None:
    env = _env(database, tmp_path)
    subprocess.run([LOCKSTEP, "manage", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = [
        subprocess.Popen([LOCKSTEP, "web", "--port", str(port), "--workers", "1"], env=env),
        subprocess.Popen([LOCKSTEP, "worker"], env=env),
        subprocess.Popen([LOCKSTEP, "worker"], env=env),
    ]
    try:
        _until(lambda: _health(base)["worker"]["alive"] == 2, 60)  # type: ignore[index]
        report = _health(base)
        assert report["database"] == {"status": "ok", "vendor": "postgresql"}
        enqueue = (
            f"from lockstep.ops.tasks import ping\nfor i in range({TASKS}): ping.enqueue(str(i))\n"
        )
        subprocess.run([LOCKSTEP, "manage", "shell", "-c", enqueue], env=env, check=True)

        def all_done() -> bool:
            with psycopg.connect(database) as db:
                row = db.execute(
                    "SELECT count(*) FROM django_tasks_database_dbtaskresult"
                    " WHERE status = 'SUCCESSFUL' AND task_path LIKE '%.ping'"
                ).fetchone()
            return row is not None and row[0] == TASKS

        _until(all_done, 60)
        with psycopg.connect(database) as db:
            rows = db.execute(
                "SELECT return_value, worker_ids FROM django_tasks_database_dbtaskresult"
                " WHERE task_path LIKE '%.ping'"  # workers also queue mail tasks as they start
            ).fetchall()
        assert sorted(int(value) for value, _ in rows) == list(range(TASKS))
        assert all(len(workers) == 1 for _, workers in rows)  # each task ran exactly once
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
