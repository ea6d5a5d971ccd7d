"""Turning uploaded files into the actions' plain `UploadedFile` values."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile as DjangoUpload

from lockstep.core.uploads import UploadedFile


def read_uploads(files: Iterable[DjangoUpload]) -> list[UploadedFile]:
    return [
        UploadedFile(
            filename=upload.name or "attachment",
            content_type=upload.content_type or "application/octet-stream",
            content=upload.read(),
        )
        for upload in files
    ]
