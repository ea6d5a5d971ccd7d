"""/healthz reports the database and the workers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from lockstep.ops import outage
from lockstep.ops.heartbeat import beat, mark_stopped
from lockstep.ops.tasks import ping

pytestmark = pytest.mark.django_db


def test_database_ok_worker_down_when_none_ever_ran(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["status"] == "ok"
    assert body["worker"] == {
        "status": "down",
        "alive": 0,
        "waiting_for_database": 0,
        "last_seen": None,
        "last_database_outage": None,
        "queue": {"ready": 0, "oldest_ready_age_seconds": None},
    }


def test_worker_alive_after_a_heartbeat_then_stale(client: Client) -> None:
    with time_machine.travel("2026-11-25 10:00:00+00:00", tick=False):
        beat("w1")
        ping.enqueue("hello")
    with time_machine.travel("2026-11-25 10:00:10+00:00", tick=False):
        body = client.get("/healthz").json()
        assert body["status"] == "ok"
        assert body["worker"]["alive"] == 1
        assert body["worker"]["last_seen"] == "2026-11-25T10:00:00+00:00"
        assert body["worker"]["queue"] == {"ready": 1, "oldest_ready_age_seconds": 10.0}
    with time_machine.travel("2026-11-25 10:01:00+00:00", tick=False):
        body = client.get("/healthz").json()
        assert body["worker"]["status"] == "down"


def test_stopped_worker_is_not_alive(client: Client) -> None:
    beat("w2")
    beat("w2")
    mark_stopped("w2")
    assert client.get("/healthz").json()["worker"]["alive"] == 0


def test_deferred_task_counts_from_its_run_after(client: Client) -> None:
    with time_machine.travel("2026-11-25 09:00:00+00:00", tick=False):
        ping.using(run_after=datetime(2026, 11, 25, 10, 0, tzinfo=UTC)).enqueue("later")
    with time_machine.travel("2026-11-25 09:30:00+00:00", tick=False):
        assert client.get("/healthz").json()["worker"]["queue"]["ready"] == 0
    with time_machine.travel("2026-11-25 10:00:30+00:00", tick=False):
        queue = client.get("/healthz").json()["worker"]["queue"]
        assert queue == {"ready": 1, "oldest_ready_age_seconds": 30.0}


def test_a_worker_waiting_for_the_database_then_the_outage_it_rode_out(client: Client) -> None:
    outage.forget()
    try:
        with time_machine.travel("2026-11-25 10:00:00+00:00", tick=False):
            outage.note_unreachable()
        with time_machine.travel("2026-11-25 10:00:20+00:00", tick=False):
            beat("w3")  # its loop still waits; the beat got through
            worker = client.get("/healthz").json()["worker"]
            assert (worker["status"], worker["alive"], worker["waiting_for_database"]) == (
                "waiting",
                1,
                1,
            )
            assert worker["last_database_outage"] is None
            outage.note_reachable()
            beat("w3")
            body = client.get("/healthz").json()
    finally:
        outage.forget()
    assert body["status"] == "ok"
    assert body["worker"]["waiting_for_database"] == 0
    assert body["worker"]["last_database_outage"] == {
        "started_at": "2026-11-25T10:00:00+00:00",
        "ended_at": "2026-11-25T10:00:20+00:00",
        "seconds": 20.0,
    }
