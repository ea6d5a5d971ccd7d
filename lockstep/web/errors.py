"""One place that turns domain errors into HTTP answers for the web interface."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from html import escape
from typing import ParamSpec

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults

from lockstep.core.errors import NotFound, PermissionDenied
from lockstep.ops.resources import ANSWERS, shortage_of

P = ParamSpec("P")


def domain_errors(
    view: Callable[P, HttpResponse],
) -> Callable[P, HttpResponse]:
    """NotFound -> 404 (the same page whether missing or forbidden); PermissionDenied -> 403."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(*args, **kwargs)
        except NotFound:
            raise Http404 from None
        except PermissionDenied as exc:
            request = args[0]
            assert isinstance(request, HttpRequest)  # noqa: S101 - views take the request first
            return render(request, "web/forbidden.html", {"message": exc.message}, status=403)

    return wrapper


SHORTAGE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler for pages (config/urls.py). A missing database or a full disk gets
    a plain 503 or 507 page with `Retry-After`: no template, no context processor, nothing
    that could need the database that is gone. Any other error: Django's own 500 page."""
    exc = sys.exc_info()[1]
    shortage = shortage_of(exc) if exc is not None else None
    if shortage is None:
        return defaults.server_error(request)
    answer = ANSWERS[shortage]
    title = f"{settings.LOCKSTEP_INSTANCE_NAME} is unavailable"
    page = SHORTAGE_PAGE.format(title=escape(title), message=escape(answer.message))
    response = HttpResponse(page, status=answer.status)
    response["Retry-After"] = str(answer.retry_after)
    return response
