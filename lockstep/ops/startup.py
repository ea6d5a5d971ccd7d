"""What a Lockstep process does before it serves: its data folder, the secrets in it, static files.

`LOCKSTEP_DATA_DIR` holds the SQLite database (every embargoed report and post), the
generated secret key (it forges sessions) and the list key (it decrypts mail to every list).
Nobody else on the machine may read them: the folder is made with mode 0700 when it does not
exist yet, and Lockstep's processes run with umask 077 (`lockstep.cli`), so what they create
is their user's alone. An existing folder keeps its mode (an operator may have chosen it), but
the secret files in it are brought back to owner-only at each start: older versions left the
database 0644 in a 0755 folder.

Static files are collected by every `lockstep serve` and `lockstep web` (WhiteNoise serves them
by a manifest that only collectstatic writes); when nothing changed that takes under a second.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

logger = logging.getLogger(__name__)

PRIVATE_FOLDER = 0o700
OTHERS = 0o077  # the group's and others' permission bits
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def secret_files() -> list[Path]:
    """The files that must never be readable by another local user."""
    files = [Path(settings.DATA_DIR) / "secret_key", Path(settings.LOCKSTEP_LIST_KEY_FILE)]
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        name = Path(database["NAME"])
        files += [name, *(name.with_name(name.name + side) for side in SQLITE_SIDE_FILES)]
    return files


def prepare_data_dir() -> None:
    """Create a missing data folder (0700) and take other users' access to the secrets away."""
    folder = Path(settings.DATA_DIR)
    if not folder.exists():
        folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        logger.info("created the data folder %s (mode 0700)", folder)
    for path in secret_files():
        try:
            mode = path.stat().st_mode & 0o777
            if mode & OTHERS:
                path.chmod(mode & ~OTHERS)
                logger.warning("%s was readable by other users; now by its owner only", path)
        except FileNotFoundError:
            continue
        except PermissionError:
            logger.warning("%s is readable by other users and not ours to change", path)


def collect_static() -> None:
    """collectstatic, one process at a time: `lockstep web` processes may start together."""
    folder = Path(settings.DATA_DIR)
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    with (folder / "collectstatic.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file is closed
        call_command("collectstatic", "--noinput", "--verbosity", "0")
