"""Who is in a case: adding and removing organisations, first views, statuses."""

from __future__ import annotations

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case, require_lead
from lockstep.cases.mail_queries import addresses_leaving_case
from lockstep.cases.models import (
    DateAgreement,
    Participant,
    ParticipantRole,
    Status,
    VendorStatus,
    Vulnerability,
)
from lockstep.cases.queries import CaseAccess
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.mailgw.outbound.holds import cancel_case_copies
from lockstep.orgs.models import Organization, OrgKind

STATEMENT_MAX = 5000


@transaction.atomic
def do_add_participant(access: CaseAccess, org: Organization, *, actor: Actor) -> Participant:
    require_lead(access)
    if org.kind != OrgKind.VENDOR:
        msg = f"{org.name} is not a vendor; only vendors are added to a case this way."
        raise ValidationError(msg, field="org")
    if Participant.objects.filter(case=access.case, org=org).exists():
        msg = f"{org.name} is already in this case."
        raise Conflict(msg, field="org")
    now = clock.now()
    seat = Participant.objects.create(
        case=access.case, org=org, role=ParticipantRole.VENDOR, added_at=now, notified_at=now
    )
    record_case(CaseTag.PARTICIPANT_ADDED, access.case, actor=actor, data={"org": org.slug})
    return seat


@transaction.atomic
def do_remove_participant(access: CaseAccess, seat: Participant, *, actor: Actor) -> None:
    """The organisation leaves the case: its members stop seeing it, their case addresses stop
    working, the copies still waiting for them are cancelled, and its agreement to the date is
    withdrawn."""
    require_lead(access)
    if seat.case_id != access.case.pk:
        raise NotFound("No such participant.")
    if seat.role != ParticipantRole.VENDOR:
        msg = "The upstream team and the coordinator cannot be removed from a case."
        raise PermissionDenied(msg)
    case, org = access.case, seat.org
    seat.delete()
    withdrawn = DateAgreement.objects.filter(case=case, org=org).delete()[0]
    cancelled = cancel_case_copies(
        case.pk,
        addresses_leaving_case(case, org),
        reason=f"{org.name} was removed from the case by {actor.label}",
    )
    record_case(
        CaseTag.PARTICIPANT_REMOVED,
        case,
        actor=actor,
        data={"org": org.slug, "agreements_withdrawn": withdrawn, "copies_cancelled": cancelled},
    )


@transaction.atomic
def do_invite_channel(access: CaseAccess, *, actor: Actor) -> list[Participant]:
    """Bring in every member of the case's private list (beyond need-to-know: use with care)."""
    require_lead(access)
    channel = access.case.channel
    if channel is None:
        raise ValidationError("This case has no private list.", field="channel")
    present = set(Participant.objects.filter(case=access.case).values_list("org_id", flat=True))
    now = clock.now()
    new = [
        Participant(
            case=access.case,
            org_id=org_id,
            role=ParticipantRole.VENDOR,
            added_at=now,
            notified_at=now,
        )
        for org_id in channel.members.values_list("org_id", flat=True)
        if org_id not in present
    ]
    Participant.objects.bulk_create(new)
    record_case(
        CaseTag.CHANNEL_INVITED,
        access.case,
        actor=actor,
        data={"channel": channel.slug, "added": sorted(seat.org_id for seat in new)},
    )
    return new


@transaction.atomic
def do_mark_seen(access: CaseAccess, *, actor: Actor) -> int:
    """Record the first view of the case by each of the viewer's organisations."""
    now = clock.now()
    unseen = [seat.pk for seat in access.seats if seat.first_seen_at is None]
    if not unseen:
        return 0
    marked = Participant.objects.filter(pk__in=unseen, first_seen_at__isnull=True).update(
        first_seen_at=now, first_seen_by_id=actor.user_id
    )
    if marked:
        record_case(CaseTag.SEEN, access.case, actor=actor, data={"participants": unseen})
    return marked


@transaction.atomic
def do_set_status(  # noqa: PLR0913 - one statement's facts, each named
    access: CaseAccess,
    seat: Participant,
    vulnerability: Vulnerability,
    *,
    status: Status,
    statement: str = "",
    actor: Actor,
) -> VendorStatus:
    """An organisation says whether it is affected, has a fix ready, or has published."""
    if seat not in access.seats:
        raise PermissionDenied("You can only speak for your own organisation.")
    if vulnerability.case_id != access.case.pk:
        raise NotFound("No such vulnerability.")
    if len(statement) > STATEMENT_MAX:
        msg = f"A statement may be at most {STATEMENT_MAX} characters."
        raise ValidationError(msg, field="statement")
    row, created = VendorStatus.objects.update_or_create(
        participant=seat,
        vulnerability=vulnerability,
        defaults={
            "status": status,
            "statement": statement.strip(),
            "updated_at": clock.now(),
            "updated_by_id": actor.user_id,
        },
    )
    record_case(
        CaseTag.STATUS_SET,
        access.case,
        actor=actor,
        data={
            "org": seat.org.slug,
            "vulnerability": vulnerability.pk,
            "status": status,
            "first": created,
        },
    )
    return row
