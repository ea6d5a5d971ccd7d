"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def instance(_request: HttpRequest) -> dict[str, str]:
    return {"instance_name": settings.LOCKSTEP_INSTANCE_NAME}
