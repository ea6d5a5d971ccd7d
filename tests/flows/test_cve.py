"""CVE IDs in local mode (this instance is a CNA with its own block): reserve, assign, hold the
record until the date, publish, reject, update; who may; what the dashboard warns about.

CVE Services mode, through the fake service, is in test_cve_services.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django_tasks_db.models import DBTaskResult

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Case, Vulnerability
from lockstep.cases.queries import CaseAccess, access_case_by_id
from lockstep.core.actor import Actor, ActorKind
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.cve.actions.records import (
    PublishSummary,
    claim_due_records,
    do_hold_cve_record,
    do_mark_cve_published,
    do_record_cve_publish_failure,
    publish_due_records,
)
from lockstep.cve.actions.rejecting import do_record_cve_rejected, reject_cve, update_cve_record
from lockstep.cve.actions.reserving import do_assign_cve, reserve_cve
from lockstep.cve.client import CveAuthorityError
from lockstep.cve.models import CveId, CveSource, CveState
from lockstep.cve.queries import access_cve, cve_of_vulnerability, cves_of_case, stale_reserved_for
from lockstep.cve.tasks import next_due, publish_cve_records
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.world import UserFactory
from tests.fakes.cve_services import sample_record

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # the disclosure date
BLOCK = "CVE-2026-50000..CVE-2026-50002,CVE-2027-0100..CVE-2027-0100"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: time_machine.Coordinates, settings: Any) -> CaseWorld:
    settings.LOCKSTEP_CVE_MODE = "local"
    settings.LOCKSTEP_CVE_BLOCK = BLOCK
    return build_case_world()


def lead(world: CaseWorld) -> tuple[CaseAccess, Actor]:
    actor = actor_for(world.maintainer)
    return access_case_by_id(actor, world.case.pk), actor


def vuln(world: CaseWorld, title: str = "Heap overflow in inflate()") -> Vulnerability:
    access, actor = lead(world)
    return do_add_vulnerability(access, VulnerabilityInput(title=title), actor=actor)


def undated(**extra: Any) -> dict[str, Any]:
    """A record without datePublic: it may go out at any time."""
    return sample_record(date_public=None, **extra)


def events(tag_prefix: str = "cve:") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(tag__startswith=tag_prefix).order_by("seq"))


def test_local_reservation_takes_the_block_in_order_until_it_is_used_up(world: CaseWorld) -> None:
    access, actor = lead(world)
    first_vuln = vuln(world)
    first = reserve_cve(access, first_vuln, actor=actor)
    assert (first.cve_id, first.year, first.number) == ("CVE-2026-50000", 2026, 50000)
    assert (first.state, first.source) == (CveState.RESERVED, CveSource.LOCAL)
    assert first.vulnerability == first_vuln
    assert first.case == world.case
    assert first.reserved_at == first.assigned_at == START
    unassigned = reserve_cve(access, actor=actor)
    assert (unassigned.cve_id, unassigned.vulnerability, unassigned.assigned_at) == (
        "CVE-2026-50001",
        None,
        None,
    )
    got = [reserve_cve(access, actor=actor).cve_id for _ in range(2)]
    assert got == ["CVE-2026-50002", "CVE-2027-0100"]  # then another year's range
    with pytest.raises(Conflict, match=r"used up: all 4 IDs of CVE-2026-50000\.\.CVE-2026-50002, "):
        reserve_cve(access, actor=actor)
    reserved = events()
    assert [e.tag for e in reserved] == ["cve:id:reserved"] * 4
    assert (reserved[0].object_type, reserved[0].object_id) == ("case", str(world.case.pk))
    assert reserved[0].data == {
        "cve_id": "CVE-2026-50000",
        "source": "local",
        "vulnerability": first_vuln.pk,
    }
    assert [c.cve_id for c in cves_of_case(world.case)] == [
        "CVE-2026-50000",
        "CVE-2026-50001",
        "CVE-2026-50002",
        "CVE-2027-0100",
    ]


def test_this_years_range_comes_first(world: CaseWorld, clock: time_machine.Coordinates) -> None:
    clock.move_to(datetime(2027, 1, 2, tzinfo=UTC))
    access, actor = lead(world)
    assert reserve_cve(access, actor=actor).cve_id == "CVE-2027-0100"
    assert reserve_cve(access, actor=actor).cve_id == "CVE-2026-50000"


def test_no_block_or_a_broken_one_says_what_to_set(world: CaseWorld, settings: Any) -> None:
    access, actor = lead(world)
    settings.LOCKSTEP_CVE_BLOCK = ""
    with pytest.raises(Conflict, match=r"no block of CVE IDs.*LOCKSTEP_CVE_BLOCK"):
        reserve_cve(access, actor=actor)
    settings.LOCKSTEP_CVE_BLOCK = "CVE-2026-2000..CVE-2026-1000"
    with pytest.raises(ValidationError, match=r"LOCKSTEP_CVE_BLOCK: .* ends before it starts"):
        reserve_cve(access, actor=actor)
    assert not CveId.objects.exists()
    assert not events()


def test_two_reservations_never_get_the_same_id(world: CaseWorld) -> None:
    """SQLite runs one writer at a time, so reservations here are sequential; the unique keys
    are what make a real race (PostgreSQL, test_cve_services.py) safe."""
    access, actor = lead(world)
    first, second = reserve_cve(access, actor=actor), reserve_cve(access, actor=actor)
    assert first.cve_id != second.cve_id
    clash = {"state": CveState.RESERVED, "source": CveSource.LOCAL, "reserved_at": START}
    with pytest.raises(IntegrityError), transaction.atomic():
        CveId.objects.create(cve_id="CVE-2026-050000", year=2026, number=50000, **clash)
    with pytest.raises(IntegrityError), transaction.atomic():
        CveId.objects.create(cve_id=first.cve_id, year=2026, number=None, **clash)


def test_a_clash_on_insert_is_retried_then_reported(world: CaseWorld) -> None:
    """A row the allocator cannot see as taken (here: a number-less duplicate of the next ID)
    makes every insert clash: it gives up after a few tries instead of looping."""
    CveId.objects.create(
        cve_id="CVE-2026-50000",
        year=2026,
        number=None,
        source=CveSource.SERVICES,
        reserved_at=START,
    )
    access, actor = lead(world)
    with pytest.raises(Conflict, match="kept taking the same CVE ID; try again"):
        reserve_cve(access, vuln(world), actor=actor)
    assert CveId.objects.count() == 1


def test_assignment_one_cve_per_vulnerability(world: CaseWorld) -> None:
    access, actor = lead(world)
    heap, race = vuln(world), vuln(world, "Race in close()")
    spare = reserve_cve(access, actor=actor)
    assigned = do_assign_cve(access, spare, heap, actor=actor)
    assert (assigned.vulnerability, assigned.assigned_at) == (heap, START)
    assert cve_of_vulnerability(heap) == assigned
    assert events()[-1].tag == "cve:id:assigned"
    assert events()[-1].data == {"cve_id": spare.cve_id, "vulnerability": heap.pk}
    with pytest.raises(Conflict, match="already has CVE-2026-50000: one CVE ID per vulnerability"):
        reserve_cve(access, heap, actor=actor)
    other = reserve_cve(access, actor=actor)
    with pytest.raises(Conflict, match="one CVE ID per vulnerability"):
        do_assign_cve(access, other, heap, actor=actor)
    with pytest.raises(Conflict, match="already assigned to another vulnerability"):
        do_assign_cve(access, assigned, race, actor=actor)
    reject_cve(access, other, reason="Reserved twice by mistake.", actor=actor)
    with pytest.raises(Conflict, match="is rejected: only a reserved ID can be assigned"):
        do_assign_cve(access, other, race, actor=actor)
    elsewhere = build_case_world(tag="-2")
    foreign = vuln(elsewhere)
    with pytest.raises(NotFound, match="No such vulnerability"):
        do_assign_cve(access, reserve_cve(access, actor=actor), foreign, actor=actor)
    with pytest.raises(NotFound, match="No such vulnerability"):
        reserve_cve(access, foreign, actor=actor)


def test_held_record_is_published_at_its_date_not_before(
    world: CaseWorld, clock: time_machine.Coordinates, django_capture_on_commit_callbacks: Any
) -> None:
    access, actor = lead(world)
    cve = reserve_cve(access, vuln(world), actor=actor)
    record = sample_record(date_public="2026-12-02T14:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        held = do_hold_cve_record(cve, record, due_at=DUE, actor=actor)
    assert (held.record, held.publish_due_at, held.next_attempt_at) == (record, DUE, DUE)
    assert held.held
    assert not held.needs_attention
    scheduled = DBTaskResult.objects.get()
    assert scheduled.task_path.endswith("publish_cve_records")
    assert scheduled.run_after == DUE
    assert publish_due_records(START) == PublishSummary()
    clock.move_to(DUE - timedelta(seconds=1))
    assert publish_due_records(DUE - timedelta(seconds=1)).handled == 0
    assert CveId.objects.get(pk=cve.pk).state == CveState.RESERVED
    clock.move_to(DUE)
    assert publish_due_records(DUE).as_dict() == {"published": 1, "retrying": 0, "stopped": 0}
    published = CveId.objects.get(pk=cve.pk)
    assert (published.state, published.published_at, published.attempts) == (
        CveState.PUBLISHED,
        DUE,
        1,
    )
    assert (published.next_attempt_at, published.claimed_until) == (None, None)
    assert not published.held
    assert publish_due_records(DUE + timedelta(days=1)).handled == 0  # idempotent
    assert [e.tag for e in events()][-2:] == ["cve:record:held", "cve:record:published"]
    assert events()[-1].actor_kind == ActorKind.SYSTEM
    assert events()[-1].data == {
        "cve_id": cve.cve_id,
        "source": "local",
        "due_at": "2026-12-02T14:00:00Z",
        "attempts": 1,
    }


def test_holding_again_replaces_the_record_and_date(world: CaseWorld) -> None:
    access, actor = lead(world)
    cve = reserve_cve(access, actor=actor)
    do_hold_cve_record(cve, sample_record(), due_at=DUE, actor=actor)
    later = DUE + timedelta(days=7)
    changed = sample_record(title="Heap overflow in inflate() and deflate()")
    again = do_hold_cve_record(cve, changed, due_at=later, actor=actor)
    assert (again.record, again.publish_due_at) == (changed, later)
    assert [e.data["replaced"] for e in events("cve:record:held")] == [False, True]
    assert publish_due_records(DUE).handled == 0


def test_hold_refusals(world: CaseWorld) -> None:
    access, actor = lead(world)
    cve = reserve_cve(access, actor=actor)
    with pytest.raises(ValueError, match="due_at must carry a time zone"):
        do_hold_cve_record(cve, sample_record(), due_at=datetime(2026, 12, 2), actor=actor)  # noqa: DTZ001
    with pytest.raises(ValidationError, match="CVE Services refuses a date in the future"):
        do_hold_cve_record(cve, sample_record(), due_at=DUE - timedelta(hours=1), actor=actor)
    with pytest.raises(ValidationError, match="CVE JSON 5 schema"):
        do_hold_cve_record(cve, sample_record(affected=[]), due_at=DUE, actor=actor)
    do_hold_cve_record(cve, undated(), due_at=START, actor=actor)
    publish_due_records(START)
    with pytest.raises(Conflict, match="already published; update its record instead"):
        do_hold_cve_record(cve, sample_record(), due_at=DUE, actor=actor)
    spare = reserve_cve(access, actor=actor)
    reject_cve(access, spare, reason="Not needed.", actor=actor)
    with pytest.raises(Conflict, match="a rejected ID is never published"):
        do_hold_cve_record(spare, sample_record(), due_at=DUE, actor=actor)
    assert [e.tag for e in events("cve:record:")] == ["cve:record:held", "cve:record:published"]


def test_reject_reserved_and_published_ids(
    world: CaseWorld, clock: time_machine.Coordinates
) -> None:
    access, actor = lead(world)
    reserved, published = reserve_cve(access, actor=actor), reserve_cve(access, actor=actor)
    do_hold_cve_record(reserved, sample_record(), due_at=DUE, actor=actor)
    with pytest.raises(ValidationError, match="Say why"):
        reject_cve(access, reserved, reason="  ", actor=actor)
    rejected = reject_cve(access, reserved, reason=" Duplicate of CVE-2026-1111. ", actor=actor)
    assert (rejected.state, rejected.rejected_at) == (CveState.REJECTED, START)
    assert rejected.reject_reason == "Duplicate of CVE-2026-1111."
    assert events()[-1].data == {
        "cve_id": reserved.cve_id,
        "reason": "Duplicate of CVE-2026-1111.",
        "was": "reserved",
    }
    clock.move_to(DUE)
    assert publish_due_records(DUE).handled == 0  # a rejected ID's held record never goes out
    do_hold_cve_record(published, sample_record(), due_at=DUE, actor=actor)
    publish_due_records(DUE)
    after = reject_cve(access, published, reason="Not a vulnerability after all.", actor=actor)
    assert after.state == CveState.REJECTED
    assert after.published_at == DUE  # when it was published stays known
    with pytest.raises(Conflict, match="is already rejected"):
        reject_cve(access, after, reason="Again.", actor=actor)
    with pytest.raises(Conflict, match="already rejected"):
        do_record_cve_rejected(access, after, reason="Again.", actor=actor)


def test_update_a_published_record(world: CaseWorld) -> None:
    access, actor = lead(world)
    cve = reserve_cve(access, actor=actor)
    with pytest.raises(Conflict, match=r"only a published record can be updated\. Hold the new"):
        update_cve_record(access, cve, undated(), actor=actor)
    do_hold_cve_record(cve, undated(), due_at=START, actor=actor)
    publish_due_records(START)
    changed = undated(title="Heap overflow in inflate() (CVSS corrected)")
    updated = update_cve_record(access, cve, changed, actor=actor)
    assert updated.record == changed
    assert events()[-1].tag == "cve:record:updated"
    with pytest.raises(ValidationError, match="refuses a date in the future"):
        update_cve_record(
            access, cve, sample_record(date_public="2027-01-01T00:00:00Z"), actor=actor
        )
    reject_cve(access, cve, reason="Withdrawn.", actor=actor)
    with pytest.raises(Conflict, match=r"is rejected: only a published record can be updated\.$"):
        update_cve_record(access, cve, changed, actor=actor)


def test_an_id_being_pushed_cannot_change_under_the_worker(world: CaseWorld) -> None:
    access, actor = lead(world)
    cve = reserve_cve(access, actor=actor)
    do_hold_cve_record(cve, undated(), due_at=START, actor=actor)
    (claimed,) = claim_due_records(START, batch=10)
    assert claim_due_records(START, batch=10) == []  # a second worker gets nothing
    with pytest.raises(Conflict, match="being sent to CVE Services right now"):
        reject_cve(access, cve, reason="Oops.", actor=actor)
    with pytest.raises(Conflict, match="being sent to CVE Services right now"):
        do_hold_cve_record(cve, sample_record(), due_at=DUE, actor=actor)
    # Recording the rejection directly (what reject_cve does after asking CVE Services) wins:
    # the worker then finds the ID no longer held and only lets go of it.
    do_record_cve_rejected(access, cve, reason="Withdrawn.", actor=actor)
    assert do_mark_cve_published(claimed, now=START, actor=actor) is False
    refused = CveAuthorityError("late answer", retryable=True)
    assert do_record_cve_publish_failure(claimed, refused, now=START, actor=actor) is False
    row = CveId.objects.get(pk=cve.pk)
    assert (row.state, row.claimed_until) == (CveState.REJECTED, None)
    assert events()[-1].tag == "cve:id:rejected"


def test_who_may(world: CaseWorld) -> None:
    access, actor = lead(world)
    heap = vuln(world)
    cve = reserve_cve(access, actor=actor)
    vendor = actor_for(world.vendor_user)
    seat = access_case_by_id(vendor, world.case.pk)  # a vendor sees the case...
    attempts: list[Callable[[], object]] = [
        lambda: reserve_cve(seat, actor=vendor),
        lambda: do_assign_cve(seat, cve, heap, actor=vendor),
        lambda: reject_cve(seat, cve, reason="No.", actor=vendor),
        lambda: update_cve_record(seat, cve, sample_record(), actor=vendor),
        lambda: do_record_cve_rejected(seat, cve, reason="No.", actor=vendor),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="Only the upstream team or the coordinator"):
            attempt()  # ...but does not run it
    assert access_cve(seat, cve.cve_id.lower()) == cve
    with pytest.raises(NotFound):
        access_case_by_id(actor_for(world.outsider_user), world.case.pk)
    coordinator = actor_for(world.coordinator)
    assert reserve_cve(access_case_by_id(coordinator, world.case.pk), actor=coordinator).cve_id
    assert CveId.objects.count() == 2
    other = build_case_world(tag="-2")
    other_access, other_actor = lead(other)
    for wrong in ("CVE-2026-99999", "nonsense", ""):
        with pytest.raises(NotFound, match="No such CVE ID"):
            access_cve(other_access, wrong)
    with pytest.raises(NotFound, match="No such CVE ID"):
        access_cve(other_access, cve.cve_id)
    with pytest.raises(NotFound, match="No such CVE ID"):
        reject_cve(other_access, cve, reason="Not ours.", actor=other_actor)


def test_stale_reserved_warning(world: CaseWorld, clock: time_machine.Coordinates) -> None:
    access, actor = lead(world)
    stale, published = reserve_cve(access, actor=actor), reserve_cve(access, actor=actor)
    do_hold_cve_record(published, undated(), due_at=START, actor=actor)
    publish_due_records(START)
    public_at = START + timedelta(days=1)
    Case.objects.filter(pk=world.case.pk).update(published_at=public_at)
    operator = UserFactory(is_staff=True)
    operator_actor = actor_for(operator)
    clock.move_to(public_at + timedelta(hours=72))
    assert stale_reserved_for(actor, public_at + timedelta(hours=72)) == []
    now = public_at + timedelta(hours=72, minutes=1)
    assert stale_reserved_for(actor, now) == [stale]
    assert stale_reserved_for(actor_for(world.coordinator), now) == [stale]
    assert stale_reserved_for(operator_actor, now) == [stale]
    assert stale_reserved_for(actor_for(world.vendor_user), now) == []
    assert stale_reserved_for(actor_for(world.outsider_user), now) == []
    assert stale_reserved_for(Actor.system("tests"), now) == [stale]
    reject_cve(access, stale, reason="Never used.", actor=actor)
    assert stale_reserved_for(actor, now) == []


def test_publication_task_comes_back_for_the_next_record(
    world: CaseWorld, clock: time_machine.Coordinates
) -> None:
    access, actor = lead(world)
    now_due, later = reserve_cve(access, actor=actor), reserve_cve(access, actor=actor)
    do_hold_cve_record(now_due, sample_record(), due_at=DUE, actor=actor)
    do_hold_cve_record(later, sample_record(), due_at=DUE + timedelta(days=1), actor=actor)
    assert next_due() == DUE
    clock.move_to(DUE)
    assert publish_cve_records.call() == {"published": 1, "retrying": 0, "stopped": 0}
    follow_up = DBTaskResult.objects.get()
    assert follow_up.run_after == DUE + timedelta(days=1)
    follow_up.delete()
    clock.move_to(DUE + timedelta(days=2))
    assert publish_cve_records.call() == {"published": 1, "retrying": 0, "stopped": 0}
    assert not DBTaskResult.objects.exists()  # nothing left: no follow-up
    assert next_due() is None


def test_publication_task_yields_after_many_batches(
    world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    access, actor = lead(world)
    for _ in range(3):
        do_hold_cve_record(reserve_cve(access, actor=actor), undated(), due_at=START, actor=actor)
    monkeypatch.setattr("lockstep.cve.tasks.BATCH", 1)
    monkeypatch.setattr("lockstep.cve.tasks._MAX_BATCHES", 2)
    assert publish_cve_records.call()["published"] == 2
    assert DBTaskResult.objects.get().run_after == START  # the rest: at once, as a new task
    assert str(CveId.objects.filter(state=CveState.RESERVED).get()) == "CVE-2026-50002 (reserved)"


def test_an_id_without_a_case_is_audited_under_its_own_name(world: CaseWorld) -> None:
    """Case and vulnerability are SET_NULL if they ever go: the ID (and its audit) remains."""
    orphan = CveId.objects.create(
        cve_id="CVE-2026-50000",
        year=2026,
        number=50000,
        source=CveSource.LOCAL,
        reserved_at=START,
    )
    system = Actor.system("tests")
    do_hold_cve_record(orphan, undated(), due_at=START, actor=system)
    assert publish_due_records(START).published == 1
    assert [(e.tag, e.object_type, e.object_id) for e in events()] == [
        ("cve:record:held", "cve", "CVE-2026-50000"),
        ("cve:record:published", "cve", "CVE-2026-50000"),
    ]
    access, actor = lead(world)
    assert reserve_cve(access, actor=actor).cve_id == "CVE-2026-50001"
