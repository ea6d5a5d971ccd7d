"""Organisations' members and invitations: /api/v1/orgs/{slug}/members…, …/invitations….

Members of an organisation (and operators) read its members; its administrators (and
operators) change roles, remove members and send or revoke invitations. Another member who
tries gets 403; someone outside the organisation, 404 for all of it. Removing a member is
`cases.actions.members.do_remove_member`: their access to the organisation's cases ends with
the request, and the case mail still waiting for them is cancelled.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from lockstep.api.auth import actor_of
from lockstep.api.openapi import answers
from lockstep.api.params import Id
from lockstep.cases.actions.members import do_remove_member
from lockstep.core import clock
from lockstep.orgs.actions import do_change_member_role, require_admin
from lockstep.orgs.invitations import check_invitation_rate, do_invite_member, do_revoke_invitation
from lockstep.orgs.models import Invitation, Membership, Role
from lockstep.orgs.queries import (
    access_invitation_by_id,
    access_membership,
    access_org_by_slug,
    list_members_of,
    list_pending_invitations,
)

router = Router(tags=["organisations"])


class MemberOut(Schema):
    user_id: int
    email: str
    display_name: str
    role: Role
    active: bool = Field(description="False: the account is deactivated (it has no access).")
    joined_at: datetime


class RoleIn(Schema):
    role: Role


class InvitationIn(Schema):
    email: str = Field(min_length=3, max_length=254)
    role: Role = Role.MEMBER


class InvitationOut(Schema):
    id: int
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


def _member(m: Membership) -> MemberOut:
    return MemberOut(
        user_id=m.user_id,
        email=m.user.email,
        display_name=m.user.display_name,
        role=Role(m.role),
        active=m.user.is_active,
        joined_at=m.created_at,
    )


def _invitation(i: Invitation) -> InvitationOut:
    return InvitationOut(
        id=i.pk, email=i.email, role=Role(i.role), created_at=i.created_at, expires_at=i.expires_at
    )


@router.get("/orgs/{slug}/members", response=list[MemberOut], summary="An organisation's members")
def members(request: HttpRequest, slug: str) -> list[MemberOut]:
    org = access_org_by_slug(actor_of(request), slug)
    return [_member(m) for m in list_members_of(org)]


@router.patch(
    "/orgs/{slug}/members/{user_id}", response=MemberOut, summary="Change a member's role"
)
def change_role(request: HttpRequest, slug: str, user_id: Id, payload: RoleIn) -> MemberOut:
    actor = actor_of(request)
    membership = access_membership(access_org_by_slug(actor, slug), user_id)
    return _member(do_change_member_role(membership, role=payload.role, actor=actor))


@router.delete(
    "/orgs/{slug}/members/{user_id}",
    response={204: None},
    summary="Remove a member",
    description="Their access to the organisation's cases ends at once and the case mail "
    "waiting for them is cancelled; if it was their last organisation, their sessions end "
    "and their API tokens are revoked.",
)
def remove_member(request: HttpRequest, slug: str, user_id: Id) -> None:
    actor = actor_of(request)
    do_remove_member(access_membership(access_org_by_slug(actor, slug), user_id), actor=actor)


@router.get(
    "/orgs/{slug}/invitations",
    response=list[InvitationOut],
    summary="Pending invitations (administrators)",
    openapi_extra=answers(403),
)
def invitations(request: HttpRequest, slug: str) -> list[InvitationOut]:
    actor = actor_of(request)
    org = access_org_by_slug(actor, slug)
    require_admin(actor, org)
    return [_invitation(i) for i in list_pending_invitations(org, now=clock.now())]


@router.post(
    "/orgs/{slug}/invitations",
    response={201: InvitationOut},
    summary="Invite someone by e-mail",
    description="The invitee gets a link by mail (single use, expiring); it is not returned "
    "here. At most 30 invitations an hour per organisation.",
    openapi_extra=answers(429),
)
def invite(request: HttpRequest, slug: str, payload: InvitationIn) -> InvitationOut:
    actor = actor_of(request)
    org = access_org_by_slug(actor, slug)
    require_admin(actor, org)
    check_invitation_rate(org, now=clock.now())
    sent = do_invite_member(org, email=payload.email, role=payload.role, actor=actor)
    return _invitation(sent.invitation)


@router.delete(
    "/orgs/{slug}/invitations/{invitation_id}",
    response={204: None},
    summary="Revoke a pending invitation",
)
def revoke_invitation(request: HttpRequest, slug: str, invitation_id: Id) -> None:
    actor = actor_of(request)
    org = access_org_by_slug(actor, slug)
    require_admin(actor, org)
    do_revoke_invitation(access_invitation_by_id(org, invitation_id, now=clock.now()), actor=actor)
