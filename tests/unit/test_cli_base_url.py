"""`lockstep serve` and `lockstep web` make LOCKSTEP_BASE_URL follow --host and --port unless it
is set, and say so when a bind that is not loopback leaves the links' address unknown."""

from __future__ import annotations

import os

import pytest

from lockstep.cli import _settle_base_url, _warn_without_base_url, build_parser


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset for the test, and as before after it (the code under test writes os.environ)."""
    monkeypatch.setenv("LOCKSTEP_BASE_URL", "")
    monkeypatch.delenv("LOCKSTEP_BASE_URL")


@pytest.mark.parametrize(
    ("argv", "derived"),
    [
        (["serve", "--port", "8101"], "http://127.0.0.1:8101"),
        (["web", "--host", "localhost", "--port", "9000"], "http://localhost:9000"),
        (["serve", "--host", "[::1]", "--port", "8101"], "http://[::1]:8101"),
        (["serve"], "http://127.0.0.1:8000"),
    ],
)
def test_a_loopback_bind_gives_its_own_address_quietly(
    argv: list[str], derived: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _settle_base_url(build_parser().parse_args(argv))
    assert os.environ["LOCKSTEP_BASE_URL"] == derived
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("host", "derived"),
    [("0.0.0.0", "http://127.0.0.1:8101"), ("192.0.2.7", "http://192.0.2.7:8101")],
)
def test_a_public_bind_without_the_setting_warns(
    host: str, derived: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _settle_base_url(build_parser().parse_args(["serve", "--host", host, "--port", "8101"]))
    assert os.environ["LOCKSTEP_BASE_URL"] == derived
    err = capsys.readouterr().err
    assert "LOCKSTEP_BASE_URL is not set" in err
    assert f"will say {derived}/" in err


def test_a_configured_address_wins(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCKSTEP_BASE_URL", "https://lockstep.example.org")
    _settle_base_url(build_parser().parse_args(["web", "--host", "0.0.0.0", "--port", "8101"]))
    assert os.environ["LOCKSTEP_BASE_URL"] == "https://lockstep.example.org"
    _warn_without_base_url("worker")
    assert capsys.readouterr().err == ""


def test_a_worker_alone_without_the_setting_warns(capsys: pytest.CaptureFixture[str]) -> None:
    _warn_without_base_url("worker")
    assert "lockstep worker: LOCKSTEP_BASE_URL is not set" in capsys.readouterr().err
