"""A middleware that reads the database before the view, as a session store or a user lookup
does: an error there never reaches the view's own error handlers."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from lockstep.accounts.models import User


class ReadsTheDatabaseFirst:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("X-Test-Bug"):
            msg = "a bug in a middleware"
            raise RuntimeError(msg)
        User.objects.exists()
        return self.get_response(request)
