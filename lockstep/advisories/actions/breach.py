"""A lead confirms a reported breach (a leak, a public fix): the embargo ends at once and the
case is published, with the evidence in the announcement."""

from __future__ import annotations

from django.db import transaction

from lockstep.advisories.actions.publication import publish_locked
from lockstep.advisories.models import Advisory
from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case
from lockstep.cases.actions.embargo import lock_pending_breach
from lockstep.cases.models import EmbargoBreach, EndReason, RequestState
from lockstep.cases.queries import CaseAccess
from lockstep.core import clock
from lockstep.core.actor import Actor


def _evidence(breach: EmbargoBreach) -> str:
    seen = breach.evidence_url or breach.evidence_text
    note = f" ({breach.decision_note})" if breach.decision_note else ""
    return f"the issue is already public{note}. Evidence: {seen}"


@transaction.atomic
def do_confirm_breach(access: CaseAccess, breach_id: int, *, note: str, actor: Actor) -> Advisory:
    """A lead confirms the leak or public fix: the embargo ends now and publication starts."""
    case, breach = lock_pending_breach(access, breach_id)
    now = clock.now()
    breach.state = RequestState.CONFIRMED
    breach.decided_by_id, breach.decided_at = actor.user_id, now
    breach.decision_note = note.strip()[:5000]
    breach.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    record_case(CaseTag.BREACH_CONFIRMED, case, actor=actor, data={"breach": breach.pk})
    return publish_locked(
        case, now=now, end=EndReason.BROKEN, reason=_evidence(breach), actor=actor
    )
