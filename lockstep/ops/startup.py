"""What a Lockstep process does before it serves: its data folder, the secrets in it, static files.

`LOCKSTEP_DATA_DIR` holds the SQLite database (every embargoed report and post), the
generated secret key (it forges sessions) and the list key (it decrypts mail to every list).
Nobody else on the machine may read them: the folder is made with mode 0700 when it does not
exist yet, and what Lockstep writes in it is its user's alone (`lockstep.ops.datadir`). An
existing folder keeps its mode (an operator may have chosen it), but the secret files in it
are brought back to owner-only at each start: older versions left the database 0644 in a 0755
folder. `lockstep serve` and `lockstep web` then warn about anything else left open
(`lockstep.ops.datadir.warn_about_loose_modes`).

Static files are collected by every `lockstep serve` and `lockstep web` (WhiteNoise serves them
by a manifest that only collectstatic writes); when nothing changed that takes under a second.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from lockstep.ops.datadir import OTHERS, PRIVATE_FOLDER, sqlite_files

logger = logging.getLogger(__name__)


def secret_files() -> list[Path]:
    """The files that must never be readable by another local user."""
    files = [Path(settings.DATA_DIR) / "secret_key", Path(settings.LOCKSTEP_LIST_KEY_FILE)]
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        files += sqlite_files(Path(database["NAME"]))
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
    lock = os.open(folder / "collectstatic.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        call_command("collectstatic", "--noinput", "--verbosity", "0")
    finally:
        os.close(lock)
