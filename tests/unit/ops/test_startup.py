"""The data folder and its secrets at start (lockstep/ops/startup.py), in this process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from lockstep.ops.startup import prepare_data_dir, secret_files


@pytest.fixture
def data(tmp_path: Path, settings: Any) -> Path:
    folder = tmp_path / "instance" / "data"
    settings.DATA_DIR = folder
    settings.LOCKSTEP_LIST_KEY_FILE = str(folder / "list-key.asc")
    return folder


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_missing_data_folder_is_made_for_its_owner_only(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="lockstep.ops.startup"):
        prepare_data_dir()
    assert mode(data) == 0o700
    assert f"created the data folder {data}" in caplog.text


def test_secrets_left_readable_by_an_older_version_are_made_private(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data.mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    (data / "secret_key").write_text("k")
    (data / "list-key.asc").write_text("-----BEGIN PGP PRIVATE KEY BLOCK-----")
    (data / "static").mkdir()
    for name in ("secret_key", "list-key.asc"):
        (data / name).chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="lockstep.ops.startup"):
        prepare_data_dir()
    assert mode(data / "secret_key") == 0o600
    assert mode(data / "list-key.asc") == 0o600
    assert mode(data) == 0o755  # an existing folder keeps the mode its operator gave it
    assert "readable by other users; now by its owner only" in caplog.text
    caplog.clear()
    prepare_data_dir()  # a second start has nothing to say
    assert caplog.text == ""


def test_the_sqlite_database_and_its_side_files_are_secrets() -> None:
    files = secret_files()
    database = django_settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        name = Path(database["NAME"])
        assert name in files
        assert name.with_name(f"{name.name}-wal") in files
    else:
        assert len(files) == 2  # the secret key and the list key: PostgreSQL keeps the rest


def test_a_secret_owned_by_someone_else_is_reported_not_changed(
    data: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    data.mkdir(parents=True)
    (data / "secret_key").write_text("k")
    (data / "secret_key").chmod(0o644)

    def refuse(_path: Path, _mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    # The tests run as root, who may chmod anything: the refusal a user gets is simulated.
    monkeypatch.setattr(Path, "chmod", refuse)
    with caplog.at_level(logging.WARNING, logger="lockstep.ops.startup"):
        prepare_data_dir()
    assert "readable by other users and not ours to change" in caplog.text
