"""gunicorn's configuration for `lockstep web` and `serve` (`--config python:config.gunicorn`).

What it changes, and why:

* No `Server:` banner. gunicorn writes `Server: gunicorn` on every answer and has no setting
  to leave it out, so the response's default headers are filtered here, once, in the master
  process before it forks its workers. A banner only helps whoever looks for a known hole.
* The access log never holds a reporter's tracking token (`/track/<token>/` is the key to a
  report): `AccessLogger` redacts it from every value a log format can print (request line,
  path, referrer, headers, environment).

The command line (lockstep/cli.py) still sets the bind address, workers and log file.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger
from gunicorn.http import wsgi
from typing_extensions import override

from lockstep.core.redaction import redact_tracking_tokens

_default_headers = wsgi.Response.default_headers


def _headers_without_server(response: Any) -> list[str]:  # noqa: ANN401 - gunicorn's Response
    lines: list[str] = _default_headers(response)
    return [line for line in lines if not line.lower().startswith("server:")]


def hide_server_banner() -> None:
    wsgi.Response.default_headers = _headers_without_server


class AccessLogger(Logger):  # type: ignore[misc] # gunicorn has no type hints
    """gunicorn's logger, with tracking tokens redacted from every access-log atom."""

    @override
    def atoms(
        self,
        resp: Any,
        req: Any,
        environ: dict[str, Any],
        request_time: Any,
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_tracking_tokens(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


hide_server_banner()
logger_class = "config.gunicorn.AccessLogger"
