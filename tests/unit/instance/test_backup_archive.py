"""The backup archive: owner-only, manifest first, every member checked before anything is used."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from lockstep.instance.archive import (
    MANIFEST,
    ArchiveError,
    BackupError,
    read_archive,
    write_archive,
)

MANIFEST_FIELDS = {"format": "lockstep-backup", "version": 1, "created_at": "2026-01-01T00:00:00"}


def _files(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    (folder / "secret").write_bytes(b"not so secret")
    (folder / "data").write_bytes(bytes(range(256)) * 40)
    return {"secret_key": folder / "secret", "database.sqlite3": folder / "data"}


def _archive(tmp_path: Path, name: str = "backup.tar") -> Path:
    target = tmp_path / name
    write_archive(target, manifest=MANIFEST_FIELDS, files=_files(tmp_path / "in"), mtime=0)
    return target


def _rewrite(source: Path, target: Path, *, skip: str = "", extra: bytes = b"") -> None:
    """Copy a tar member by member, leaving out `skip`, and append `extra` as a member."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for info in old.getmembers():
            if info.name != skip:
                new.addfile(info, old.extractfile(info))
        if extra:
            new.addfile(tarfile.TarInfo("surprise"), io.BytesIO(extra))


@pytest.mark.parametrize("name", ["backup.tar", "backup.tar.gz", "backup.tgz"])
def test_an_archive_is_owner_only_and_reads_back(tmp_path: Path, name: str) -> None:
    archive = _archive(tmp_path, name)
    assert archive.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*partial"))
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == MANIFEST
        assert all(info.mode == 0o600 for info in tar.getmembers())
    out = tmp_path / "out"
    out.mkdir()
    manifest = read_archive(archive, out)
    assert manifest["created_at"] == MANIFEST_FIELDS["created_at"]
    assert set(manifest["members"]) == {"secret_key", "database.sqlite3"}
    assert (out / "secret_key").read_bytes() == b"not so secret"
    assert (out / "database.sqlite3").read_bytes() == bytes(range(256)) * 40


def test_a_backup_never_overwrites(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    with pytest.raises(BackupError, match="already exists"):
        write_archive(archive, manifest=MANIFEST_FIELDS, files={}, mtime=0)


def test_member_names_are_plain(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a member name"):
        write_archive(tmp_path / "x.tar", manifest={}, files={"../x": tmp_path}, mtime=0)


def test_a_changed_byte_is_refused(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    with tarfile.open(archive) as tar:
        offset = tar.getmember("secret_key").offset_data
    data = bytearray(archive.read_bytes())
    data[offset] ^= 0x01
    archive.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ArchiveError, match="secret_key does not match its checksum"):
        read_archive(archive, out)


def test_a_member_the_manifest_does_not_list_is_refused(tmp_path: Path) -> None:
    altered = tmp_path / "altered.tar"
    _rewrite(_archive(tmp_path), altered, extra=b"hello")
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError, match="'surprise', which its manifest does not list"):
        read_archive(altered, tmp_path / "out")


def test_a_missing_member_is_refused(tmp_path: Path) -> None:
    altered = tmp_path / "altered.tar"
    _rewrite(_archive(tmp_path), altered, skip="secret_key")
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError, match="lacks secret_key"):
        read_archive(altered, tmp_path / "out")


def _with_manifest(tmp_path: Path, manifest: bytes, *, name: str = MANIFEST) -> Path:
    target = tmp_path / "odd.tar"
    with tarfile.open(target, "w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return target


@pytest.mark.parametrize(
    ("manifest", "name", "said"),
    [
        (b"{}", "other.json", "does not begin with manifest.json"),
        (b"{not json", MANIFEST, "not valid JSON"),
        (b"[]", MANIFEST, "not a Lockstep backup manifest"),
        (json.dumps({"format": "lockstep-backup", "version": 9}).encode(), MANIFEST, "version 9"),
        (
            json.dumps({"format": "lockstep-backup", "version": 1, "members": {"../x": {}}}),
            MANIFEST,
            "shape",
        ),
        (b" " * (64 * 1024 + 1), MANIFEST, "too large"),
    ],
)
def test_what_is_not_a_lockstep_manifest_is_refused(
    tmp_path: Path, manifest: bytes | str, name: str, said: str
) -> None:
    raw = manifest.encode() if isinstance(manifest, str) else manifest
    with pytest.raises(ArchiveError, match=said):
        read_archive(_with_manifest(tmp_path, raw, name=name), tmp_path)


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 100])
def test_what_is_not_an_archive_is_refused(tmp_path: Path, content: bytes) -> None:
    target = tmp_path / "junk.tar"
    target.write_bytes(content)
    with pytest.raises(ArchiveError):
        read_archive(target, tmp_path)


def test_a_cut_archive_is_refused(tmp_path: Path) -> None:
    archive = _archive(tmp_path, "backup.tar.gz")
    archive.write_bytes(archive.read_bytes()[:-200])
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError, match="damaged"):
        read_archive(archive, tmp_path / "out")
