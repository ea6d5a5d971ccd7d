"""Data at rest (lockstep/ops/datadir.py): every file in the data folder 0600 and every folder
0700 whatever the umask, and a warning at start about anything left open."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.db.utils import ConnectionHandler

from config.settings.env import secret_key
from lockstep.mailgw.outbound.transport import Envelope, FolderTransport
from lockstep.ops.datadir import loose_paths, warn_about_loose_modes
from lockstep.ops.startup import collect_static, prepare_data_dir


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual login umask: files 0644 and folders 0755 unless Lockstep says otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def data(tmp_path: Path, settings: Any) -> Path:
    folder = tmp_path / "instance" / "data"
    settings.DATA_DIR = folder
    settings.STATIC_ROOT = str(folder / "static")
    settings.LOCKSTEP_LIST_KEY_FILE = str(folder / "list-key.asc")
    return folder


def sqlite_connection(path: Path) -> Any:
    """A connection to an SQLite file, set up as the embedded mode's (WAL)."""
    options = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": options}}
    )
    return handler["default"]


def write_database(path: Path, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        wrapper = sqlite_connection(path)
        try:
            with wrapper.cursor() as cursor:
                cursor.execute("CREATE TABLE post (body TEXT)")
                cursor.execute("INSERT INTO post VALUES ('embargoed')")
            # Still open: SQLite removes the -wal and -shm files with the last connection.
            assert (path.parent / f"{path.name}-wal").exists()
            assert (path.parent / f"{path.name}-shm").exists()
            for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
                assert mode(path.parent / name) == 0o600, name
        finally:
            wrapper.close()


@pytest.mark.usefixtures("umask_022")
def test_what_lockstep_writes_into_the_data_folder_is_private_whatever_the_umask(
    data: Path, settings: Any, django_db_blocker: Any
) -> None:
    prepare_data_dir()
    assert mode(data) == 0o700

    # The database, its write-ahead log and shared memory.
    write_database(data / "lockstep.sqlite3", django_db_blocker)
    assert mode(data / "lockstep.sqlite3") == 0o600

    # The generated secret key.
    secret_key(data)
    assert mode(data / "secret_key") == 0o600

    # A file through Django's storage (attachments themselves are kept in the database).
    settings.MEDIA_ROOT = str(data / "files")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    storage = storages["default"]
    assert isinstance(storage, FileSystemStorage)
    name = storage.save("reports/7/poc.py", ContentFile(b"print('exploit')"))
    assert mode(data / "files" / name) == 0o600
    assert mode(data / "files" / "reports" / "7") == 0o700
    assert mode(data / "files") == 0o700

    # A copy in the outbox, over a .part a stopped worker left with the old umask's mode.
    outbox = data / "outbox"
    outbox.mkdir(mode=0o700)
    (outbox / "m1.part").write_bytes(b"half a message")
    (outbox / "m1.part").chmod(0o644)
    sent = list(FolderTransport(outbox).send_batch([Envelope("a@x", "b@y", b"body", "m1")]))
    assert [o.ok for group in sent for o in group] == [True]
    assert mode(outbox / "m1.eml") == 0o600
    assert (outbox / "m1.eml").read_bytes() == b"body"

    # Static files and collectstatic's lock (static files are public, and the check at start
    # leaves them out, but they are written like the rest).
    collect_static()
    assert mode(data / "collectstatic.lock") == 0o600
    assert any((data / "static").iterdir())

    assert loose_paths(data) == ([], False)


def test_an_outbox_made_by_the_transport_is_private(tmp_path: Path, umask_022: None) -> None:
    outbox = tmp_path / "outbox"
    list(FolderTransport(outbox).send_batch([Envelope("a@x", "b@y", b"body", "<m2@x>")]))
    assert mode(outbox) == 0o700
    assert [mode(path) for path in outbox.iterdir()] == [0o600]


def test_a_database_an_older_version_left_readable_is_made_private_on_connection(
    tmp_path: Path, umask_022: None, django_db_blocker: Any
) -> None:
    database = tmp_path / "old.sqlite3"
    sqlite3.connect(database).close()  # as an older Lockstep left it
    database.chmod(0o644)
    write_database(database, django_db_blocker)
    assert mode(database) == 0o600


def test_the_check_warns_about_loose_paths_and_changes_nothing(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data.mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    (data / "lockstep.sqlite3").write_bytes(b"")
    (data / "lockstep.sqlite3").chmod(0o600)
    (data / "notes.txt").write_text("left by hand")
    (data / "notes.txt").chmod(0o644)
    (data / "outbox").mkdir(mode=0o700)
    (data / "outbox").chmod(0o755)
    (data / "static").mkdir()
    (data / "static" / "app.css").write_text("body {}")
    (data / "static" / "app.css").chmod(0o644)  # public: not reported
    (data / "link").symlink_to(data / "notes.txt")  # a link's own mode means nothing

    with caplog.at_level(logging.INFO, logger="lockstep.ops.datadir"):
        found = warn_about_loose_modes()

    assert set(found) == {data, data / "notes.txt", data / "outbox"}
    assert f"the data folder {data} has mode 0755" in caplog.text
    assert f"{data / 'notes.txt'} in the data folder has mode 0644" in caplog.text
    assert f"{data / 'outbox'} in the data folder has mode 0755" in caplog.text
    assert "app.css" not in caplog.text
    assert all(record.levelno == logging.WARNING for record in caplog.records)
    assert mode(data) == 0o755  # the operator's folder keeps its mode
    assert mode(data / "notes.txt") == 0o644


def test_a_private_data_folder_gives_no_warning(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prepare_data_dir()
    (data / "outbox").mkdir(mode=0o700)
    (data / "outbox" / "m.eml").write_bytes(b"")
    (data / "outbox" / "m.eml").chmod(0o600)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="lockstep.ops.datadir"):
        assert warn_about_loose_modes() == []
    assert caplog.text == ""


def test_the_check_names_a_few_paths_then_counts_the_rest(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prepare_data_dir()
    for number in range(8):
        (data / f"copy-{number}.eml").write_bytes(b"")
        (data / f"copy-{number}.eml").chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="lockstep.ops.datadir"):
        assert len(warn_about_loose_modes()) == 8
    assert caplog.text.count("in the data folder has mode 0640") == 5
    assert f"and 3 more paths in the data folder {data} are open to other users" in caplog.text


def test_the_check_stops_after_so_many_entries(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    (folder / "outbox").mkdir(parents=True, mode=0o700)
    folder.chmod(0o700)
    for number in range(150):
        (folder / "outbox" / f"{number}.eml").touch(mode=0o600)
    (folder / "outbox" / "7.eml").chmod(0o644)

    assert loose_paths(folder, limit=100)[1]  # stopped: 10,000 entries take about 30 ms
    assert loose_paths(folder, limit=200) == ([folder / "outbox" / "7.eml"], False)
    assert loose_paths(tmp_path / "missing") == ([], False)
