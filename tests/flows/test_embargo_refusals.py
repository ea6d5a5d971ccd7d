"""Every refusal of the embargo actions says why, and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.embargo import (
    do_agree_date,
    do_confirm_date,
    do_decide_extension,
    do_dismiss_breach,
    do_edit_advisory_draft,
    do_report_breach,
    do_request_extension,
)
from lockstep.cases.actions.reminders import do_send_reminder
from lockstep.cases.models import Case
from lockstep.cases.queries import access_case_by_id
from lockstep.core.errors import Conflict, NotFound, ValidationError
from lockstep.embargo.reminders import Kind
from tests.conftest import actor_for
from tests.flows.test_disclosure import DATE, START, _world

pytestmark = pytest.mark.django_db


def test_refusals_name_the_problem_and_write_nothing() -> None:
    world = _world()
    lead = actor_for(world.maintainer)
    with time_machine.travel(START, tick=False):
        access = access_case_by_id(lead, world.case.pk)
        before = AuditEvent.objects.count()
        cases = [
            (
                lambda: do_request_extension(access, requested=DATE, reason="x", actor=lead),
                "not later",
            ),
            (
                lambda: do_request_extension(
                    access,
                    requested=DATE + timedelta(days=1),
                    reason="x" * 6000,
                    actor=lead,
                ),
                "At most",
            ),
            (
                lambda: do_decide_extension(access, 424242, grant=True, actor=lead),
                "No such",
            ),
            (
                lambda: do_report_breach(
                    access, evidence_url="ftp://x", evidence_text="", actor=lead
                ),
                "http",
            ),
            (
                lambda: do_dismiss_breach(access, 424242, note="x", actor=lead),
                "No such",
            ),
            (
                lambda: do_edit_advisory_draft(
                    access,
                    summary="s" * 6000,
                    details="",
                    release_version="",
                    reporter_posts=False,
                    actor=lead,
                ),
                "too long",
            ),
        ]
        for call, message in cases:
            with pytest.raises((ValidationError, NotFound), match=message):
                call()
        breach = do_report_breach(access, evidence_url="", evidence_text="On a forum.", actor=lead)
        with pytest.raises(ValidationError, match="Say why"):
            do_dismiss_breach(access, breach.pk, note=" ", actor=lead)
        do_dismiss_breach(access, breach.pk, note="Not it.", actor=lead)
        with pytest.raises(Conflict, match="already decided"):
            do_dismiss_breach(access, breach.pk, note="Again.", actor=lead)
        assert AuditEvent.objects.count() == before + 4  # report, dismissal, their two posts
        agreed = do_agree_date(access, actor=lead)
        assert do_agree_date(access, actor=lead) == agreed  # once per date
        Case.objects.filter(pk=world.case.pk).update(disclosure_at=None)
        access = access_case_by_id(lead, world.case.pk)
        for call in (
            lambda: do_agree_date(access, actor=lead),
            lambda: do_confirm_date(access, actor=lead),
            lambda: do_request_extension(access, requested=DATE, reason="x", actor=lead),
        ):
            with pytest.raises(ValidationError):
                call()
        assert do_send_reminder(world.case.pk, Kind.T_1H, actor=lead) is None
