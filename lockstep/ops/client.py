"""Who is on the other end of a request, as far as the network can tell."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address, for rate limits and logs.

    `REMOTE_ADDR` is the peer that opened the connection. Behind reverse proxies that is the
    nearest proxy, so `LOCKSTEP_TRUSTED_PROXIES` says how many proxies sit in front of
    Lockstep; each appends the address it received the request from to `X-Forwarded-For`, so
    the client is the entry that many places from the right. Entries further left were
    written by the client itself and are never trusted. With the default, 0, the header is
    ignored. A header with fewer entries than proxies, or an entry that is not an IP address,
    falls back to `REMOTE_ADDR`.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    trusted: int = settings.LOCKSTEP_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if len(hops) < trusted:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-trusted]))
    except ValueError:
        return remote
