"""A dead worker's tasks and outbox claims are taken over by a live one; never a live one's."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from lockstep.core import clock
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.mailgw.outbound.tasks import deliver_outbound
from lockstep.ops import outage
from lockstep.ops.heartbeat import HeartbeatThread, beat, become_worker, mark_stopped, this_worker
from lockstep.ops.models import WorkerHeartbeat
from lockstep.ops.recovery import (
    WORKER_LOST,
    declare_dead,
    recover_lost_work,
    recover_work_of,
)
from lockstep.ops.tasks import ping

pytestmark = pytest.mark.django_db
EARLY = "2026-11-25 10:00:00+00:00"
LATER = "2026-11-25 10:00:40+00:00"  # 40 s: past the 30 s stale time


def _running(value: str, worker_id: str) -> DBTaskResult[Any, Any]:
    row = DBTaskResult.objects.get(pk=ping.enqueue(value).id)
    row.claim(worker_id)
    return row


def _claimed_copy(address: str, worker_id: str) -> OutboundMessage:
    spec = MailSpec(subject="Advisory", body="Patch now.", confidential=False)
    with transaction.atomic():
        (row,) = fan_out(spec, [Recipient(address, plain_ok=True)])
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENDING, claimed_by=worker_id
    )
    return row


def _world() -> None:
    """Worker "dead" beat at EARLY only; "live" beats again at LATER; "gone" stopped itself."""
    with time_machine.travel(EARLY, tick=False):
        for worker_id in ("dead", "live", "gone"):
            beat(worker_id)
        mark_stopped("gone")


def test_only_stale_running_workers_are_declared_dead() -> None:
    _world()
    with time_machine.travel(LATER, tick=False):
        beat("live")
        with transaction.atomic():
            assert declare_dead(clock.now(), judge="judge") == ["dead"]
            assert declare_dead(clock.now(), judge="judge") == []  # already stopped
        assert declare_dead(clock.now(), judge="live") == []
    assert WorkerHeartbeat.objects.get(worker_id="dead").stopped_at is not None


def test_a_dead_workers_task_fails_with_the_reason_and_runs_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    _world()
    lost = _running("lost", "dead")
    kept = _running("kept", "live")
    copy = _claimed_copy("m@example.org", "dead")
    other = _claimed_copy("n@example.org", "live")
    with (
        time_machine.travel(LATER, tick=False),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        beat("live")
        assert recover_lost_work(judge="live") == ["dead"]
        assert recover_lost_work(judge="live") == []  # once
    lost.refresh_from_db()
    assert lost.status == TaskResultStatus.FAILED
    assert lost.exception_class_path == WORKER_LOST
    assert "no heartbeat for 30 s; taken over by worker live" in lost.traceback
    again = DBTaskResult.objects.get(status=TaskResultStatus.READY, task_path=ping.module_path)
    assert again.args_kwargs == {"args": ["lost"], "kwargs": {}}
    kept.refresh_from_db()
    assert kept.status == TaskResultStatus.RUNNING
    copy.refresh_from_db()
    assert (copy.status, copy.claimed_by, copy.claimed_until) == (OutboxStatus.QUEUED, "", None)
    other.refresh_from_db()
    assert (other.status, other.claimed_by) == (OutboxStatus.SENDING, "live")
    assert len(callbacks) == 1  # the delivery that sends the released copy
    assert callbacks[0].__self__ is deliver_outbound  # type: ignore[attr-defined]


def test_a_task_whose_code_is_gone_is_failed_and_not_queued_again() -> None:
    row = _running("x", "me")
    DBTaskResult.objects.filter(pk=row.pk).update(task_path="lockstep.ops.tasks.nowhere")
    assert recover_work_of(["me"], reason="the database connection was lost") == 1
    row.refresh_from_db()
    assert (row.status, row.traceback) == (
        TaskResultStatus.FAILED,
        "the database connection was lost",
    )
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


def test_the_heartbeat_judges_only_after_reaching_the_database_for_the_stale_time(
    settings: Any,
) -> None:
    _world()
    _running("lost", "dead")
    heartbeat = HeartbeatThread("judge", interval=7)
    assert this_worker() == "judge"
    become_worker("")
    with time_machine.travel(LATER, tick=False):
        assert heartbeat.tick() == 7
        assert not heartbeat.may_judge()  # it has just reached the database
        assert WorkerHeartbeat.objects.get(worker_id="dead").stopped_at is None
        settings.LOCKSTEP_WORKER_STALE_SECONDS = 0
        assert heartbeat.may_judge()
        heartbeat.tick()
    assert WorkerHeartbeat.objects.get(worker_id="dead").stopped_at is not None
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_the_heartbeat_writes_what_the_process_saw_of_an_outage() -> None:
    outage.forget()
    try:
        outage.note_unreachable()
        heartbeat = HeartbeatThread("w", interval=7)
        become_worker("")
        assert heartbeat.tick() == 1.0  # quicker beats while the worker waits
        row = WorkerHeartbeat.objects.get(worker_id="w")
        assert row.waiting_since is not None
        outage.note_reachable()
        assert heartbeat.tick() == 7
    finally:
        outage.forget()
    row.refresh_from_db()
    assert row.waiting_since is None
    assert row.last_outage_started_at is not None
    assert row.last_outage_ended_at is not None
