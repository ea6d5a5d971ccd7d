"""README.md's "PostgreSQL deployment", run as written against a fresh PostgreSQL database.

The lines are read from the README itself, so the test follows (or catches) every change to
them. Only the values that belong to this machine are replaced: the database URL (a database
made for this test and dropped afterwards), the secret key, the data folder (which does not
exist yet) and the two ports. Runs when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import smtplib
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
ROOT = Path(__file__).resolve().parents[2]
LOCKSTEP = str(Path(sys.executable).with_name("lockstep"))
SERVERS = {"web", "worker", "smtpd"}


def readme_section() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### PostgreSQL deployment", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "README: no sh block under PostgreSQL deployment"
    return [line for line in block.group(1).splitlines() if line.strip()]


def strip_comment(line: str) -> str:
    return re.split(r"\s+#", line, maxsplit=1)[0].strip()


@pytest.fixture
def database() -> Iterator[str]:
    name = f"lockstep_readme_{secrets.token_hex(4)}"
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(URL)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _local(name: str, value: str, *, database: str, data: Path) -> str:
    """The README's example value, or this machine's stand-in for it."""
    stand_ins = {
        "LOCKSTEP_DATABASE_URL": database,
        "LOCKSTEP_SECRET_KEY": "readme-" + secrets.token_urlsafe(40),
        "LOCKSTEP_DATA_DIR": str(data),
    }
    return stand_ins.get(name, value)


def _get(url: str, host: str) -> tuple[int, bytes]:
    # What the TLS proxy in front sends: the public host name, and that the client used https.
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
        return r.status, r.read()


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


def readme_commands(
    database: str, data: Path, ports: dict[str, str]
) -> tuple[dict[str, str], list[list[str]]]:
    """The environment the README's `export` lines make, and its `lockstep` command lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
    commands: list[list[str]] = []
    for line in map(strip_comment, readme_section()):
        words = shlex.split(line)
        if words[0] == "export":
            for assignment in words[1:]:
                name, value = assignment.split("=", 1)
                env[name] = _local(name, value, database=database, data=data)
            continue
        assert words[0] == "lockstep", line
        commands.append([LOCKSTEP, *(ports.get(word, word) for word in words[1:])])
    return env, commands


def run_in_order(
    commands: list[list[str]], env: dict[str, str], logs: Path
) -> list[subprocess.Popen[bytes]]:
    """One-off commands run to their end; the servers are started and left running."""
    servers: list[subprocess.Popen[bytes]] = []
    for argv in commands:
        with (logs / f"{argv[1]}.log").open("wb") as log:
            if argv[1] in SERVERS:
                servers.append(subprocess.Popen(argv, env=env, stdout=log, stderr=log))
            else:
                done = subprocess.run(argv, env=env, stdout=log, stderr=log, check=False)
                assert done.returncode == 0, (logs / f"{argv[1]}.log").read_text()
    return servers


def check_served(base: str, host: str, lmtp_port: int) -> None:
    def healthy() -> bool:
        status, body = _get(f"{base}/healthz", host)
        return status == 200 and json.loads(body)["worker"]["status"] == "ok"

    _until(healthy, 90)
    _status, body = _get(f"{base}/healthz", host)
    assert json.loads(body)["database"] == {"status": "ok", "vendor": "postgresql"}
    for page in ("/login/", "/report/"):
        status, html = _get(f"{base}{page}", host)
        assert status == 200, page
    stylesheet = re.search(rb'href="(/static/web/lockstep\.[0-9a-f]+\.css)"', html)
    assert stylesheet, "the page links the hashed stylesheet from the manifest"
    assert _get(f"{base}{stylesheet.group(1).decode()}", host)[0] == 200
    with smtplib.LMTP("127.0.0.1", lmtp_port) as lmtp:
        assert lmtp.ehlo()[0] == 250  # smtplib.LMTP says LHLO


def test_the_readme_postgresql_deployment_serves_html_and_healthz(
    database: str, tmp_path: Path
) -> None:
    data = tmp_path / "var" / "lib" / "lockstep"
    ports = {"8000": str(free_port()), "2525": str(free_port())}
    env, commands = readme_commands(database, data, ports)
    assert [argv[1] for argv in commands] == ["manage", "web", "worker", "smtpd"]
    web = commands[1]
    base = f"http://{web[web.index('--host') + 1]}:{ports['8000']}"
    host = env["LOCKSTEP_ALLOWED_HOSTS"].split(",")[0]
    logs = tmp_path / "logs"
    logs.mkdir()
    assert not data.exists()
    servers = run_in_order(commands, env, logs)
    try:
        check_served(base, host, int(ports["2525"]))
        assert data.stat().st_mode & 0o777 == 0o700
        assert (data / "static" / "staticfiles.json").exists()
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
    for log in logs.iterdir():
        assert "Traceback" not in log.read_text(errors="replace"), log.name
