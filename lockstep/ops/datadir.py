"""Data at rest: the data folder is its owner's alone (0700), and so is every file in it (0600).

What keeps it so, whatever the umask a process was started with:

* the entry points (`lockstep`, `manage.py`, `config/wsgi.py`) set umask 077 first;
* files Lockstep writes itself are opened with mode 0600 (the secret key, the list key, the
  outbox's copies, restored files), folders it makes with 0700; Django's file storage
  (`FILE_UPLOAD_PERMISSIONS`, `FILE_UPLOAD_DIRECTORY_PERMISSIONS`) says the same;
* SQLite creates its database with the umask's mode and gives the `-wal` and `-shm` files the
  database's mode, so each process takes the group's and others' bits off the database (and
  any side file already there) on its first connection (`keep_sqlite_private`);
* `lockstep serve` and `lockstep web` walk the folder before they serve and warn about any
  path another user could use (`warn_about_loose_modes`): they change nothing but the
  secrets (`lockstep.ops.startup`), since an operator may have chosen a mode on purpose.

Static files are public (every visitor downloads them): the check leaves `STATIC_ROOT` out.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

logger = logging.getLogger(__name__)

PRIVATE_FOLDER = 0o700
OTHERS = 0o077  # the group's and others' permission bits
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
WALK_LIMIT = 10_000  # entries looked at, at most: the check must stay quick on a large outbox
NAMED_AT_MOST = 5  # loose paths named in the log; the rest are counted

_private_databases: set[str] = set()


def sqlite_files(name: Path) -> list[Path]:
    """The database file and the side files SQLite keeps beside it."""
    return [name, *(name.with_name(name.name + side) for side in SQLITE_SIDE_FILES)]


def _take_others_bits_off(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode) and mode & OTHERS:
            path.chmod(stat.S_IMODE(mode) & ~OTHERS)
    except FileNotFoundError:
        return
    except PermissionError:  # not ours: the check at start names it
        return


def keep_sqlite_private(*, connection: BaseDatabaseWrapper, **_: object) -> None:
    """`connection_created`: make an SQLite database (and its side files) owner-only, once
    per file and process. Once the database is 0600, SQLite makes new side files 0600 too."""
    if not isinstance(connection, SQLiteDatabaseWrapper) or connection.is_in_memory_db():
        return
    name = str(connection.settings_dict["NAME"])
    if name in _private_databases:
        return
    for path in sqlite_files(Path(name)):
        _take_others_bits_off(path)
    _private_databases.add(name)


def _modes_below(folder: Path, skip: Path | None) -> Iterator[tuple[Path, int]]:
    """Each path under `folder` with its mode bits, not following links nor entering `skip`."""
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:  # gone, or not ours to read: nothing to say about what is inside
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink() or path == skip:  # a link's own mode means nothing
                continue
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                pending.append(path)
            yield path, stat.S_IMODE(mode)


def loose_paths(
    folder: Path, *, skip: Path | None = None, limit: int = WALK_LIMIT
) -> tuple[list[Path], bool]:
    """Paths under `folder` (itself included) with any group or others bit set, leaving out
    `skip` and symbolic links; and whether the walk stopped at `limit` entries."""
    try:
        top = stat.S_IMODE(folder.stat().st_mode)
    except FileNotFoundError:
        return [], False
    loose = [folder] if top & OTHERS else []
    for seen, (path, mode) in enumerate(_modes_below(folder, skip), start=1):
        if seen > limit:
            return loose, True
        if mode & OTHERS:
            loose.append(path)
    return loose, False


def warn_about_loose_modes() -> list[Path]:
    """Log a warning naming what in the data folder other local users could read or change
    (a few paths, then a count); return every path found."""
    folder = Path(settings.DATA_DIR)
    static = Path(settings.STATIC_ROOT).resolve() if settings.STATIC_ROOT else None
    loose, stopped = loose_paths(folder, skip=static)
    if folder in loose:
        mode = stat.S_IMODE(folder.stat().st_mode)
        logger.warning(
            "the data folder %s has mode %04o: other local users can reach what is in it; "
            "Lockstep keeps it 0700 (chmod 700 %s)",
            folder,
            mode,
            folder,
        )
    files = [path for path in loose if path != folder]
    for path in files[:NAMED_AT_MOST]:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except OSError:
            continue
        logger.warning(
            "%s in the data folder has mode %04o: other local users can use it; Lockstep "
            "keeps files 0600 and folders 0700",
            path,
            mode,
        )
    if len(files) > NAMED_AT_MOST:
        logger.warning(
            "and %d more paths in the data folder %s are open to other users (chmod -R go= %s)",
            len(files) - NAMED_AT_MOST,
            folder,
            folder,
        )
    if stopped:
        logger.info("the data folder check stopped after %d entries", WALK_LIMIT)
    return loose
