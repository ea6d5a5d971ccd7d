"""Fixed-window rate limits (lockstep/ops/ratelimit.py) and the client address they key on."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory, override_settings

from lockstep.core import clock
from lockstep.core.errors import RateLimited
from lockstep.ops.client import client_address
from lockstep.ops.models import RateLimitBucket
from lockstep.ops.ratelimit import (
    check_rate,
    current_count,
    prune_rate_buckets,
    window_start_of,
)

T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)  # on a minute and an hour boundary


def hit(key: str, now: datetime, *, limit: int = 3, window: int = 60) -> None:
    check_rate(key, limit=limit, window_seconds=window, now=now, prune_chance=0)


@pytest.mark.django_db
def test_the_limit_is_allowed_then_refused() -> None:
    for _ in range(3):
        hit("login:1.2.3.4", T0)
    with pytest.raises(RateLimited) as caught:
        hit("login:1.2.3.4", T0 + timedelta(seconds=20))
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 40  # the window ends at 10:01:00
    assert "40 seconds" in caught.value.message


@pytest.mark.django_db
def test_refused_attempts_still_count() -> None:
    for _ in range(3):
        hit("k", T0)
    for _ in range(2):
        with pytest.raises(RateLimited):
            hit("k", T0)
    assert current_count("k", window_seconds=60, now=T0) == 5


@pytest.mark.django_db
def test_retry_after_is_at_least_one_second() -> None:
    for _ in range(3):
        hit("k", T0)
    with pytest.raises(RateLimited) as caught:
        hit("k", T0 + timedelta(seconds=59, microseconds=999_000))
    assert caught.value.retry_after == 1


@pytest.mark.django_db
def test_a_new_window_starts_a_new_count() -> None:
    with time_machine.travel(T0 + timedelta(seconds=50), tick=False) as traveller:
        for _ in range(3):
            hit("k", clock.now())
        with pytest.raises(RateLimited):
            hit("k", clock.now())
        traveller.shift(10)  # 10:01:00, the next window
        for _ in range(3):
            hit("k", clock.now())
        with pytest.raises(RateLimited):
            hit("k", clock.now())
    assert RateLimitBucket.objects.filter(key="k").count() == 2


@pytest.mark.django_db
def test_keys_are_counted_separately() -> None:
    for _ in range(3):
        hit("report:10.0.0.1", T0)
        hit("report:10.0.0.2", T0)
    with pytest.raises(RateLimited):
        hit("report:10.0.0.1", T0)
    assert current_count("report:10.0.0.2", window_seconds=60, now=T0) == 3
    assert current_count("report:10.0.0.3", window_seconds=60, now=T0) == 0


def test_windows_are_aligned_to_the_epoch() -> None:
    assert window_start_of(T0 + timedelta(minutes=37, seconds=5), 3600) == T0
    assert window_start_of(T0 + timedelta(seconds=59), 60) == T0
    assert window_start_of(T0 + timedelta(seconds=60), 60) == T0 + timedelta(minutes=1)


@pytest.mark.django_db
def test_old_buckets_are_pruned() -> None:
    hit("old", T0 - timedelta(days=2))
    hit("recent", T0 - timedelta(hours=23))
    hit("now", T0)
    assert prune_rate_buckets(T0) == 1
    assert set(RateLimitBucket.objects.values_list("key", flat=True)) == {"recent", "now"}
    assert prune_rate_buckets(T0) == 0


@pytest.mark.django_db
def test_check_rate_prunes_on_some_calls() -> None:
    hit("old", T0 - timedelta(days=2))
    check_rate("k", limit=3, window_seconds=60, now=T0, prune_chance=0)
    assert RateLimitBucket.objects.filter(key="old").exists()
    check_rate("k", limit=3, window_seconds=60, now=T0, prune_chance=1)
    assert not RateLimitBucket.objects.filter(key="old").exists()
    check_rate("k", limit=3, window_seconds=60, now=T0)  # the default chance: either is fine


@pytest.mark.parametrize(
    ("key", "window", "now"),
    [
        ("", 60, T0),
        ("k" * 201, 60, T0),
        ("k", 0, T0),
        ("k", 86401, T0),
        ("k", 60, T0.replace(tzinfo=None)),
    ],
)
def test_bad_arguments_are_refused(key: str, window: int, now: datetime) -> None:
    with pytest.raises(ValueError, match=r"key|window|time zone"):
        check_rate(key, limit=1, window_seconds=window, now=now)


def test_bucket_str() -> None:
    assert str(RateLimitBucket(key="k", window_start=T0, count=2)) == (
        "k @ 2026-11-25T10:00:00+00:00: 2"
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's in-memory test database cannot be shared by threads; run with "
    "LOCKSTEP_DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_count_exactly() -> None:
    threads, calls, limit = 8, 25, 150
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def hammer() -> None:
        try:
            start.wait()
            for _ in range(calls):
                try:
                    check_rate("hammer", limit=limit, window_seconds=3600, now=T0, prune_chance=0)
                except RateLimited:
                    with lock:
                        refused.append(1)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert current_count("hammer", window_seconds=3600, now=T0) == threads * calls
    assert len(refused) == threads * calls - limit


# --- client_address -------------------------------------------------------------------------


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_address(request) == "203.0.113.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own entry is not trusted
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.1"),  # fewer hops than proxies: fall back
        (1, "", "10.0.0.1"),
        (1, "not-an-ip", "10.0.0.1"),
        (1, " 2001:DB8::1 ", "2001:db8::1"),
    ],
)
def test_trusted_proxies_name_the_client(proxies: int, forwarded: str, expected: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(LOCKSTEP_TRUSTED_PROXIES=proxies):
        assert client_address(request) == expected


def test_a_request_without_peer_address() -> None:
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_address(request) == "unknown"
