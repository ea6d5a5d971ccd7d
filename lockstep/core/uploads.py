"""Uploaded files as plain values, and the checks every upload passes before it is stored.

The web form, the API (base64) and mail (attachments) each turn what they received into
`UploadedFile`s; reports and case posts store them (`stored_file_fields` gives the columns
both `StoredFile` models share). Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from lockstep.core import clock
from lockstep.core.errors import ValidationError


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


def check_uploads(files: Sequence[UploadedFile], *, field: str = "attachments") -> None:
    """Refuse too many or too large files before anything is written."""
    limit = settings.LOCKSTEP_MAX_ATTACHMENT_BYTES
    count = settings.LOCKSTEP_MAX_ATTACHMENTS
    if len(files) > count:
        msg = f"At most {count} files at once."
        raise ValidationError(msg, field=field)
    for upload in files:
        if len(upload.content) > limit:
            msg = f"{upload.filename} is larger than the limit of {limit // 1024} KiB."
            raise ValidationError(msg, field=field)


def safe_name(name: str) -> str:
    """The file's own name without any folder, quotes or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
    return "".join(ch for ch in base if ch.isprintable() and ch not in '"\\;')[:255]


def stored_file_fields(upload: UploadedFile) -> dict[str, object]:
    """The `StoredFile` fields for an upload: a safe name, size, digest, and the bytes."""
    return {
        "filename": safe_name(upload.filename),
        "content_type": upload.content_type or "application/octet-stream",
        "size": len(upload.content),
        "sha256": hashlib.sha256(upload.content).hexdigest(),
        "content": upload.content,
        "created_at": clock.now(),
    }
