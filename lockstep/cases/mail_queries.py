"""Reads of case mail: who receives a case's mail, and the held or queued copies a person may
manage (operators all; coordinators those of their cases). Envelopes only: bodies stay out."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from lockstep.cases.models import Case, Participant, ParticipantRole
from lockstep.cases.policy import LEADING_ROLES
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound
from lockstep.mailgw.addresses import case_member_address
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.outbox import Recipient
from lockstep.orgs.models import Membership, OpenPGPKey, Organization
from lockstep.orgs.queries import org_ids_of
from lockstep.projects.models import Project


def mail_recipients(
    case: Case, *, except_user_id: int | None, org_ids: Collection[int] | None = None
) -> list[Recipient]:
    """Every member of every participating organisation (or of `org_ids` among them), with
    their newest usable key, and whether they may get clear text (they chose it, and the
    case's channel allows it)."""
    members = Membership.objects.filter(org__case_seats__case=case, user__is_active=True)
    if org_ids is not None:
        members = members.filter(org_id__in=org_ids)
    members = (
        members.exclude(user_id=except_user_id or 0)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "user__openpgp_keys",
                queryset=OpenPGPKey.objects.filter(
                    removed_at__isnull=True, can_encrypt=True
                ).order_by("-added_at"),
                to_attr="usable_keys",
            )
        )
        .order_by("user__email")
    )
    channel_allows_plain = bool(case.channel and case.channel.allows_plain_mail)
    seen: dict[str, Recipient] = {}
    for membership in members:
        user = membership.user
        keys = user.usable_keys  # type: ignore[attr-defined]
        seen.setdefault(
            user.email,
            Recipient(
                address=user.email,
                key=keys[0].armored if keys else "",
                plain_ok=channel_allows_plain and user.plain_mail,
                reply_to=case_member_address(case.pk, user.pk),
            ),
        )
    return list(seen.values())


def addresses_leaving_case(case: Case, org: Organization) -> set[str]:
    """The addresses of `org`'s members who are in no other organisation of the case (call it
    after the organisation's seat is gone)."""
    staying = Membership.objects.filter(org__case_seats__case=case).values("user_id")
    leaving = Membership.objects.filter(org=org).exclude(user_id__in=staying)
    return set(leaving.values_list("user__email", flat=True))


def cases_left_by(user_id: int, org_id: int) -> set[int]:
    """The cases of organisation `org_id` that its former member no longer sees, because none
    of their other organisations is in them (call it after the membership is gone)."""
    staying = Participant.objects.filter(org__memberships__user_id=user_id).values("case_id")
    left = Participant.objects.filter(org_id=org_id).exclude(case_id__in=staying)
    return set(left.values_list("case_id", flat=True))


def list_mail_for(actor: Actor, *, status: str) -> QuerySet[OutboundMessage]:
    """Outbox copies an actor may manage: operators all; coordinators those of their cases.

    Only the envelope is shown (address, protection, error), never the body.
    """
    rows = OutboundMessage.objects.filter(status=status).defer("body", "recipient_key")
    if actor.is_privileged:
        return rows.order_by("-id")
    return rows.filter(case_id__in=_coordinated_case_ids(actor)).order_by("-id")


def list_case_mail_for(actor: Actor) -> QuerySet[OutboundMessage]:
    """The sent-mail history, newest first: every copy for operators; a case's coordinator
    every copy of that case; any other participant the copies of their cases addressed to
    members of their own organisations (not who else on the case received what).

    Envelope and outcome only, never the body. An operator outside a case sees its copies,
    not their subjects (the page hides them: a subject names the embargoed issue).
    """
    rows = OutboundMessage.objects.defer("body", "recipient_key", "headers")
    if actor.is_privileged:
        return rows.order_by("-id")
    orgs = org_ids_of(actor)
    in_cases = Participant.objects.filter(org_id__in=orgs).values("case_id")
    colleagues = Membership.objects.filter(org_id__in=orgs).values("user__email")
    mine = Q(case_id__in=_coordinated_case_ids(actor)) | Q(
        case_id__in=in_cases, to_address__in=colleagues
    )
    return rows.filter(mine).order_by("-id")


def case_ids_seen_by(actor: Actor, case_ids: Collection[int]) -> set[int]:
    """Which of `case_ids` the actor takes part in (and so may read the mail subjects of)."""
    seats = Participant.objects.filter(org_id__in=org_ids_of(actor), case_id__in=case_ids)
    return set(seats.values_list("case_id", flat=True))


def _coordinated_case_ids(actor: Actor) -> QuerySet[Participant, Any]:
    return Participant.objects.filter(
        org_id__in=org_ids_of(actor), role=ParticipantRole.COORDINATOR
    ).values("case_id")


def coordinated_case_ids(actor: Actor) -> set[int]:
    return set(_coordinated_case_ids(actor).values_list("case_id", flat=True))


def led_case_ids(actor: Actor) -> set[int]:
    """Cases the actor's organisations lead (upstream or coordinator): their held mail is
    theirs to let through."""
    seats = Participant.objects.filter(org_id__in=org_ids_of(actor), role__in=LEADING_ROLES)
    return set(seats.values_list("case_id", flat=True))


def maintained_project_ids(actor: Actor) -> set[int]:
    """Projects whose upstream team the actor belongs to: mail to their security address."""
    projects = Project.objects.filter(upstream_id__in=org_ids_of(actor))
    return set(projects.values_list("pk", flat=True))


def list_held_inbound(actor: Actor) -> QuerySet[InboundMessage]:
    """Held inbound mail an actor may decide on: operators all; a case's leads its mail; a
    project's maintainers the mail to its security address. An operator outside a case sees
    its held mail's envelope, not its subject (the page hides it): embargoed details are
    need-to-know."""
    rows = InboundMessage.objects.filter(status=InboundStatus.HELD).defer("raw")
    if actor.is_privileged:
        return rows.order_by("-id")
    mine = Q(case_id__in=led_case_ids(actor)) | Q(
        case_id__isnull=True, project_id__in=maintained_project_ids(actor)
    )
    return rows.filter(mine).order_by("-id")


def access_held_inbound(actor: Actor, message_id: int) -> InboundMessage:
    found = list_held_inbound(actor).filter(pk=message_id).first()
    if found is None:
        raise NotFound("No such held message.")
    return found


def access_held_mail(actor: Actor, row_id: int) -> OutboundMessage:
    found = list_mail_for(actor, status="held").filter(pk=row_id).first()
    if found is None:
        raise NotFound("No such held message.")
    return found


def access_waiting_mail(actor: Actor, row_id: int) -> OutboundMessage:
    """A queued copy the actor may manage (to send it now); missing or not theirs: NotFound."""
    found = list_mail_for(actor, status=OutboxStatus.QUEUED).filter(pk=row_id).first()
    if found is None:
        raise NotFound("No such waiting message.")
    return found
