"""The backup archive: a tar (gzip-compressed when its name ends in .gz or .tgz), owner-only.

    manifest.json      always the first member: format, versions, the database, the list key's
                       fingerprint, and the size and SHA-256 of every other member
    database.*         the database dump (see `database.py`)
    secret_key         the instance's secret key (it tags case reply addresses)
    list-key.asc       the list key, if the instance has one

The archive holds secrets, so it is created with mode 0600 before the first byte is written,
under a temporary name that becomes the real one only when it is complete. Reading checks the
manifest first, then streams each member into a folder while hashing it, and refuses the whole
archive on the first surprise: a member the manifest does not name, a link or folder, a
checksum that does not match. Nothing outside that folder is written, so a damaged or altered
archive changes nothing. The checksums catch damage and careless edits, not a forger who
rewrites the manifest too: keep backups where only you can write.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal

FORMAT = "lockstep-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARCHIVE_MODE = 0o600
MAX_MANIFEST_BYTES = 64 * 1024
_MEMBER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why and what to do."""


class ArchiveError(BackupError):
    """The archive is not one Lockstep can trust: damaged, altered, or not a backup at all."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, ARCHIVE_MODE
    return info


def _write_members(
    handle: IO[bytes],
    *,
    compress: bool,
    manifest: bytes,
    files: Mapping[str, Path],
    mtime: float,
) -> None:
    mode: Literal["w:gz", "w"] = "w:gz" if compress else "w"
    with tarfile.open(fileobj=handle, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info(MANIFEST, len(manifest), mtime), io.BytesIO(manifest))
        for name, path in files.items():
            with path.open("rb") as member:
                tar.addfile(_info(name, path.stat().st_size, mtime), member)


def write_archive(
    destination: Path, *, manifest: dict[str, Any], files: Mapping[str, Path], mtime: float
) -> None:
    """Write `files` (member name -> file) with `manifest`, to which their checksums are added."""
    if destination.exists():
        msg = f"{destination} already exists; choose another name (a backup never overwrites)"
        raise BackupError(msg)
    for name in files:
        if not _MEMBER_NAME.fullmatch(name) or name == MANIFEST:
            msg = f"not a member name: {name!r}"
            raise ValueError(msg)
    members = {
        name: {"sha256": sha256_of(path), "size": path.stat().st_size}
        for name, path in files.items()
    }
    body = json.dumps({**manifest, "members": members}, indent=2, sort_keys=True).encode()
    compress = destination.name.endswith((".gz", ".tgz"))
    partial = destination.with_name(f".{destination.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ARCHIVE_MODE)
    try:
        os.fchmod(fd, ARCHIVE_MODE)  # exactly owner read/write, whatever the umask
        with os.fdopen(fd, "wb") as handle:
            _write_members(handle, compress=compress, manifest=body, files=files, mtime=mtime)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _load_manifest(tar: tarfile.TarFile, info: tarfile.TarInfo | None) -> dict[str, Any]:
    if info is None or info.name != MANIFEST or not info.isfile():
        msg = f"the archive does not begin with {MANIFEST}: it is not a Lockstep backup"
        raise ArchiveError(msg)
    if info.size > MAX_MANIFEST_BYTES:
        msg = f"{MANIFEST} is too large to be a Lockstep manifest"
        raise ArchiveError(msg)
    handle = tar.extractfile(info)
    assert handle is not None  # noqa: S101 - a regular file always has content to extract
    try:
        manifest = json.loads(handle.read())
    except ValueError:
        msg = f"{MANIFEST} is not valid JSON: the archive is damaged"
        raise ArchiveError(msg) from None
    _check_manifest(manifest)
    return manifest  # type: ignore[no-any-return]


def _check_manifest(manifest: object) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        msg = f"{MANIFEST} is not a Lockstep backup manifest"
        raise ArchiveError(msg)
    if manifest.get("version") != FORMAT_VERSION:
        msg = (
            f"this backup has format version {manifest.get('version')!r}; this Lockstep reads "
            f"version {FORMAT_VERSION}: restore it with the Lockstep that made it, or a newer one"
        )
        raise ArchiveError(msg)
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(name, str)
        and _MEMBER_NAME.fullmatch(name)
        and isinstance(facts, dict)
        and isinstance(facts.get("sha256"), str)
        for name, facts in members.items()
    ):
        msg = f"{MANIFEST} lists its members in a shape this Lockstep does not know"
        raise ArchiveError(msg)


def _copy_hashing(source: IO[bytes], target: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ARCHIVE_MODE)
    with os.fdopen(fd, "wb") as handle:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def _extract_member(
    tar: tarfile.TarFile, info: tarfile.TarInfo, expected: dict[str, Any], into: Path
) -> None:
    if info.name not in expected or not info.isfile() or (into / info.name).exists():
        msg = f"the archive holds {info.name!r}, which its manifest does not list: it was altered"
        raise ArchiveError(msg)
    handle = tar.extractfile(info)
    assert handle is not None  # noqa: S101 - checked to be a regular file above
    if _copy_hashing(handle, into / info.name) != expected[info.name]["sha256"]:
        msg = (
            f"{info.name} does not match its checksum in the manifest: the archive was damaged "
            "or altered; nothing was restored"
        )
        raise ArchiveError(msg)


def read_archive(source: Path, into: Path) -> dict[str, Any]:
    """Check `source` and extract its members into the (empty, private) folder `into`.

    Returns the manifest; raises `ArchiveError` on the first problem.
    """
    try:
        tar = tarfile.open(source, mode="r:*")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        msg = f"{source} cannot be read as a backup archive ({exc})"
        raise ArchiveError(msg) from None
    try:
        with tar:
            first = tar.next()
            manifest = _load_manifest(tar, first)
            expected: dict[str, Any] = manifest["members"]
            for info in tar:
                if info is not first:
                    _extract_member(tar, info, expected, into)
    except (OSError, tarfile.TarError, EOFError) as exc:
        msg = f"{source} is damaged ({exc}); nothing was restored"
        raise ArchiveError(msg) from None
    missing = sorted(name for name in expected if not (into / name).exists())
    if missing:
        msg = f"the archive lacks {', '.join(missing)}, which its manifest lists: it is incomplete"
        raise ArchiveError(msg)
    return manifest
