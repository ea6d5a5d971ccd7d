"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from lockstep.cases.capabilities import Capabilities, capabilities_of
from lockstep.core.actor import from_request


def instance(_request: HttpRequest) -> dict[str, str]:
    return {"instance_name": settings.LOCKSTEP_INSTANCE_NAME}


def capabilities(request: HttpRequest) -> dict[str, object]:
    """`can`: what the navigation offers this person (cases/capabilities.py). Lazy: a page
    that draws no navigation asks the database nothing."""

    def load() -> Capabilities:
        if getattr(request, "user", None) is None:
            return Capabilities()
        return capabilities_of(from_request(request))

    return {"can": SimpleLazyObject(load)}
