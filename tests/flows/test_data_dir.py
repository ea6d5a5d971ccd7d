"""The data folder: made when missing, kept private (`lockstep serve`, `lockstep manage`)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lockstep.ops.datadir import loose_paths
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.slow
LOCKSTEP = str(Path(sys.executable).with_name("lockstep"))


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
    env.update(LOCKSTEP_DATA_DIR=str(data), **extra)
    return env


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _serve_once(env: dict[str, str], log: Path) -> None:
    """Start `lockstep serve` with the umask a login shell has, wait for a page, stop it."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LOCKSTEP, "serve", "--port", str(port), "--workers", "1", "--no-worker", "--no-smtpd"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=0o022,
        )
        try:
            deadline = time.monotonic() + 60
            status = 0
            while time.monotonic() < deadline and status != 200:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
                        status = r.status
                except OSError:
                    time.sleep(0.25)
            assert status == 200, log.read_text()
        finally:
            os.killpg(process.pid, signal.SIGINT)
            assert process.wait(timeout=30) == 0
    assert "Traceback" not in log.read_text()


def test_serve_with_a_configured_secret_key_creates_the_missing_data_folder(
    tmp_path: Path,
) -> None:
    # With LOCKSTEP_SECRET_KEY set nothing wrote a key file, so nothing made the folder and
    # SQLite could not open its database: serve stopped with a traceback.
    data = tmp_path / "not" / "there" / "yet"
    log = tmp_path / "serve.log"
    _serve_once(_env(data, LOCKSTEP_SECRET_KEY="test-secret-key-" + "x" * 40), log)
    assert f"created the data folder {data}" in log.read_text()
    assert _mode(data) == 0o700
    assert not (data / "secret_key").exists()
    assert _mode(data / "lockstep.sqlite3") == 0o600
    # Nothing in the folder (static files included) is open to anyone else, and serve said so.
    assert loose_paths(data) == ([], False)
    assert "has mode" not in log.read_text()


def test_serve_warns_about_what_is_open_in_an_existing_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # the operator's choice
    (data / "notes.txt").write_text("copied in by hand")
    (data / "notes.txt").chmod(0o644)
    log = tmp_path / "serve.log"
    _serve_once(_env(data), log)
    said = log.read_text()
    assert f"the data folder {data} has mode 0755" in said
    assert f"{data / 'notes.txt'} in the data folder has mode 0644" in said
    assert _mode(data) == 0o755  # warned about, not changed
    assert _mode(data / "notes.txt") == 0o644
    # What serve made itself is private even in an open folder.
    assert loose_paths(data) == ([data, data / "notes.txt"], False)


def test_secrets_of_an_older_install_are_made_private_at_start(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "lockstep.sqlite3"
    sqlite3.connect(database).close()
    (data / "secret_key").write_text("an-older-generated-key")
    for path in (database, data / "secret_key"):
        path.chmod(0o644)  # what a version before the umask left behind

    checked = subprocess.run(
        [LOCKSTEP, "manage", "check"], env=_env(data), capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert _mode(database) == 0o600
    assert _mode(data / "secret_key") == 0o600
    assert _mode(data) == 0o755  # the operator's folder keeps its mode
    assert f"{database} was readable by other users; now by its owner only" in checked.stderr
