"""What gunicorn itself says, under `lockstep serve` (config/gunicorn.py): no `Server:` banner,
and no reporter's tracking token in the access log or Django's request log."""

from __future__ import annotations

import http.client
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.flows.test_serve import served as served  # noqa: PLC0414 - a fixture
from tests.flows.test_serve import wait_healthy

pytestmark = pytest.mark.slow
TOKEN = "Zq3-secret-tracking-token-of-a-reporter-0123456789"


def _get(base: str, path: str) -> http.client.HTTPResponse:
    address = urlparse(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    connection.request("GET", path, headers={"Referer": f"{base}/track/{TOKEN}/"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


def test_no_server_banner_and_no_tracking_token_in_the_logs(
    served: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    _process, base, tmp_path = served
    wait_healthy(base)
    for path in ("/login/", "/api/v1/advisories", "/static/web/lockstep.css"):
        answer = _get(base, path)
        assert answer.status == 200, path
        assert answer.getheader("Server") is None, path
        assert answer.getheader("Content-Security-Policy"), path
    assert _get(base, f"/track/{TOKEN}/").status == 404
    assert _get(base, f"/api/v1/track/{TOKEN}?x=1").status == 404

    log = tmp_path / "serve.log"
    deadline = time.monotonic() + 10
    # Wait for gunicorn's access line itself: Django's own "Not Found" line comes first.
    access = '"GET /api/v1/track/[redacted]?x=1 HTTP/1.1" 404'
    while access not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    text = log.read_text()
    assert '"GET /track/[redacted]/ HTTP/1.1" 404' in text
    assert access in text
    assert "Not Found: /track/[redacted]/" in text  # Django's request log
    assert TOKEN not in text
