"""The audit chain: every action appends one linked event; tampering is detected."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from lockstep.audit.models import AuditChainHead, AuditEvent
from lockstep.audit.record import record, verify
from lockstep.audit.tags import OrgTag
from lockstep.core.actor import Actor
from lockstep.orgs.actions import do_create_organization
from lockstep.orgs.models import OrgKind

pytestmark = pytest.mark.django_db


def _three_orgs(system: Actor) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        do_create_organization(name=name, kind=OrgKind.VENDOR, actor=system)


def test_each_action_appends_one_linked_event(system: Actor) -> None:
    _three_orgs(system)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert [e.data["name"] for e in events] == ["Alpha", "Beta", "Gamma"]
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (3, events[2].hash)
    assert {e.tag for e in events} == {"org:organization:created"}
    assert events[0].actor_label == "system:tests"


def test_intact_chain_verifies(system: Actor) -> None:
    _three_orgs(system)
    report = verify()
    assert report.ok, report.problems
    assert report.checked == 3


def test_empty_log_verifies() -> None:
    report = verify()
    assert report.ok
    assert report.checked == 0


def _raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_edited_row_is_detected(system: Actor) -> None:
    _three_orgs(system)
    event = AuditEvent.objects.get(seq=2)
    data = dict(event.data)
    data["name"] = "Mallory"
    _raw("UPDATE audit_auditevent SET data = %s WHERE seq = 2", [json.dumps(data)])
    report = verify()
    assert not report.ok
    assert report.problems == ["event #2 (org:organization:created) was changed after writing"]


def test_edited_actor_is_detected(system: Actor) -> None:
    _three_orgs(system)
    _raw("UPDATE audit_auditevent SET actor_label = %s WHERE seq = 1", ["someone-else"])
    assert verify().problems == ["event #1 (org:organization:created) was changed after writing"]


def test_deleted_middle_row_is_detected(system: Actor) -> None:
    _three_orgs(system)
    _raw("DELETE FROM audit_auditevent WHERE seq = 2", [])
    problems = verify().problems
    assert problems[0] == "event #2 is missing (next row is #3): rows were deleted"
    assert "event #3 does not follow the row before it" in problems[1]


def test_deleted_newest_row_is_detected(system: Actor) -> None:
    _three_orgs(system)
    _raw("DELETE FROM audit_auditevent WHERE seq = 3", [])
    problems = verify().problems
    assert len(problems) == 1
    assert problems[0].startswith("the log ends at #2 but its head records #3")


def test_rehashed_forgery_breaks_the_link_to_the_next_row(system: Actor) -> None:
    """Recomputing the edited row's own hash is not enough: the next row points at the old one."""
    _three_orgs(system)
    _raw("UPDATE audit_auditevent SET hash = %s WHERE seq = 2", ["f" * 64])
    problems = verify().problems
    assert "event #2 (org:organization:created) was changed after writing" in problems
    assert any(p.startswith("event #3 does not follow") for p in problems)


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction(system: Actor) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record(OrgTag.CREATED, actor=system, object_type="org", object_id=1)
    assert not AuditEvent.objects.exists()


def test_verify_stops_after_the_problem_limit(system: Actor) -> None:
    _three_orgs(system)
    _raw("UPDATE audit_auditevent SET tag = %s", ["x:y:z"])
    report = verify(limit_problems=2)
    assert len(report.problems) == 2
    assert report.checked == 2
