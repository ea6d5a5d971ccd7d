"""Opening a case and setting its disclosure date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case, require_lead
from lockstep.cases.actions.embargo import date_changed
from lockstep.cases.models import Case, Participant, ParticipantRole
from lockstep.cases.policy import need_to_know
from lockstep.cases.queries import CaseAccess
from lockstep.channels.models import Channel, ChannelKind
from lockstep.channels.queries import policy_of
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, PermissionDenied, ValidationError
from lockstep.embargo.policy import DateDecision, NoticeCode, check_disclosure_date
from lockstep.embargo.routing import Route
from lockstep.projects.models import Project


@dataclass(frozen=True)
class RouteChoice:
    route: Route
    reasons: tuple[str, ...]
    overridden: bool = False
    override_reason: str = ""


def _check_route(choice: RouteChoice, channel: Channel | None) -> None:
    if choice.overridden and not choice.override_reason.strip():
        msg = "Say why you override Lockstep's routing decision; the reason is kept on record."
        raise ValidationError(msg, field="override_reason")
    if choice.route.is_embargoed and (channel is None or channel.kind != ChannelKind.PRIVATE):
        msg = "Private coordination needs a private list to take the vendors from."
        raise ValidationError(msg, field="channel")


def _seats(case: Case, project: Project, channel: Channel | None) -> list[Participant]:
    """The upstream; under embargo also the list's coordinator and the need-to-know vendors."""
    seats = [Participant(case=case, org=project.upstream, role=ParticipantRole.UPSTREAM)]
    if channel is None:
        return seats
    if channel.operated_by_id is not None and channel.operated_by_id != project.upstream_id:
        seats.append(Participant(case=case, org_id=channel.operated_by_id, role="coordinator"))
    vendors = need_to_know(
        project.redistributions.values_list("org_id", flat=True),
        channel.members.values_list("org_id", flat=True),
    )
    seats += [Participant(case=case, org_id=org, role=ParticipantRole.VENDOR) for org in vendors]
    return seats


@transaction.atomic
def do_open_case(  # noqa: PLR0913 - the facts of a new case, each named
    project: Project,
    *,
    title: str,
    choice: RouteChoice,
    channel: Channel | None,
    disclosure_at: datetime | None,
    actor: Actor,
) -> Case:
    """Open a case with the upstream, the list's coordinator and the need-to-know vendors."""
    _check_route(choice, channel)
    now = clock.now()
    private = choice.route.is_embargoed
    case = Case.objects.create(
        project=project,
        title=title.strip() or "Untitled vulnerability",
        route=choice.route,
        route_reasons=list(choice.reasons),
        route_overridden=choice.overridden,
        override_reason=choice.override_reason.strip(),
        channel=channel if private else None,
        embargo_started_at=now if private else None,
        created_at=now,
    )
    seats = _seats(case, project, channel if private else None)
    for seat in seats:
        seat.added_at = now
        seat.notified_at = now
    Participant.objects.bulk_create(seats)
    record_case(
        CaseTag.OPENED,
        case,
        actor=actor,
        data={
            "route": choice.route,
            "overridden": choice.overridden,
            "override_reason": choice.override_reason,
            "channel": channel.slug if private and channel else None,
            "participants": sorted(seat.org_id for seat in seats),
        },
    )
    if private and disclosure_at is not None:
        set_date(case, disclosure_at, actor=actor, quiet=True)
    return case


def set_date(
    case: Case,
    requested: datetime,
    *,
    actor: Actor,
    short_reason: str = "",
    quiet: bool = False,
) -> DateDecision:
    """`short_reason`: a coordinator allows a date inside the list's minimum notice, and says
    why (an actively exploited issue). `quiet`: no announcement (a new case's first date
    travels with its opening notice)."""
    policy = policy_of(case.channel) if case.channel else None
    if policy is None:
        msg = "Only a case under embargo (private coordination) has a disclosure date."
        raise ValidationError(msg, field="disclosure_at")
    decision = check_disclosure_date(
        policy,
        requested=requested,
        now=clock.now(),
        clock_start=case.embargo_started_at,
        allow_short=bool(short_reason),
    )
    if case.published_at is not None:
        raise Conflict("This case is public already: its embargo is over.")
    before = case.disclosure_at
    case.disclosure_at = decision.decided
    case.save(update_fields=["disclosure_at"])
    short = any(notice.code == NoticeCode.SHORT_NOTICE for notice in decision.warnings)
    record_case(
        CaseTag.SHORT_EMBARGO_ALLOWED if short else CaseTag.DATE_SET,
        case,
        actor=actor,
        data={
            "from": before,
            "to": decision.decided,
            "requested": decision.requested,
            "outcome": decision.outcome,
            "reasons": list(decision.reasons),
            "warnings": [notice.message for notice in decision.warnings],
            **({"short_reason": short_reason} if short_reason else {}),
        },
    )
    notes = " ".join((*decision.reasons, *(w.message for w in decision.warnings)))
    if short:
        notes = f"{notes} Reason for the short embargo: {short_reason}"
    date_changed(case, before=before, why=notes, actor=actor, quiet=quiet)
    return decision


def _lock(access: CaseAccess) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("channel")
        .get(pk=access.case.pk)
    )


@transaction.atomic
def do_set_disclosure_date(
    access: CaseAccess, *, requested: datetime, actor: Actor
) -> DateDecision:
    """Propose the public disclosure date-time, checked (and cut back) by the list's policy."""
    require_lead(access)
    return set_date(_lock(access), requested, actor=actor)


SHORT_REASON_MAX = 2000


@transaction.atomic
def do_allow_short_embargo(
    access: CaseAccess, *, requested: datetime, reason: str, actor: Actor
) -> DateDecision:
    """The coordinator's override (PROCESS.md: "a few hours in extreme cases"): a date inside
    the list's minimum notice, with a reason that is audited and announced to every
    participant. Still never in the past, and never past the policy's maximum."""
    if not access.can_allow_short:
        msg = "Only the list's coordinator can allow an embargo shorter than its minimum notice."
        raise PermissionDenied(msg)
    text = reason.strip()
    if not text:
        msg = "Say why the embargo must be this short (for example: exploited in the wild)."
        raise ValidationError(msg, field="reason")
    if len(text) > SHORT_REASON_MAX:
        raise ValidationError(f"At most {SHORT_REASON_MAX} characters.", field="reason")
    return set_date(_lock(access), requested, actor=actor, short_reason=text)
