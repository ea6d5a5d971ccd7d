"""Helpers shared by the case actions."""

from __future__ import annotations

from typing import Any

from lockstep.audit.record import record
from lockstep.audit.tags import CaseTag
from lockstep.cases.models import Case
from lockstep.cases.queries import CaseAccess
from lockstep.core.actor import Actor
from lockstep.core.errors import PermissionDenied


def record_case(
    tag: CaseTag, case: Case, *, actor: Actor, data: dict[str, Any] | None = None
) -> None:
    record(tag, actor=actor, object_type="case", object_id=case.pk, data=data)


def require_lead(access: CaseAccess) -> None:
    if not access.can_lead:
        msg = "Only the upstream team or the coordinator can do this in a case."
        raise PermissionDenied(msg)
