"""Whether people reach the instance at the address its links give out.

Every link Lockstep hands out (the reporter's tracking page, mail footers, advisories, the list
posts, the feeds) is built on `LOCKSTEP_BASE_URL` (`core.links`), never on the request's Host.
If the instance is reached elsewhere (another port, or https through a proxy while the setting
still says http://127.0.0.1:8000), every one of those links is wrong, and nothing else would
say so. The middleware compares each request's scheme and host with the setting and logs one
warning per process, the first time they differ; /healthz shows what the answering process saw.

Probes and scrapers (/healthz, /metrics) are left out: they ask the local address on purpose.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

from lockstep.core.links import base_url

logger = logging.getLogger(__name__)

PROBES = frozenset({"/healthz", "/metrics"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of `url`, lower case, without a default port or a path."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: keep what was written, it cannot match anyway
        return f"{scheme}://{parts.netloc.lower()}"
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class Mismatch:
    configured: str
    reached_as: str


class BaseUrlCheck:
    """What this process has seen: nothing yet, only matching requests, or a mismatch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen = False
        self.mismatch: Mismatch | None = None

    def see(self, reached_as: str, *, configured: str) -> Mismatch | None:
        """Note one request; the mismatch if it is the first one (to be told once)."""
        if self.mismatch is not None:
            return None
        expected = origin_of(configured)
        actual = origin_of(reached_as)
        with self._lock:
            self.seen = True
            if actual == expected or self.mismatch is not None:
                return None
            self.mismatch = Mismatch(configured=expected, reached_as=actual)
            return self.mismatch

    def status(self, *, configured: str) -> dict[str, Any]:
        """The /healthz field: "ok", "unchecked" (no request yet) or "mismatch"."""
        if self.mismatch is not None:
            return {
                "status": "mismatch",
                "configured": self.mismatch.configured,
                "reached_as": self.mismatch.reached_as,
            }
        return {"status": "ok" if self.seen else "unchecked", "configured": origin_of(configured)}


CHECK = BaseUrlCheck()  # one per process: gunicorn's workers each keep their own


def warning_text(mismatch: Mismatch) -> str:
    return (
        f"This instance is reached as {mismatch.reached_as}, but LOCKSTEP_BASE_URL is "
        f"{mismatch.configured}: the links Lockstep gives out (the reporter's tracking page, "
        f"mail, advisories, list posts, feeds) point there. Set LOCKSTEP_BASE_URL to the "
        f"address people use; behind a proxy, pass the Host header and X-Forwarded-Proto."
    )


class BaseUrlCheckMiddleware:
    """Logs (once per process) when a request arrives at another address than the links'."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if CHECK.mismatch is None and request.path_info not in PROBES:
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def _check(request: HttpRequest) -> None:
        try:
            host = request.get_host()
        except DisallowedHost:  # CommonMiddleware answers 400 for it
            return
        mismatch = CHECK.see(f"{request.scheme}://{host}", configured=base_url())
        if mismatch is not None:
            logger.warning(warning_text(mismatch))
