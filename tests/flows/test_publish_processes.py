"""Publication with real worker processes (SQLite file or a PostgreSQL database of its own):
a date that passed while no worker ran is published as soon as one starts, and a date that
comes while two workers race is published once, within a couple of seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.flows.test_outbox_sigkill import Deployment, _until, database
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
__all__ = ["database"]

SETUP = """
from datetime import timedelta
from lockstep.cases.models import Case
from lockstep.channels.models import ChannelKind
from lockstep.core import clock
from lockstep.advisories.tasks import plan_case
from tests.factories.cases import build_case_world
from tests.factories.world import ChannelFactory
from lockstep.mailgw.outbound.protect import list_secret_key
list_secret_key()  # as `lockstep serve` does at first start: cases with posts have their key
ChannelFactory(name="oss-security", slug="oss-security", kind=ChannelKind.PUBLIC, policy=None)
overdue = build_case_world(tag="-a").case
soon = build_case_world(tag="-b").case
now = clock.now()
Case.objects.filter(pk=overdue.pk).update(disclosure_at=now - timedelta(minutes=5))
Case.objects.filter(pk=soon.pk).update(disclosure_at=now + timedelta(seconds=SOON))
plan_case(soon.pk)
"""
SOON = 8


def test_overdue_at_start_and_on_time_with_two_racing_workers(
    tmp_path: Path, database: str
) -> None:
    deployment = Deployment(tmp_path, database, free_port())
    deployment.env["PYTHONPATH"] = str(ROOT)  # the setup script uses the test factories
    try:
        deployment.manage("migrate", "--noinput")
        deployment.shell(SETUP.replace("SOON", str(SOON)))
        deployment.start_worker()
        deployment.start_worker()

        def published() -> list[tuple[object, ...]]:
            return deployment.query(
                "SELECT c.title, c.disclosure_at, a.published_at FROM cases_case c "
                "JOIN advisories_advisory a ON a.case_id = c.id ORDER BY c.id"
            )

        _until(lambda: len(published()) == 1, 30, "the overdue case published", deployment)
        _until(lambda: len(published()) == 2, 30 + SOON, "the second case published", deployment)
        time.sleep(2)  # any duplicate would show up now
        rows = published()
        assert len(rows) == 2
        events = deployment.query(
            "SELECT object_id, count(*) FROM audit_auditevent "
            "WHERE tag = 'case:case:published' GROUP BY object_id"
        )
        assert sorted(count for _case, count in events) == [1, 1]
        posts = deployment.query("SELECT count(*) FROM channels_publicpost")
        assert posts == [(2,)]
        _title, date, at = rows[1]
        late = (_aware(at) - _aware(date)).total_seconds()
        assert 0 <= late < 5, deployment.logs()  # never early; promptly (the bench measures it)
    finally:
        deployment.stop_all()


def _aware(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


LANE_SETUP = """
from datetime import timedelta
from lockstep.cases.models import Case
from lockstep.channels.models import ChannelKind
from lockstep.core import clock
from lockstep.advisories.tasks import plan_case
from tests.factories.cases import build_case_world
from tests.factories.world import ChannelFactory
from tests.flows.blocking_tasks import hold
from lockstep.mailgw.outbound.protect import list_secret_key
list_secret_key()
ChannelFactory(name="oss-security", slug="oss-security", kind=ChannelKind.PUBLIC, policy=None)
soon = build_case_world(tag="-lane").case
Case.objects.filter(pk=soon.pk).update(disclosure_at=clock.now() + timedelta(seconds=SOON))
plan_case(soon.pk)
hold.enqueue(60)
"""


def test_a_date_is_published_while_the_main_loop_is_busy(tmp_path: Path, database: str) -> None:
    """One worker process; its main loop takes a task that runs for a minute (a stand-in for a
    long mail delivery): the publication lane still publishes at the date."""
    deployment = Deployment(tmp_path, database, free_port())
    deployment.env["PYTHONPATH"] = str(ROOT)
    try:
        deployment.manage("migrate", "--noinput")
        deployment.shell(LANE_SETUP.replace("SOON", str(SOON)))
        deployment.start_worker()

        def holding() -> bool:
            rows = deployment.query(
                "SELECT status FROM django_tasks_database_dbtaskresult "
                "WHERE task_path LIKE '%blocking_tasks.hold'"
            )
            return rows == [("RUNNING",)]

        _until(holding, 30, "the main loop busy with the long task", deployment)

        def published() -> list[tuple[object, ...]]:
            return deployment.query(
                "SELECT c.disclosure_at, a.published_at FROM cases_case c "
                "JOIN advisories_advisory a ON a.case_id = c.id"
            )

        _until(lambda: len(published()) == 1, 30 + SOON, "the case published", deployment)
        assert holding(), "published only after the long task: no lane of its own"
        date, at = published()[0]
        assert 0 <= (_aware(at) - _aware(date)).total_seconds() < 5, deployment.logs()
    finally:
        deployment.stop_all()
