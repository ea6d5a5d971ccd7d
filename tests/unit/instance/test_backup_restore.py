"""Backup and restore in one process, on the test database: what the summaries say, and the
checks that come before anything is changed. (tests/flows/test_backup.py runs the commands.)"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.instance.archive import ArchiveError, BackupError, write_archive
from lockstep.instance.backup import make_backup, restore_backup
from lockstep.instance.database import restore_database
from lockstep.instance.listkey import check_list_key_at_start
from lockstep.mailgw.outbound.listkey import key_fingerprint, write_new_list_key
from lockstep.mailgw.outbound.protect import list_secret_key
from lockstep.orgs.actions import do_create_organization
from lockstep.orgs.models import Organization, OrgKind

SYSTEM = Actor.system("tests")


@pytest.fixture
def instance(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """A data folder of its own; the list key would be in it."""
    settings.DATA_DIR = str(tmp_path / "data")
    settings.LOCKSTEP_SECRET_KEY_FILE = str(tmp_path / "data" / "secret_key")
    settings.LOCKSTEP_LIST_KEY_FILE = str(tmp_path / "data" / "list-key.asc")
    list_secret_key.cache_clear()
    yield tmp_path / "data"
    list_secret_key.cache_clear()


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken.tar").write_bytes(b"")
    with pytest.raises(BackupError, match="already exists"):
        make_backup(tmp_path / "taken.tar", now=clock.now())


def test_an_archive_without_a_database_or_secret_key_is_refused(
    instance: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret").write_text("s")
    manifest = {"format": "lockstep-backup", "version": 1, "created_at": "x", "lockstep": "0"}
    archive = tmp_path / "partial.tar"
    write_archive(archive, manifest=manifest, files={"secret_key": tmp_path / "secret"}, mtime=0)
    with pytest.raises(ArchiveError, match="not a full backup"):
        restore_backup(archive, force=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_head")
def test_a_backup_without_a_list_key_says_so_and_restores(instance: Path, tmp_path: Path) -> None:
    do_create_organization(name="Before", kind=OrgKind.VENDOR, actor=SYSTEM)
    made = make_backup(tmp_path / "b.tar", now=clock.now())
    assert made.list_key_fingerprint is None
    assert f"warning: the list key file {instance / 'list-key.asc'} does not exist" in made.text()
    assert "database and the secret key to" in made.text()
    do_create_organization(name="After", kind=OrgKind.VENDOR, actor=SYSTEM)
    with pytest.raises(BackupError, match="already holds data"):
        restore_backup(tmp_path / "b.tar", force=False)
    restored = restore_backup(tmp_path / "b.tar", force=True)
    assert list(Organization.objects.values_list("name", flat=True)) == ["Before"]
    assert "List key: none in this backup" in restored.text()
    assert "chain intact" in restored.text()
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_head")
def test_a_restore_says_when_the_key_is_not_the_one_the_audit_log_records(
    instance: Path, tmp_path: Path
) -> None:
    check_list_key_at_start(new_list_key=False)  # the key the audit log records
    recorded = key_fingerprint((instance / "list-key.asc").read_text())
    (instance / "list-key.asc").unlink()
    other = key_fingerprint(write_new_list_key(instance / "list-key.asc"))  # not audited
    made = make_backup(tmp_path / "b.tar.gz", now=clock.now())
    assert made.list_key_fingerprint == other
    restored = restore_backup(tmp_path / "b.tar.gz", force=True)
    assert f"the audit log records {recorded} as the newest list key" in restored.text()
    assert f"the list key now in place is {other}" in restored.text()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_head")
def test_a_broken_audit_chain_is_reported_after_a_restore(instance: Path, tmp_path: Path) -> None:
    do_create_organization(name="Alpha", kind=OrgKind.VENDOR, actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'nobody' WHERE seq = 1")
    make_backup(tmp_path / "b.tar", now=clock.now())
    with tarfile.open(tmp_path / "b.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["database"]["vendor"] == connection.vendor
    restored = restore_backup(tmp_path / "b.tar", force=True)
    assert not restored.audit.ok
    assert "audit log BROKEN after checking 1 events" in restored.text()
    assert "event #1" in restored.text()


def test_a_dump_of_another_kind_of_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="holds a oracle database but this instance uses"):
        restore_database(tmp_path / "dump", {"vendor": "oracle"})
