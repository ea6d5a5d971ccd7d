"""One place that turns domain errors into HTTP answers for the web interface."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from lockstep.core.errors import NotFound, PermissionDenied

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
