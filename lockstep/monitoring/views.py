"""GET /metrics, for Prometheus: only for this machine, or for whoever holds the token.

The numbers are not secret in the way a case is, but they describe the instance (how many
cases are overdue, how much mail is held) and cost queries, so by default only a scraper on
the same machine gets them: the connection's peer is a loopback address and no proxy header
says the request came from further away (a TLS proxy on the same machine connects from
127.0.0.1 too, and adds `X-Forwarded-For`). With `LOCKSTEP_METRICS_TOKEN` set, a request
with `Authorization: Bearer <token>` gets them from anywhere. Everyone else gets a 404, as if
there were no such page.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from lockstep.monitoring.metrics import exposition

PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _has_token(request: HttpRequest) -> bool:
    token: str = settings.LOCKSTEP_METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def _is_local(request: HttpRequest) -> bool:
    if any(request.META.get(header) for header in PROXY_HEADERS):
        return False
    try:
        peer = ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return False
    mapped = peer.ipv4_mapped if isinstance(peer, ipaddress.IPv6Address) else None
    return (mapped or peer).is_loopback


def may_scrape(request: HttpRequest) -> bool:
    return _has_token(request) or _is_local(request)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_scrape(request):
        raise Http404
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
