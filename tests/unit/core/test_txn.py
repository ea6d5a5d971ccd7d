"""Work after the commit: queued by task path, only if the transaction commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from lockstep.core.txn import after_commit, on_commit_enqueue, task_at
from lockstep.cve.tasks import publish_cve_records

pytestmark = pytest.mark.django_db
LATER = datetime(2030, 1, 2, 14, 0, tzinfo=UTC)


def test_a_path_names_its_task_or_is_refused() -> None:
    assert task_at("lockstep.cve.tasks.publish_cve_records") is publish_cve_records
    with pytest.raises(TypeError, match="not a task"):
        task_at("lockstep.cve.tasks.next_due")
    with pytest.raises(ImportError):
        task_at("lockstep.cve.tasks.no_such_task")


def test_the_task_is_queued_after_the_commit_with_its_arguments(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        on_commit_enqueue("lockstep.mailin.tasks.process_inbound", 42)
        on_commit_enqueue("lockstep.cve.tasks.publish_cve_records", run_after=LATER)
    assert not DBTaskResult.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    queued = {row.task_path.rsplit(".", 1)[-1]: row for row in DBTaskResult.objects.all()}
    assert queued["process_inbound"].args_kwargs == {"args": [42], "kwargs": {}}
    assert queued["publish_cve_records"].run_after == LATER


class Undone(Exception):
    pass


@transaction.atomic
def _queue_then_fail(calls: list[int]) -> None:
    after_commit(calls.append, 1)
    on_commit_enqueue("lockstep.mailin.tasks.process_inbound", 1)
    raise Undone


def test_a_rolled_back_transaction_starts_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    calls: list[int] = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Undone):
            _queue_then_fail(calls)
        after_commit(calls.append, 2)
    assert len(callbacks) == 1
    assert calls == [2]
    assert not DBTaskResult.objects.exists()
