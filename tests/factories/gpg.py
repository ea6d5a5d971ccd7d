"""The real GnuPG command line, one home folder per person, for interoperability tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GnuPG:
    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
        self.env = {**os.environ, "GNUPGHOME": str(home)}

    def run(self, *args: str, stdin: bytes = b"") -> bytes:
        cmd = ["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""]
        done = subprocess.run(
            [*cmd, *args], input=stdin, env=self.env, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise AssertionError(done.stderr.decode())
        return done.stdout

    def ok(self, *args: str, stdin: bytes = b"") -> bool:
        try:
            self.run(*args, stdin=stdin)
        except AssertionError:
            return False
        return True

    def generate(self, user_id: str) -> str:
        """A cv25519 key for `user_id`; returns its public armour."""
        self.run("--quick-gen-key", user_id, "future-default", "default", "never")
        return self.run("--armor", "--export", user_id).decode()

    def import_key(self, armored: str) -> None:
        self.run("--import", stdin=armored.encode())

    def sign_encrypt(self, data: bytes, *, signer: str, to: str, compress: bool = True) -> bytes:
        extra = [] if compress else ["--compress-algo", "none"]
        return self.run(
            "--armor",
            "--trust-model",
            "always",
            "--sign",
            "--encrypt",
            *extra,
            "-u",
            signer,
            "-r",
            to,
            stdin=data,
        )
