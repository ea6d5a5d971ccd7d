"""Every public address comes from one builder, on LOCKSTEP_BASE_URL."""

from __future__ import annotations

from typing import Any

from lockstep.core import links


def test_addresses_are_built_on_the_base_url(settings: Any) -> None:
    settings.LOCKSTEP_BASE_URL = "https://cvd.example.org/lockstep"
    assert links.base_url() == "https://cvd.example.org/lockstep"
    assert links.is_https()
    assert links.absolute("/") == "https://cvd.example.org/lockstep/"
    assert links.case_url(7) == "https://cvd.example.org/lockstep/cases/7/"
    assert links.tracking_url("t0k") == "https://cvd.example.org/lockstep/track/t0k/"
    assert links.advisory_path("LOCKSTEP-2026-0001") == "/advisories/LOCKSTEP-2026-0001/"
    assert links.advisory_url("X") == "https://cvd.example.org/lockstep/advisories/X/"
    assert links.public_post_path("oss", 3) == "/lists/oss/3/"
    assert links.public_post_url("oss", 3) == "https://cvd.example.org/lockstep/lists/oss/3/"
    assert links.list_archive_url("oss") == "https://cvd.example.org/lockstep/lists/oss/"


def test_plain_http_is_not_https(settings: Any) -> None:
    settings.LOCKSTEP_BASE_URL = "http://127.0.0.1:8000"
    assert not links.is_https()
