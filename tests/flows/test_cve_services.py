"""CVE IDs through CVE Services: cvelib's real client against the fake service on 127.0.0.1.

Reserve, hold the record, publish it at the date (retrying 503s, holding refusals with their
reason), reject, update; and, on PostgreSQL, many reservations and publishers at once.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import CaseAccess, access_case_by_id
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied
from lockstep.cve.actions.records import do_hold_cve_record, publish_due_records
from lockstep.cve.actions.rejecting import reject_cve, update_cve_record
from lockstep.cve.actions.reserving import do_record_reserved_cve, reserve_cve
from lockstep.cve.client import CveAuthorityError
from lockstep.cve.models import CveId, CveSource, CveState
from lockstep.cve.tasks import next_due, publish_cve_records
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.fakes.cve_services import FakeCveServices, sample_record, serve, settings_for

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
RECORD = sample_record(date_public="2026-12-02T14:00:00Z")
PUBLISH = r"/api/cve/CVE-2026-\d+/cna"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def fake(clock: time_machine.Coordinates, settings: Any) -> Iterator[FakeCveServices]:
    with serve() as service:
        for name, value in settings_for(service).items():
            setattr(settings, name, value)
        yield service


@pytest.fixture
def world(fake: FakeCveServices) -> CaseWorld:
    return build_case_world()


def lead(world: CaseWorld) -> tuple[CaseAccess, Actor]:
    actor = actor_for(world.maintainer)
    return access_case_by_id(actor, world.case.pk), actor


def vuln(world: CaseWorld, title: str = "Heap overflow in inflate()") -> Vulnerability:
    access, actor = lead(world)
    return do_add_vulnerability(access, VulnerabilityInput(title=title), actor=actor)


def tags() -> list[str]:
    return list(
        AuditEvent.objects.filter(tag__startswith="cve:")
        .order_by("seq")
        .values_list("tag", flat=True)
    )


def held(world: CaseWorld) -> CveId:
    access, actor = lead(world)
    cve = reserve_cve(access, vuln(world), actor=actor)
    return do_hold_cve_record(cve, RECORD, due_at=DUE, actor=actor)


def test_reserve_through_cve_services(world: CaseWorld, fake: FakeCveServices) -> None:
    access, actor = lead(world)
    heap = vuln(world)
    cve = reserve_cve(access, heap, actor=actor)
    assert (cve.cve_id, cve.source, cve.state) == ("CVE-2026-20000", CveSource.SERVICES, "reserved")
    assert (cve.vulnerability, cve.number) == (heap, 20000)
    assert fake.ids["CVE-2026-20000"].state == "RESERVED"
    event = AuditEvent.objects.get(tag="cve:id:reserved")
    assert event.data == {
        "cve_id": "CVE-2026-20000",
        "source": "services",
        "vulnerability": heap.pk,
    }
    fake.fail_next(1)
    with pytest.raises(CveAuthorityError, match="503") as down:
        reserve_cve(access, actor=actor)
    assert down.value.retryable
    vendor = actor_for(world.vendor_user)
    asked = fake.count("POST", "/api/cve-id")
    with pytest.raises(PermissionDenied):
        reserve_cve(access_case_by_id(vendor, world.case.pk), actor=vendor)
    with pytest.raises(Conflict, match="one CVE ID per vulnerability"):
        reserve_cve(access, heap, actor=actor)  # refused before an ID is spent
    assert fake.count("POST", "/api/cve-id") == asked
    assert CveId.objects.count() == 1
    assert tags() == ["cve:id:reserved"]


def test_recording_a_reserved_id(world: CaseWorld) -> None:
    access, actor = lead(world)
    heap = vuln(world)
    first = do_record_reserved_cve(access, heap, "CVE-2026-1234", actor=actor)
    with pytest.raises(Conflict, match="CVE-2026-1234 is already recorded here"):
        do_record_reserved_cve(access, None, "CVE-2026-1234", actor=actor)
    # The vulnerability got an ID meanwhile: CVE Services already handed this one out, so it
    # is kept for the case, unassigned, rather than forgotten.
    late = do_record_reserved_cve(access, heap, "CVE-2026-1235", actor=actor)
    assert (late.vulnerability, late.case, first.vulnerability) == (None, world.case, heap)
    huge = do_record_reserved_cve(access, None, "CVE-2026-" + "9" * 19, actor=actor)
    assert huge.number is None
    foreign = vuln(build_case_world(tag="-2"))
    with pytest.raises(NotFound):
        do_record_reserved_cve(access, foreign, "CVE-2026-1236", actor=actor)


def test_held_record_goes_out_at_its_date(
    world: CaseWorld, fake: FakeCveServices, clock: time_machine.Coordinates
) -> None:
    cve = held(world)
    assert publish_due_records(START).handled == 0
    clock.move_to(DUE - timedelta(minutes=1))
    assert publish_due_records(DUE - timedelta(minutes=1)).handled == 0
    assert fake.count("POST", PUBLISH) == 0  # nothing reaches the service before the date
    clock.move_to(DUE)
    assert publish_due_records(DUE).published == 1
    assert fake.published_record(cve.cve_id) == RECORD  # exactly what was held
    row = CveId.objects.get(pk=cve.pk)
    assert (row.state, row.published_at, row.attempts, row.last_error) == (
        CveState.PUBLISHED,
        DUE,
        1,
        "",
    )
    assert publish_due_records(DUE + timedelta(hours=1)).handled == 0
    assert fake.count("POST", PUBLISH) == 1
    assert tags() == ["cve:id:reserved", "cve:record:held", "cve:record:published"]


def test_503s_are_retried_with_backoff(
    world: CaseWorld, fake: FakeCveServices, clock: time_machine.Coordinates
) -> None:
    cve = held(world)
    fake.fail_next(2)
    clock.move_to(DUE)
    assert publish_cve_records.call() == {"published": 0, "retrying": 1, "stopped": 0}
    row = CveId.objects.get(pk=cve.pk)
    assert (row.attempts, row.next_attempt_at) == (1, DUE + timedelta(minutes=1))
    assert "503 SERVICE_UNAVAILABLE" in row.last_error
    assert DBTaskResult.objects.get().run_after == DUE + timedelta(minutes=1)  # comes back
    assert publish_due_records(DUE + timedelta(seconds=30)).handled == 0
    second = DUE + timedelta(minutes=1)
    clock.move_to(second)
    assert publish_due_records(second).retrying == 1
    row = CveId.objects.get(pk=cve.pk)
    assert (row.attempts, row.next_attempt_at) == (2, second + timedelta(minutes=5))
    assert row.held
    assert not row.needs_attention
    third = second + timedelta(minutes=5)
    clock.move_to(third)
    assert publish_due_records(third).published == 1
    row = CveId.objects.get(pk=cve.pk)
    assert (row.state, row.attempts, row.last_error, row.published_at) == (
        CveState.PUBLISHED,
        3,
        "",
        third,
    )
    assert fake.published_record(cve.cve_id) == RECORD
    assert tags()[-3:] == ["cve:record:failed", "cve:record:failed", "cve:record:published"]
    failure = AuditEvent.objects.filter(tag="cve:record:failed").first()
    assert failure is not None
    assert failure.data["retryable"] is True
    assert failure.data["next_attempt_at"] == "2026-12-02T14:01:00Z"


def test_a_refusal_is_held_with_its_reason_not_retried(
    world: CaseWorld, fake: FakeCveServices, clock: time_machine.Coordinates
) -> None:
    cve = held(world)
    fake.ids[cve.cve_id].owning_cna = "other-cna"
    clock.move_to(DUE)
    summary = publish_due_records(DUE)
    assert (summary.stopped, summary.retrying) == (1, 0)
    assert "403 NOT_OWNER_CNA" in summary.errors[0]
    row = CveId.objects.get(pk=cve.pk)
    assert row.needs_attention
    assert (row.state, row.next_attempt_at, row.attempts) == (CveState.RESERVED, None, 1)
    assert "CVE Services refused to publish" in row.last_error
    assert next_due() is None  # nothing to come back for
    later = DUE + timedelta(days=1)
    clock.move_to(later)
    assert publish_due_records(later).handled == 0
    assert fake.count("POST", PUBLISH) == 1
    # Someone sorts it out and holds the record again: it goes out on the next run.
    fake.ids[cve.cve_id].owning_cna = fake.org
    _, actor = lead(world)
    do_hold_cve_record(cve, RECORD, due_at=later, actor=actor)
    assert publish_due_records(later).published == 1
    assert fake.published_record(cve.cve_id) == RECORD


def test_network_and_configuration_trouble_is_retried(
    world: CaseWorld, settings: Any, clock: time_machine.Coordinates
) -> None:
    cve = held(world)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = settings.LOCKSTEP_CVE_API_URL
        settings.LOCKSTEP_CVE_API_URL = f"http://127.0.0.1:{probe.getsockname()[1]}/api/"
        clock.move_to(DUE)
        assert publish_due_records(DUE).retrying == 1
    assert "could not be reached" in CveId.objects.get(pk=cve.pk).last_error
    settings.LOCKSTEP_CVE_API_URL = url
    settings.LOCKSTEP_CVE_API_KEY = ""
    clock.move_to(DUE + timedelta(minutes=1))
    assert publish_due_records(DUE + timedelta(minutes=1)).retrying == 1
    assert "set LOCKSTEP_CVE_API_KEY" in CveId.objects.get(pk=cve.pk).last_error
    settings.LOCKSTEP_CVE_API_KEY = settings_for(FakeCveServices())["LOCKSTEP_CVE_API_KEY"]
    clock.move_to(DUE + timedelta(minutes=6))
    assert publish_due_records(DUE + timedelta(minutes=6)).published == 1


def test_reject_and_update_through_cve_services(
    world: CaseWorld, fake: FakeCveServices, clock: time_machine.Coordinates
) -> None:
    access, actor = lead(world)
    spare = reserve_cve(access, actor=actor)
    fake.fail_next(1)
    with pytest.raises(CveAuthorityError, match="503"):
        reject_cve(access, spare, reason="Reserved by mistake.", actor=actor)
    assert CveId.objects.get(pk=spare.pk).state == CveState.RESERVED  # nothing recorded
    assert "cve:id:rejected" not in tags()
    reject_cve(access, spare, reason="Reserved by mistake.", actor=actor)
    assert fake.ids[spare.cve_id].state == "REJECTED"
    assert fake.ids[spare.cve_id].cna["rejectedReasons"] == [  # type: ignore[index]
        {"lang": "en", "value": "Reserved by mistake."}
    ]
    cve = held(world)
    clock.move_to(DUE)
    publish_due_records(DUE)
    changed = sample_record(title="Heap overflow in inflate() (versions corrected)")
    update_cve_record(access, cve, changed, actor=actor)
    assert fake.published_record(cve.cve_id) == changed
    assert CveId.objects.get(pk=cve.pk).record == changed
    reject_cve(access, cve, reason="Not a vulnerability after all.", actor=actor)
    assert fake.ids[cve.cve_id].state == "REJECTED"
    assert tags().count("cve:id:rejected") == 2
    assert tags().count("cve:record:updated") == 1


def test_remote_calls_refuse_to_run_inside_a_transaction(
    world: CaseWorld, fake: FakeCveServices
) -> None:
    access, actor = lead(world)
    cve = reserve_cve(access, actor=actor)
    calls: list[Callable[[], object]] = [
        lambda: reserve_cve(access, actor=actor),
        lambda: reject_cve(access, cve, reason="x", actor=actor),
    ]
    for call in calls:
        with (
            pytest.raises(RuntimeError, match="must not run inside a transaction"),
            transaction.atomic(),
        ):
            call()
    assert len(fake.requests) == 1


# PostgreSQL: real concurrency (SQLite's in-memory test database cannot be shared by threads).


def postgres_only(test: Callable[..., None]) -> Callable[..., None]:
    marks = (
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="SQLite's in-memory test database cannot be shared by threads; run with "
            "LOCKSTEP_DATABASE_URL=postgres://…",
        ),
        pytest.mark.django_db(transaction=True),
        pytest.mark.usefixtures("audit_head"),
    )
    for mark in marks:
        test = mark(test)
    return test


def _in_threads(count: int, work: Callable[[], object]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run() -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@postgres_only
def test_concurrent_local_reservations_never_share_an_id(
    clock: time_machine.Coordinates, settings: Any
) -> None:
    settings.LOCKSTEP_CVE_MODE = "local"
    settings.LOCKSTEP_CVE_BLOCK = "CVE-2026-50000..CVE-2026-50039"
    access, actor = lead(build_case_world())
    errors = _in_threads(8, lambda: [reserve_cve(access, actor=actor) for _ in range(5)])
    assert errors == []
    ids = sorted(CveId.objects.values_list("cve_id", flat=True))
    assert ids == [f"CVE-2026-{n}" for n in range(50000, 50040)]


@postgres_only
def test_concurrent_publishers_never_push_a_record_twice(
    world: CaseWorld, fake: FakeCveServices, clock: time_machine.Coordinates
) -> None:
    access, actor = lead(world)
    cves = [reserve_cve(access, actor=actor) for _ in range(12)]
    for cve in cves:
        do_hold_cve_record(cve, RECORD, due_at=DUE, actor=actor)
    clock.move_to(DUE)

    def drain() -> None:
        while publish_due_records(DUE, batch=2).handled:
            pass

    assert _in_threads(4, drain) == []
    assert CveId.objects.filter(state=CveState.PUBLISHED).count() == len(cves)
    for cve in cves:
        assert fake.count("POST", f"/api/cve/{cve.cve_id}/cna") == 1
    assert tags().count("cve:record:published") == len(cves)
