"""The instance says (once per process, and on /healthz) when it is reached at another address
than LOCKSTEP_BASE_URL, the one in every link it gives out."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from lockstep.monitoring import reach
from lockstep.monitoring.reach import BaseUrlCheck, BaseUrlCheckMiddleware, origin_of


@pytest.fixture
def check(monkeypatch: pytest.MonkeyPatch) -> BaseUrlCheck:
    """A process that has seen no request yet."""
    fresh = BaseUrlCheck()
    monkeypatch.setattr(reach, "CHECK", fresh)
    return fresh


def _ok(_request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("HTTPS://Lockstep.Example.org:443/cvd/", "https://lockstep.example.org"),
        ("http://lockstep.example.org:80", "http://lockstep.example.org"),
        ("http://[::1]:8101/", "http://[::1]:8101"),
        ("http://host:port", "http://host:port"),
    ],
)
def test_origins_compare_without_default_ports_case_or_path(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_a_request_on_another_port_is_logged_once(
    check: BaseUrlCheck, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.LOCKSTEP_BASE_URL = "http://127.0.0.1:8000"
    middleware = BaseUrlCheckMiddleware(_ok)
    assert check.status(configured=settings.LOCKSTEP_BASE_URL)["status"] == "unchecked"
    factory = RequestFactory()
    with caplog.at_level(logging.WARNING, logger="lockstep.monitoring.reach"):
        middleware(factory.get("/healthz", HTTP_HOST="127.0.0.1:8101"))  # probes: not counted
        assert not caplog.records
        for path in ("/", "/report/", "/advisories/"):
            assert middleware(factory.get(path, HTTP_HOST="127.0.0.1:8101")).status_code == 200
    (record,) = caplog.records
    assert record.levelname == "WARNING"
    message = record.getMessage()
    assert "reached as http://127.0.0.1:8101" in message
    assert "LOCKSTEP_BASE_URL is http://127.0.0.1:8000" in message
    assert check.status(configured=settings.LOCKSTEP_BASE_URL) == {
        "status": "mismatch",
        "configured": "http://127.0.0.1:8000",
        "reached_as": "http://127.0.0.1:8101",
    }


def test_the_right_address_and_a_proxys_https_are_no_mismatch(
    check: BaseUrlCheck, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.LOCKSTEP_BASE_URL = "https://lockstep.example.org/cvd"
    settings.ALLOWED_HOSTS = ["lockstep.example.org"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    middleware = BaseUrlCheckMiddleware(_ok)
    proxied = RequestFactory().get(
        "/", HTTP_HOST="lockstep.example.org", HTTP_X_FORWARDED_PROTO="https"
    )
    with caplog.at_level(logging.WARNING, logger="lockstep.monitoring.reach"):
        middleware(proxied)
        middleware(RequestFactory().get("/", HTTP_HOST="not-allowed.example"))  # Django's 400
    assert not caplog.records
    assert check.status(configured=settings.LOCKSTEP_BASE_URL) == {
        "status": "ok",
        "configured": "https://lockstep.example.org",
    }


@pytest.mark.django_db
def test_healthz_shows_what_this_process_saw(
    check: BaseUrlCheck, settings: Any, client: Client
) -> None:
    settings.LOCKSTEP_BASE_URL = "http://127.0.0.1:8000"
    assert client.get("/healthz").json()["base_url"]["status"] == "unchecked"
    client.get("/advisories/", HTTP_HOST="127.0.0.1:8000")
    assert client.get("/healthz").json()["base_url"]["status"] == "ok"
    client.get("/advisories/", HTTP_HOST="localhost:8101")
    body = client.get("/healthz").json()
    assert body["base_url"] == {
        "status": "mismatch",
        "configured": "http://127.0.0.1:8000",
        "reached_as": "http://localhost:8101",
    }
    assert body["status"] != "down"
