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

    def log(self, *args: str, stdin: bytes = b"") -> str:
        """What gpg says about its work (stderr, then stdout) for a command that succeeds."""
        cmd = ["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""]
        done = subprocess.run(
            [*cmd, *args], input=stdin, env=self.env, capture_output=True, check=False
        )
        said = (done.stderr + done.stdout).decode("utf-8", "replace")
        if done.returncode != 0:
            raise AssertionError(said)
        return said

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

    def sign_encrypt(
        self,
        data: bytes,
        *,
        signer: str,
        to: str,
        compress: bool = True,
        compress_algo: str = "",
        armor: bool = True,
    ) -> bytes:
        """`gpg --sign --encrypt`; by default compressed as GnuPG chooses (ZLIB or ZIP),
        `compress_algo` ("zip", "zlib", "bzip2", "none") forces one."""
        algo = compress_algo or ("" if compress else "none")
        extra = ["--compress-algo", algo] if algo else []
        return self.run(
            *(["--armor"] if armor else []),
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

    def fingerprint(self, who: str) -> str:
        """The primary key's fingerprint, as gpg prints it (upper-case hex)."""
        colons = self.run("--with-colons", "--list-keys", who).decode()
        return next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr"))

    def stop(self) -> None:
        """Stop this home's gpg-agent (started by the first secret-key operation)."""
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"], env=self.env, check=False, capture_output=True
        )
