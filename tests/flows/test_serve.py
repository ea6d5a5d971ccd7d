"""`lockstep serve` as a real process: migrate, web server, worker, /healthz over HTTP, Ctrl-C."""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
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
    with urllib.request.urlopen(url, timeout=5) as response:
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


@contextlib.contextmanager
def serving(
    tmp_path: Path, extra: Sequence[str] = ()
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """`lockstep serve` on a free port, its data and log in `tmp_path`; killed at the end."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOCKSTEP_", "DJANGO_SETTINGS_MODULE"))
    }
    env["LOCKSTEP_DATA_DIR"] = str(tmp_path / "data")
    env["LOCKSTEP_WORKER_HEARTBEAT_SECONDS"] = "1"
    env["LOCKSTEP_SMTPD_PORT"] = str(free_port())
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [LOCKSTEP, "serve", "--port", str(port), "--workers", "1", "--threads", "2", *extra],
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


@pytest.fixture
def served(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    with serving(tmp_path, list(getattr(request, "param", []))) as started:
        yield started


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
    # The data folder did not exist: it is made for Lockstep's user alone, and so is each file.
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    for name in ("lockstep.sqlite3", "lockstep.sqlite3-wal", "secret_key"):
        assert (tmp_path / "data" / name).stat().st_mode & 0o777 == 0o600, name

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    assert process.wait(timeout=30) == 0
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log
    with pytest.raises(OSError, match=r"(?i)refused"):
        _get(f"{base}/healthz")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def wait_healthy(base: str) -> None:
    def worker_alive() -> bool:
        _status, body = _get(f"{base}/healthz")
        return bool(json.loads(body)["worker"]["status"] == "ok")

    _wait_for(worker_alive, seconds=60)


def test_sigterm_to_serve_alone_stops_everything(
    served: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, base, _tmp_path = served
    wait_healthy(base)
    children = _children(process.pid)
    assert len(children) == 3  # web server, worker, mail server
    process.send_signal(signal.SIGTERM)  # e.g. systemd stopping the service
    assert process.wait(timeout=30) == 0
    for child in children:
        assert (
            not Path(f"/proc/{child}").exists()
            or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
        )


def test_a_dead_worker_is_started_again_and_serve_goes_on(
    served: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, base, tmp_path = served
    wait_healthy(base)

    def worker_pids() -> list[int]:
        return [
            pid
            for pid in _children(process.pid)
            if b"gunicorn" not in Path(f"/proc/{pid}/cmdline").read_bytes()
            and b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]

    (worker,) = worker_pids()
    os.kill(worker, signal.SIGKILL)
    _wait_for(lambda: bool(worker_pids()) and worker_pids() != [worker], seconds=30)
    assert process.poll() is None  # nothing else stopped, nobody had to restart anything
    assert (
        "a component stopped (lockstep.cli worker, exit -9)" in (tmp_path / "serve.log").read_text()
    )
    wait_healthy(base)


def test_web_reports_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
    env.update(
        LOCKSTEP_DATA_DIR=str(tmp_path),
        LOCKSTEP_HTTPS="0",
        # Nothing listens on port 9 (discard) of the loopback address.
        LOCKSTEP_DATABASE_URL="postgres://nobody@127.0.0.1:9/lockstep",
    )
    process = subprocess.Popen(
        [LOCKSTEP, "web", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answer: dict[str, object] = {}

        def answered() -> bool:
            try:
                _get(f"http://127.0.0.1:{port}/healthz")
            except urllib.error.HTTPError as exc:
                answer.update(code=exc.code, body=json.loads(exc.read()))
                return True
            return False

        _wait_for(answered, seconds=60)
        assert answer["code"] == 503
        body = answer["body"]
        assert isinstance(body, dict)
        assert body["status"] == "down"
        assert body["database"] == {
            "status": "down",
            "vendor": "postgresql",
            "error": "OperationalError",
        }
        assert body["worker"] == body["mail"] == {"status": "unknown"}
        assert body["disk"]["status"] in {"ok", "low"}  # the data folder is still measured
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("served", [["--demo"]], indirect=True)
def test_serve_demo_then_a_vendor_logs_in_and_sees_the_demo_world(
    served: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    _process, base, _tmp_path = served
    wait_healthy(base)
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    browser.open(f"{base}/login/", timeout=5).read()
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {
            "login": "ana@northwind.example",
            "password": "quokka-demo-password",
            "csrfmiddlewaretoken": token,
        }
    ).encode()
    home = browser.open(
        urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"}),
        timeout=5,
    )
    page = home.read().decode()
    assert home.url == f"{base}/"
    assert "Northwind Linux" in page
    assert "distros (demo)" in page
    assert "oss-security (demo)" in page
    assert "libquokka" in page
    channel = browser.open(f"{base}/channels/distros/", timeout=5).read().decode()
    assert "Bluefin OS" in channel
    assert "at most 14 days" in channel
    with pytest.raises(urllib.error.HTTPError, match="404"):
        browser.open(f"{base}/orgs/bluefin/", timeout=5)


def _mail_texts(folder: Path) -> list[str]:
    """The text parts of every message the worker wrote to the outbox folder."""
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]
    return [
        str(part.get_content())
        for message in messages
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    ]


@pytest.mark.parametrize("served", [["--demo"]], indirect=True)
def test_links_follow_the_port_serve_listens_on(
    served: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    """No LOCKSTEP_BASE_URL: `serve --port N` gives out http://127.0.0.1:N/ links, in the web
    server's pages and in the mail its worker writes."""
    _process, base, tmp_path = served
    wait_healthy(base)
    assert not base.endswith(":8000")
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form_url = f"{base}/projects/libquokka/report/"
    browser.open(form_url, timeout=5).read()
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    fields = {
        "title": "Port check",
        "description": "The links must name the port the server listens on.",
        "reporter_email": "porter@research.example",
        "csrfmiddlewaretoken": token,
    }
    answer = browser.open(
        urllib.request.Request(
            form_url,
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Referer": form_url},
        ),
        timeout=10,
    )
    page = answer.read().decode()
    assert answer.url.startswith(f"{base}/track/")
    assert f'<code id="tracking-url">{answer.url}</code>' in page

    outbox = tmp_path / "data" / "outbox"
    _wait_for(
        lambda: any(answer.url in text for text in _mail_texts(outbox)),
        seconds=60,
    )
    assert not any("127.0.0.1:8000" in text for text in _mail_texts(outbox))
    health = json.loads(_get(f"{base}/healthz")[1])
    assert health["base_url"] == {"status": "ok", "configured": base}
    assert "LOCKSTEP_BASE_URL" not in (tmp_path / "serve.log").read_text()
