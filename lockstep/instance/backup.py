"""`lockstep backup FILE` and `lockstep restore FILE`: the whole instance in one archive.

What an instance cannot be rebuilt without, besides its database (cases, posts, attachments,
the audit chain; files are stored in the database): the list key, which members know as the
signer of Lockstep's mail and which mail to Lockstep is encrypted to, and the secret key, which
tags every case reply address (`mailgw.addresses`). A backup takes all three; the archive's
format is in `archive.py`, the database copy in `database.py`.

A restore checks the whole archive before it changes anything, refuses to overwrite an
instance that already holds data (or a different list key) unless forced, puts the database
back, installs the two keys with mode 0600, migrates the database to this Lockstep's schema,
verifies the audit chain, and records the restore in it.
"""

from __future__ import annotations

import importlib.metadata
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from lockstep.audit.models import AuditEvent
from lockstep.audit.record import VerifyReport, record, verify
from lockstep.audit.tags import InstanceTag, MailTag
from lockstep.core.actor import Actor
from lockstep.instance.archive import (
    ARCHIVE_MODE,
    FORMAT,
    FORMAT_VERSION,
    ArchiveError,
    BackupError,
    read_archive,
    sha256_of,
    write_archive,
)
from lockstep.instance.database import (
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    dump_database,
    instance_has_data,
    restore_database,
)
from lockstep.mailgw.outbound.listkey import key_fingerprint, key_path
from lockstep.mailgw.outbound.protect import list_secret_key

SECRET_MEMBER = "secret_key"  # noqa: S105 - a member name, not a secret
LIST_KEY_MEMBER = "list-key.asc"


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    vendor: str
    list_key_fingerprint: str | None
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        key = self.list_key_fingerprint
        what = ", the secret key and the list key" if key else " and the secret key"
        done = f"Backed up the {self.vendor} database{what} to {self.path} (mode 0600)."
        said = f"List key: {key or 'none (this instance has no list key yet)'}"
        return "\n".join([*self.warnings, done, said]) + "\n"


@dataclass(frozen=True)
class RestoreSummary:
    manifest: dict[str, Any]
    list_key_fingerprint: str | None
    audit: VerifyReport
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        made = f"made {self.manifest['created_at']} by Lockstep {self.manifest['lockstep']}"
        lines = [*self.warnings, f"Restored the backup {made}."]
        lines.append(f"List key: {self.list_key_fingerprint or 'none in this backup'}")
        if self.audit.ok:
            lines.append(f"audit log OK: {self.audit.checked} events, chain intact")
        else:
            lines.append(f"audit log BROKEN after checking {self.audit.checked} events:")
            lines.extend(f"  - {problem}" for problem in self.audit.problems)
        return "\n".join(lines) + "\n"


def _write_private(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ARCHIVE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def make_backup(destination: Path, *, now: datetime) -> BackupSummary:
    """Write the database, the secret key and the list key into `destination` (mode 0600)."""
    if destination.exists():
        msg = f"{destination} already exists; choose another name (a backup never overwrites)"
        raise BackupError(msg)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".lockstep-backup-") as tmp:
        folder = Path(tmp)
        dump = dump_database(folder)
        files = {
            dump.member: dump.path,
            SECRET_MEMBER: _write_private(folder / SECRET_MEMBER, settings.SECRET_KEY.encode()),
        }
        fingerprint, warnings = None, []
        if key_path().exists():
            secret = key_path().read_bytes()
            fingerprint = key_fingerprint(secret.decode("ascii"))
            files[LIST_KEY_MEMBER] = _write_private(folder / LIST_KEY_MEMBER, secret)
        else:
            warnings.append(f"warning: the list key file {key_path()} does not exist")
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "lockstep": importlib.metadata.version("lockstep"),
            "created_at": now.isoformat(),
            "database": {"member": dump.member, **dump.details},
            "list_key_fingerprint": fingerprint,
        }
        write_archive(destination, manifest=manifest, files=files, mtime=now.timestamp())
    return BackupSummary(destination, dump.details["vendor"], fingerprint, warnings)


def _check_contents(manifest: dict[str, Any]) -> None:
    """The members a restore needs are listed (their checksums were checked on reading)."""
    database = manifest.get("database")
    members = manifest["members"]
    if (
        not isinstance(database, dict)
        or database.get("member") not in (SQLITE_MEMBER, POSTGRES_MEMBER)
        or database["member"] not in members
        or SECRET_MEMBER not in members
        or not all(isinstance(manifest.get(key), str) for key in ("created_at", "lockstep"))
    ):
        msg = "the manifest does not list a database and a secret key: this is not a full backup"
        raise ArchiveError(msg)


def _refuse_overwrite(folder: Path, manifest: dict[str, Any]) -> None:
    if instance_has_data():
        msg = (
            "this instance already holds data (users or audit events); restore into an empty "
            "one, or add --force to replace everything in it with the backup"
        )
        raise BackupError(msg)
    ours, theirs = key_path(), folder / LIST_KEY_MEMBER
    if ours.exists() and theirs.exists() and sha256_of(ours) != sha256_of(theirs):
        msg = (
            f"the list key file {ours} exists and is not the backup's list key "
            f"({key_fingerprint(ours.read_text('ascii'))} here, "
            f"{manifest['list_key_fingerprint']} in the backup); move it away, or add --force"
        )
        raise BackupError(msg)


def _install(source: Path, target: Path) -> None:
    """Put `source` at `target` with mode 0600, replacing it in one step."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = _write_private(target.with_name(f".{target.name}.restoring"), source.read_bytes())
    partial.replace(target)


def _secret_key_warning(secret: str) -> list[str]:
    configured = os.environ.get("LOCKSTEP_SECRET_KEY", "")
    if not configured or configured == secret:
        return []
    warning = (
        "warning: LOCKSTEP_SECRET_KEY is set and differs from the restored secret key: case "
        "reply addresses and sessions will not match until you set it to the value now in "
        f"{settings.LOCKSTEP_SECRET_KEY_FILE}"
    )
    return [warning]


def _list_key_warning(fingerprint: str | None) -> list[str]:
    """The audit log records each list key made (with its fingerprint): the newest should be
    the one restored."""
    made = AuditEvent.objects.filter(tag=MailTag.LIST_KEY_MADE).order_by("-seq").first()
    if made is None or made.object_id == fingerprint:
        return []
    warning = (
        f"warning: the audit log records {made.object_id} as the newest list key (made "
        f"{made.at:%Y-%m-%d}), but the list key now in place is {fingerprint or 'none'}"
    )
    return [warning]


def restore_backup(source: Path, *, force: bool) -> RestoreSummary:
    """Check `source`, then replace this instance's database and keys with its contents."""
    data_dir = Path(settings.DATA_DIR)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".lockstep-restore-") as tmp:
        folder = Path(tmp)
        manifest = read_archive(source, folder)
        _check_contents(manifest)
        if not force:
            _refuse_overwrite(folder, manifest)
        database = manifest["database"]
        restore_database(folder / database["member"], database)
        secret = (folder / SECRET_MEMBER).read_text("ascii")
        _install(folder / SECRET_MEMBER, Path(settings.LOCKSTEP_SECRET_KEY_FILE))
        if (folder / LIST_KEY_MEMBER).exists():
            _install(folder / LIST_KEY_MEMBER, key_path())
        list_secret_key.cache_clear()
    call_command("migrate", "--noinput", "--verbosity", "0")
    report = verify()
    _record_restore(manifest, audit_ok=report.ok)
    fingerprint = key_fingerprint(key_path().read_text("ascii")) if key_path().exists() else None
    warnings = [*_secret_key_warning(secret), *_list_key_warning(fingerprint)]
    return RestoreSummary(manifest, fingerprint, report, warnings)


@transaction.atomic
def _record_restore(manifest: dict[str, Any], *, audit_ok: bool) -> None:
    record(
        InstanceTag.RESTORED,
        actor=Actor.system("restore"),
        object_type="backup",
        object_id=manifest["created_at"],
        data={
            "lockstep": manifest["lockstep"],
            "database": manifest["database"]["vendor"],
            "list_key": manifest["list_key_fingerprint"],
            "audit_ok": audit_ok,
        },
    )
