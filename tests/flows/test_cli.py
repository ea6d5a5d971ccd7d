"""The `lockstep` command end to end: createadmin, demo, audit verify (and its failure)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
LOCKSTEP = str(Path(sys.executable).with_name("lockstep"))


def _run(data: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOCKSTEP_", "DJANGO_SETTINGS_MODULE"))
    }
    env["LOCKSTEP_DATA_DIR"] = str(data)
    return subprocess.run(
        [LOCKSTEP, *argv], env=env, input=stdin, capture_output=True, text=True, check=False
    )


def test_createadmin_demo_and_audit_verify_detects_a_hand_edit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    migrate = _run(data, "manage", "migrate", "--noinput", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr

    admin = _run(
        data,
        "createadmin",
        "--email",
        "root@example.org",
        "--password-stdin",
        stdin="a long operator passphrase\n",
    )
    assert admin.returncode == 0, admin.stderr
    assert "Created operator root@example.org" in admin.stdout
    assert "a long operator passphrase" not in admin.stdout + admin.stderr

    demo = _run(data, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "Demo world created" in demo.stdout
    assert "ana@northwind.example" in demo.stdout
    assert (data / "demo-keys" / "ana@northwind.example.asc").stat().st_mode & 0o777 == 0o600
    again = _run(data, "demo")
    assert "already here; nothing changed" in again.stdout

    ok = _run(data, "audit", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "chain intact" in ok.stdout

    with sqlite3.connect(data / "lockstep.sqlite3") as db:
        db.execute("UPDATE audit_auditevent SET actor_label = 'nobody' WHERE seq = 5")
    broken = _run(data, "audit", "verify")
    assert broken.returncode == 1
    assert "event #5" in broken.stdout
    assert "was changed after writing" in broken.stdout


def test_createadmin_without_a_terminal_explains_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(data, "manage", "migrate", "--noinput", "-v", "0").returncode == 0
    result = _run(data, "createadmin", "--email", "root@example.org")
    assert result.returncode != 0
    assert "--password-stdin" in result.stderr


def test_weak_admin_password_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(data, "manage", "migrate", "--noinput", "-v", "0").returncode == 0
    result = _run(
        data, "createadmin", "--email", "root@example.org", "--password-stdin", stdin="short\n"
    )
    assert result.returncode != 0
    assert "too short" in result.stderr


def test_ctrl_c_while_a_command_starts_stops_it_without_a_traceback(tmp_path: Path) -> None:
    # A Ctrl-C that lands before a command installs its own handler (a worker still loading
    # Django when `serve` is stopped) ends it with 130, as a shell expects, and no traceback.
    result = _run(tmp_path / "data", "manage", "shell", "-c", "raise KeyboardInterrupt")
    assert result.returncode == 130
    assert "Traceback" not in result.stderr
