"""A coordinator decides about held inbound mail: let it through, or discard it (audited)."""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from lockstep.audit.record import record
from lockstep.audit.tags import MailTag
from lockstep.cases.mail_queries import led_case_ids, maintained_project_ids
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, PermissionDenied
from lockstep.mailgw.inbound.store import settle
from lockstep.mailgw.models import InboundMessage, InboundStatus
from lockstep.mailin.pipeline import process

UNREADABLE_RULES = frozenset({"undecryptable", "unreadable"})
NEVER_RELEASED = UNREADABLE_RULES | {"postmaster"}


def can_release_held(
    message: InboundMessage,
    *,
    led_cases: Collection[int],
    maintained: Collection[int],
    operator: bool,
) -> bool:
    """Who may let held mail through (anyone who sees it may discard it): into a case only its
    leads, never an operator outside it; to a project its maintainers or an operator; anything
    else an operator. Mail Lockstep cannot read, and postmaster mail, only ever go away."""
    if message.rule in NEVER_RELEASED:
        return False
    if message.case_id is not None:
        return message.case_id in led_cases
    if message.project_id is not None:
        return operator or message.project_id in maintained
    return operator


def _locked_held(message: InboundMessage) -> InboundMessage:
    locked = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if locked.status != InboundStatus.HELD:
        msg = f"This message is {locked.get_status_display().lower()}, not held."
        raise Conflict(msg)
    return locked


def _record(
    tag: MailTag, message: InboundMessage, *, actor: Actor, held: tuple[str, str] = ("", "")
) -> None:
    rule, reason = held if held[0] else (message.rule, message.reason)
    record(
        tag,
        actor=actor,
        object_type="inbound",
        object_id=message.pk,
        data={
            "from": message.from_header,
            "case": message.case_id,
            "held_by_rule": rule,
            "held_because": reason[:300],
            "now": message.status,
        },
    )


@transaction.atomic
def do_release_inbound(message: InboundMessage, *, actor: Actor) -> InboundMessage:
    """Let a held message through the pipeline: it is posted or filed as it would have been,
    labelled with its sender and the coordinator who released it."""
    locked = _locked_held(message)
    if locked.rule in UNREADABLE_RULES:
        msg = "Lockstep cannot read this message, so it cannot be let through; discard it."
        raise Conflict(msg)
    allowed = can_release_held(
        locked,
        led_cases=led_case_ids(actor),
        maintained=maintained_project_ids(actor),
        operator=actor.is_privileged,
    )
    if not allowed:
        msg = (
            "Only the case's leads can let mail into a case (and only operators can let "
            "through mail to postmaster, nobody); you may discard it."
        )
        raise PermissionDenied(msg)
    rule, reason = locked.rule, locked.reason
    status = process(locked, released_by=actor)
    if status == InboundStatus.HELD:
        msg = f"It is still held: {locked.reason}"
        raise Conflict(msg)
    locked.refresh_from_db()
    _record(MailTag.RELEASED, locked, actor=actor, held=(rule, reason))
    return locked


@transaction.atomic
def do_discard_inbound(message: InboundMessage, *, actor: Actor) -> InboundMessage:
    locked = _locked_held(message)
    settle(
        locked,
        status=InboundStatus.DISCARDED,
        rule=locked.rule,
        reason=f"{locked.reason} Discarded by {actor.label}.",
    )
    _record(MailTag.DISCARDED, locked, actor=actor)
    return locked
