"""GnuPG's Web Key Service client, for the WKD hash as GnuPG computes it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def gpg_wks_client() -> str:
    """gpg-wks-client: in PATH on some systems, in gpgconf's libexecdir on others (Debian)."""
    found = shutil.which("gpg-wks-client")
    if found:
        return found
    gpgconf = shutil.which("gpgconf")
    if gpgconf is None:
        pytest.skip("needs GnuPG (gpgconf)")
    libexec = subprocess.run(
        [gpgconf, "--list-dirs", "libexecdir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    candidate = Path(libexec) / "gpg-wks-client"
    if not candidate.exists():
        pytest.skip("needs gpg-wks-client (Debian: apt-get install gpg-wks-client)")
    return str(candidate)


def gnupg_wkd_hash(address: str) -> str:
    """`gpg-wks-client --print-wkd-hash`: the hash of the address's local part."""
    printed = subprocess.run(
        [gpg_wks_client(), "--print-wkd-hash", address], capture_output=True, text=True, check=True
    )
    return printed.stdout.split()[0]
