"""A PostgreSQL cluster of a test's own, which the test may stop and start at will.

Made with the server binaries under /usr/lib/postgresql/<version>/bin (Debian's layout) in a
temporary folder, listening on 127.0.0.1 at a free port, trust authentication, no fsync.
`initdb` refuses to run as root, so as root everything runs as the `postgres` OS user
(`runuser`), in a folder that user owns. `skip_reason()` says why a machine cannot do it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.flows.test_serve import free_port

OS_USER = "postgres"


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version)
    return found[-1].parent if found else None


def _version(path: Path) -> int:
    version = path.parent.parent.name
    return int(version) if version.isdigit() else 0


def _as_root() -> bool:
    return os.geteuid() == 0


def skip_reason() -> str:
    """Why no private cluster can be made here ("" if it can)."""
    if _bin_dir() is None:
        return "needs PostgreSQL's server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin"
    if _as_root():
        if shutil.which("runuser") is None:
            return "runs as root: needs runuser to start PostgreSQL as another user"
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"runs as root: needs the {OS_USER!r} OS user (initdb refuses root)"
    return ""


class PrivateCluster:
    def __init__(self) -> None:
        bin_dir = _bin_dir()
        assert bin_dir is not None, skip_reason()
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="lockstep-pg-"))
        if _as_root():
            os.chown(self.root, pwd.getpwnam(OS_USER).pw_uid, -1)
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *argv: str) -> None:
        command = [str(self.bin / program), *argv]
        if _as_root():
            command = ["runuser", "-u", OS_USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E",
            "UTF8", "--locale=C",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w",
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast`: what a restart does (every session is ended, nothing is lost)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
