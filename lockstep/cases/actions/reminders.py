"""Embargo reminders: before the date to the organisations not yet "fix ready", mailed
through the outbox; each (case, kind, date) once."""

from __future__ import annotations

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case
from lockstep.cases.emails import reminder_mail
from lockstep.cases.mail_queries import mail_recipients
from lockstep.cases.models import Case, Reminder
from lockstep.cases.queries import not_fix_ready_org_ids
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.embargo.reminders import Kind
from lockstep.mailgw.outbound.outbox import fan_out


@transaction.atomic
def do_send_reminder(case_id: int, kind: Kind, *, actor: Actor) -> Reminder | None:
    """Send one reminder for the case's current date, once; None when already sent or moot.

    Before the date it goes to the organisations that have not reported "fix ready"; at the
    date (T-0) to everyone. It is mailed through the outbox like any case mail.
    """
    case = Case.objects.select_for_update(of=("self",)).select_related("channel").get(pk=case_id)
    if case.disclosure_at is None:
        return None
    sent = Reminder.objects.filter(case=case, kind=kind.value, disclosure_at=case.disclosure_at)
    if sent.exists():
        return None
    now = clock.now()
    org_ids = None if kind == Kind.T_0 else not_fix_ready_org_ids(case)
    recipients = mail_recipients(case, except_user_id=None, org_ids=org_ids)
    fan_out(reminder_mail(case, kind, now=now), recipients)
    reminder = Reminder.objects.create(
        case=case,
        kind=kind.value,
        disclosure_at=case.disclosure_at,
        sent_at=now,
        recipients=len(recipients),
    )
    record_case(
        CaseTag.REMINDER_SENT,
        case,
        actor=actor,
        data={"kind": kind.value, "disclosure_at": case.disclosure_at, "to": len(recipients)},
    )
    return reminder
