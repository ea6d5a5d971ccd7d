"""`lockstep serve` as a real process: migrate, web server, worker, /healthz over HTTP, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
LOCKSTEP = str(Path(sys.executable).with_name("lockstep"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL
        return response.status, response.read()


def _wait_for(predicate: object, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"condition not met within {seconds}s")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOCKSTEP_", "DJANGO_SETTINGS_MODULE"))
    }
    env["LOCKSTEP_DATA_DIR"] = str(tmp_path / "data")
    env["LOCKSTEP_WORKER_HEARTBEAT_SECONDS"] = "1"
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [LOCKSTEP, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )
    try:
        yield process, f"http://127.0.0.1:{port}", tmp_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_serve_answers_healthz_with_worker_alive_and_stops_on_ctrl_c(
    served: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, base, tmp_path = served

    def worker_alive() -> bool:
        status, body = _get(f"{base}/healthz")
        report = json.loads(body)
        return status == 200 and report["worker"]["status"] == "ok"

    _wait_for(worker_alive, seconds=60)
    _status, body = _get(f"{base}/healthz")
    report = json.loads(body)
    assert report["database"] == {"status": "ok", "vendor": "sqlite"}
    assert report["status"] == "ok"

    status, page = _get(f"{base}/login/")
    assert status == 200
    assert b"Log in to Lockstep" in page
    css_status, css = _get(f"{base}/static/web/lockstep.css")
    assert css_status == 200
    assert b"--accent" in css
    assert (tmp_path / "data" / "lockstep.sqlite3").exists()
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    assert process.wait(timeout=30) == 0
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log
    with pytest.raises(OSError, match=r"(?i)refused"):
        _get(f"{base}/healthz")
