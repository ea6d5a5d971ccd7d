"""`lockstep backup` and `lockstep restore`: an instance survives being copied while it runs,
wiped and restored, with its cases, attachments, audit chain, list key and reply addresses.

SQLite always; PostgreSQL too when the suite runs on it (`LOCKSTEP_DATABASE_URL=postgres://…`,
with databases of its own, dropped afterwards). The instance is built and inspected by
`backup_world.py`, run as a program inside it.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
LOCKSTEP = str(Path(sys.executable).with_name("lockstep"))
WORLD = str(Path(__file__).with_name("backup_world.py"))
URL = os.environ.get("LOCKSTEP_DATABASE_URL", "")
on_postgres = pytest.mark.skipif(
    not URL.startswith("postgres"), reason="needs LOCKSTEP_DATABASE_URL"
)


@dataclass(frozen=True)
class Instance:
    data: Path
    database_url: str = ""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
        env["LOCKSTEP_DATA_DIR"] = str(self.data)
        if self.database_url:
            env["LOCKSTEP_DATABASE_URL"] = self.database_url
        return env

    def run(self, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LOCKSTEP, *argv], env=self.env() | extra, capture_output=True, text=True, check=False
        )

    def world(self, *argv: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, WORLD, *argv],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        facts: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        return facts


def _build_and_back_up_while_writing(source: Instance, archive: Path) -> dict[str, Any]:
    """Build a case world, then back it up while another process keeps posting."""
    migrated = source.run("manage", "migrate", "--noinput", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    built = source.world("build", str(source.data / "outbox"))
    assert built["list_key"]
    writer = subprocess.Popen(
        [sys.executable, WORLD, "write"], env=source.env(), cwd=ROOT, stdout=subprocess.PIPE
    )
    with writer:
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline() == b"writing\n"
            made = source.run("backup", str(archive))
        finally:
            writer.send_signal(signal.SIGTERM)
            writer.wait(timeout=30)
    assert made.returncode == 0, made.stderr
    assert f"List key: {built['list_key']}" in made.stdout
    return built


def _assert_restored(target: Instance, archive: Path, built: dict[str, Any]) -> None:
    restored = target.run("restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"List key: {built['list_key']}" in restored.stdout
    assert "chain intact" in restored.stdout
    verified = target.run("audit", "verify")
    assert verified.returncode == 0, verified.stdout
    after = target.world("facts")
    assert after["audit_ok"]
    assert after["list_key"] == built["list_key"]
    assert set(after["cases"]) == set(built["cases"])
    for number, case in built["cases"].items():
        again = after["cases"][number]
        assert again["title"] == case["title"]
        assert again["attachments"] == case["attachments"]
        assert again["address"] == case["address"]
        assert again["member_addresses"] == case["member_addresses"]
        assert again["posts"][: len(case["posts"])] == case["posts"]
        assert len(again["posts"]) > len(case["posts"])  # the writer's, up to the backup
    for name in ("secret_key", "list-key.asc"):
        assert (target.data / name).stat().st_mode & 0o777 == 0o600


@pytest.fixture(scope="module")
def sqlite_backup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One SQLite instance, built and backed up (compressed) while in use."""
    folder = tmp_path_factory.mktemp("sqlite")
    archive = folder / "lockstep.tar.gz"
    built = _build_and_back_up_while_writing(Instance(folder / "source"), archive)
    return archive, built


def test_sqlite_instance_survives_backup_wipe_and_restore(
    sqlite_backup: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    archive, built = sqlite_backup
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert names == ["manifest.json", "database.sqlite3", "secret_key", "list-key.asc"]
    assert manifest["list_key_fingerprint"] == built["list_key"]
    assert manifest["database"]["vendor"] == "sqlite"
    _assert_restored(Instance(tmp_path / "new"), archive, built)


def test_a_tampered_archive_is_refused_and_nothing_changes(
    sqlite_backup: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    archive, _ = sqlite_backup
    plain = tmp_path / "plain.tar"
    with tarfile.open(archive) as source, tarfile.open(plain, "w") as copy:
        for info in source.getmembers():
            data = source.extractfile(info)
            if info.name == "secret_key":
                assert data is not None
                altered = bytearray(data.read())
                altered[0] ^= 0x01
                data = io.BytesIO(bytes(altered))
            copy.addfile(info, data)
    target = Instance(tmp_path / "new")
    refused = target.run("restore", str(plain))
    assert refused.returncode == 1
    assert "secret_key does not match its checksum" in refused.stderr
    assert not (target.data / "lockstep.sqlite3").exists()
    assert not (target.data / "list-key.asc").exists()


def test_restore_will_not_overwrite_an_instance_unless_forced(
    sqlite_backup: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    archive, built = sqlite_backup
    target = Instance(tmp_path / "new")
    assert target.run("restore", str(archive)).returncode == 0
    again = target.run("restore", str(archive))
    assert again.returncode == 1
    assert "already holds data" in again.stderr
    assert "--force" in again.stderr
    forced = target.run("restore", "--force", str(archive), LOCKSTEP_SECRET_KEY="configured")
    assert forced.returncode == 0, forced.stderr
    assert "warning: LOCKSTEP_SECRET_KEY is set and differs" in forced.stdout
    assert "configured" not in forced.stdout + forced.stderr
    other = Instance(tmp_path / "other")
    other.data.mkdir()
    (other.data / "list-key.asc").write_text((target.data / "list-key.asc").read_text() + "\n")
    different = other.run("restore", str(archive))
    assert different.returncode == 1
    assert "is not the backup's list key" in different.stderr
    assert built["list_key"] in different.stderr


def test_a_lost_list_key_stops_the_start_until_restored_or_replaced(
    sqlite_backup: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    archive, built = sqlite_backup
    target = Instance(tmp_path / "new")
    assert target.run("restore", str(archive)).returncode == 0
    key = target.data / "list-key.asc"
    key.unlink()
    for command in ("worker", "smtpd"):
        refused = target.run(command)
        assert refused.returncode == 1
        assert f"The list key file {key} is missing" in refused.stderr
        assert "has already sent mail signed by a list key" in refused.stderr
        assert "lockstep restore" in refused.stderr
        assert "--new-list-key" in refused.stderr
        assert not key.exists()
    worker = subprocess.Popen(
        [LOCKSTEP, "worker", "--new-list-key"], env=target.env(), stdout=subprocess.PIPE, text=True
    )
    with worker:
        try:
            assert worker.stdout is not None
            said = worker.stdout.readline()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    assert said.startswith("lockstep: Made a new list key")
    after = target.world("facts")
    assert after["list_key"] not in (None, built["list_key"])
    assert after["list_key"] in said
    assert after["audit_ok"]
    with sqlite3.connect(target.data / "lockstep.sqlite3") as db:
        made = db.execute(
            "SELECT object_id, data FROM audit_auditevent WHERE tag = 'mail:list-key:made'"
        ).fetchall()
    assert [(fingerprint, json.loads(data)["replacing"]) for fingerprint, data in made] == [
        (after["list_key"], True)
    ]


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    names = [f"lockstep_backup_{secrets.token_hex(4)}" for _ in range(2)]
    parts = urlparse(URL)
    with psycopg.connect(URL, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            urlunparse(parts._replace(path=f"/{names[0]}")),
            urlunparse(parts._replace(path=f"/{names[1]}")),
        )
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@on_postgres
def test_postgresql_instance_survives_backup_wipe_and_restore(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    first, second = two_databases
    archive = tmp_path / "lockstep.tar"
    built = _build_and_back_up_while_writing(Instance(tmp_path / "source", first), archive)
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        assert "database.pgdump" in tar.getnames()
    started = time.monotonic()
    _assert_restored(Instance(tmp_path / "new", second), archive, built)
    assert time.monotonic() - started < 120
