"""The database in a backup: a consistent copy taken while Lockstep runs, and put back.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page under one read
transaction, so the copy is the database as of one moment even while the web server and the
worker write (in WAL mode writers do not wait for it). Restoring runs the same API the other
way, into the instance's database, so the file and its WAL stay consistent.

PostgreSQL: `pg_dump --format=custom` reads under one snapshot (consistent while the
application writes) and `pg_restore --clean --if-exists --no-owner` puts it back in one
transaction. Both connect as the application does (settings.DATABASES), with the password
passed in the environment, never on the command line. `pg_dump` refuses servers newer than
itself and `pg_restore` archives from a newer `pg_dump`, so the versions are checked first
and the error says which client to install.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from lockstep.accounts.models import User
from lockstep.audit.models import AuditEvent
from lockstep.instance.archive import BackupError

SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
# Connection OPTIONS that libpq also reads from the environment.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


@dataclass(frozen=True)
class Dump:
    member: str  # its name in the archive
    path: Path
    details: dict[str, Any]  # for the manifest: vendor, versions


def dump_database(folder: Path) -> Dump:
    """A consistent copy of the instance's database, written into `folder`."""
    if connection.vendor == "sqlite":
        target = folder / SQLITE_MEMBER
        _sqlite_copy(target)
        details = {"vendor": "sqlite", "sqlite_version": sqlite3.sqlite_version}
        return Dump(SQLITE_MEMBER, target, details)
    if connection.vendor == "postgresql":
        target = folder / POSTGRES_MEMBER
        return Dump(POSTGRES_MEMBER, target, _pg_dump(target))
    msg = f"backups of {connection.vendor} databases are not supported"
    raise BackupError(msg)


def restore_database(path: Path, details: dict[str, Any]) -> None:
    """Replace the instance's database with the dump at `path`."""
    vendor = details.get("vendor")
    if vendor != connection.vendor:
        msg = (
            f"this backup holds a {vendor} database but this instance uses {connection.vendor}; "
            "restore it into an instance configured like the one that made it"
        )
        raise BackupError(msg)
    if vendor == "sqlite":
        _sqlite_restore(path)
    else:
        _pg_restore(path, made_by=int(details.get("pg_dump_major", 0)))
    connection.close()


def instance_has_data() -> bool:
    """Whether the database holds anything worth keeping (every change writes an audit row)."""
    tables = set(connection.introspection.table_names())
    return any(
        model.objects.exists()
        for model in (AuditEvent, User)
        if model._meta.db_table in tables  # noqa: SLF001 - Django's public Options API
    )


def _sqlite_copy(target: Path) -> None:
    connection.ensure_connection()
    with closing(sqlite3.connect(target)) as copy:
        connection.connection.backup(copy)


def _sqlite_restore(source: Path) -> None:
    connection.close()
    connection.ensure_connection()
    with closing(sqlite3.connect(source)) as dump:
        dump.backup(connection.connection)


def _pg_env() -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    wanted = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
    }
    options: dict[str, Any] = database.get("OPTIONS", {})
    wanted.update({name: options.get(option) for option, name in _LIBPQ_OPTIONS.items()})
    env.update({name: str(value) for name, value in wanted.items() if value})
    return env


def _pg_tool(name: str) -> tuple[str, int]:
    """The path of a PostgreSQL client program and its major version."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} was not found on PATH: install the PostgreSQL client (postgresql-client)"
        raise BackupError(msg)
    said = subprocess.run(  # noqa: S603 - a fixed program found on PATH, no shell
        [path, "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"(\d+)(?:\.\d+)*", said)
    if found is None:
        msg = f"cannot tell the version of {path} from {said.strip()!r}"
        raise BackupError(msg)
    return path, int(found.group(1))


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        row = cursor.fetchone()
    return int(row[0]) // 10000


def _run(argv: list[str], *, what: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed arguments, no shell; see _pg_tool
        argv, env=_pg_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        msg = f"{what} failed (exit {done.returncode}): {done.stderr.strip()}"
        raise BackupError(msg)


def _pg_dump(target: Path) -> dict[str, Any]:
    pg_dump, client = _pg_tool("pg_dump")
    server = _server_major()
    if client < server:
        msg = (
            f"{pg_dump} is version {client} but the database server is PostgreSQL {server}: "
            f"pg_dump cannot dump a newer server. Install postgresql-client-{server} and put "
            "its pg_dump first on PATH"
        )
        raise BackupError(msg)
    name = str(settings.DATABASES["default"]["NAME"])
    argv = [pg_dump, "--format=custom", "--no-password", f"--file={target}", f"--dbname={name}"]
    _run(argv, what="pg_dump")
    return {"vendor": "postgresql", "server_major": server, "pg_dump_major": client}


def _pg_restore(source: Path, *, made_by: int) -> None:
    pg_restore, client = _pg_tool("pg_restore")
    if client < made_by:
        msg = (
            f"this backup was made by pg_dump {made_by}, which {pg_restore} (version {client}) "
            f"cannot read: install postgresql-client-{made_by} and put it first on PATH"
        )
        raise BackupError(msg)
    connection.close()
    name = str(settings.DATABASES["default"]["NAME"])
    argv = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={name}",
        str(source),
    ]
    _run(argv, what="pg_restore")
