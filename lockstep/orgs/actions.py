"""The only write path for organisations, memberships and OpenPGP keys (invitations:
lockstep.orgs.invitations; a removal's effect on cases: lockstep.cases.actions.members)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from lockstep.accounts.actions import revoke_tokens_of
from lockstep.accounts.models import User
from lockstep.accounts.sessions import end_sessions_of
from lockstep.audit.record import record
from lockstep.audit.tags import AccountTag, OrgTag
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.core.names import claim_slug
from lockstep.mailgw.crypto.base import get_openpgp
from lockstep.orgs.models import Membership, OpenPGPKey, Organization, OrgKind, Role
from lockstep.orgs.policy import ends_access_on_removal
from lockstep.orgs.queries import is_org_admin


def require_admin(actor: Actor, org: Organization) -> None:
    """Organisation administrators and operators manage an organisation; its other members
    may see it (PermissionDenied, 403), outsiders may not (their reads already said 404)."""
    if not is_org_admin(actor, org):
        msg = f"Only an administrator of {org.name} can do this."
        raise PermissionDenied(msg)


@transaction.atomic
def do_create_organization(  # noqa: PLR0913 - an organisation's facts, each named
    *,
    name: str,
    kind: OrgKind,
    slug: str = "",
    website: str = "",
    security_email: str = "",
    description: str = "",
    actor: Actor,
) -> Organization:
    if not actor.is_privileged:
        msg = "Only an operator can create organisations."
        raise PermissionDenied(msg)
    name = name.strip()
    if not name:
        raise ValidationError("An organisation needs a name.", field="name")
    slug = claim_slug(Organization.objects.all(), name=name, slug=slug)
    org = Organization.objects.create(
        slug=slug,
        name=name,
        kind=kind,
        website=website,
        security_email=security_email,
        description=description,
        created_at=clock.now(),
    )
    record(
        OrgTag.CREATED,
        actor=actor,
        object_type="org",
        object_id=org.pk,
        org_id=org.pk,
        data={"slug": slug, "name": name, "kind": kind.value},
    )
    return org


@transaction.atomic
def do_add_member(
    org: Organization, user: User, *, role: Role = Role.MEMBER, actor: Actor
) -> Membership:
    require_admin(actor, org)
    return join_org(org, user, role=role, actor=actor)


def join_org(
    org: Organization,
    user: User,
    *,
    role: Role,
    actor: Actor,
    invitation_id: int | None = None,
) -> Membership:
    """Make `user` a member; composed into an action that decided who may (an administrator,
    or the invitee holding a valid invitation)."""
    if Membership.objects.filter(org=org, user=user).exists():
        msg = f"{user.email} is already a member of {org.name}."
        raise Conflict(msg)
    membership = Membership.objects.create(org=org, user=user, role=role, created_at=clock.now())
    data: dict[str, object] = {"user_id": user.pk, "email": user.email, "role": role.value}
    if invitation_id is not None:
        data["invitation"] = invitation_id
    record(
        OrgTag.MEMBER_ADDED,
        actor=actor,
        object_type="membership",
        object_id=membership.pk,
        org_id=org.pk,
        data=data,
    )
    return membership


@transaction.atomic
def do_change_member_role(membership: Membership, *, role: Role, actor: Actor) -> Membership:
    org = membership.org
    require_admin(actor, org)
    locked = Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if locked is None:
        raise NotFound("No such member.")
    if locked.role == role:
        return locked
    if locked.role == Role.ADMIN and _admin_count(org) == 1:
        msg = f"{org.name} needs at least one administrator."
        raise Conflict(msg)
    before = locked.role
    locked.role = role
    locked.save(update_fields=["role"])
    record(
        OrgTag.MEMBER_ROLE_CHANGED,
        actor=actor,
        object_type="membership",
        object_id=locked.pk,
        org_id=org.pk,
        data={"user_id": locked.user_id, "from": before, "to": role.value},
    )
    return locked


def _admin_count(org: Organization) -> int:
    """Locks the administrators' rows: two of them cannot demote or remove each other at once
    and leave the organisation with none."""
    admins = Membership.objects.select_for_update().filter(org=org, role=Role.ADMIN)
    return len(list(admins.values_list("pk", flat=True)))


@dataclass(frozen=True)
class Removal:
    """What removing a member did, for the action that composes it."""

    user_id: int
    email: str
    org_id: int
    left_every_org: bool
    sessions_ended: int
    tokens_revoked: list[int]


@transaction.atomic(savepoint=False)
def remove_member(membership: Membership, *, actor: Actor) -> Removal:
    """The organisation's side of a removal: the last-admin rule, the membership row, and the
    person's sessions and tokens if this was their last organisation (policy
    `ends_access_on_removal`). Composed by `lockstep.cases.actions.members.do_remove_member`,
    which also cancels their mail for the cases they no longer see: call that one."""
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("org", "user")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:
        raise NotFound("No such member.")
    org, user = locked.org, locked.user
    require_admin(actor, org)
    if locked.role == Role.ADMIN and _admin_count(org) == 1:
        msg = f"{org.name} needs at least one administrator."
        raise Conflict(msg)
    locked.delete()
    left = Membership.objects.filter(user=user).count()
    cut = ends_access_on_removal(memberships_left=left, is_operator=user.is_staff)
    sessions, tokens = 0, []
    if cut:
        reason = f"{user.email} was removed from {org.name}, their last organisation"
        sessions = end_sessions_of(user.pk)
        tokens = revoke_tokens_of(user, actor=actor, reason=reason)
    record(
        OrgTag.MEMBER_REMOVED,
        actor=actor,
        object_type="membership",
        object_id=membership.pk,
        org_id=org.pk,
        data={
            "user_id": user.pk,
            "email": user.email,
            "role": locked.role,
            "left_every_org": cut,
            "sessions_ended": sessions,
            "tokens_revoked": tokens,
        },
    )
    return Removal(user.pk, user.email, org.pk, cut, sessions, tokens)


def _new_key(armored: str) -> OpenPGPKey:
    info = get_openpgp().inspect_public_key(armored, now=clock.now())
    return OpenPGPKey(
        fingerprint=info.fingerprint,
        user_ids=list(info.user_ids),
        algorithm=info.algorithm,
        key_created_at=info.created_at,
        expires_at=info.expires_at,
        can_encrypt=info.can_encrypt,
        armored=info.armored,
        added_at=clock.now(),
    )


def _key_data(key: OpenPGPKey) -> dict[str, object]:
    return {"fingerprint": key.fingerprint, "user_ids": key.user_ids, "expires_at": key.expires_at}


@transaction.atomic
def do_add_user_key(user: User, *, armored: str, actor: Actor) -> OpenPGPKey:
    """Parse and check an ASCII-armoured public key, then attach it to `user`."""
    if actor.user_id != user.pk and not actor.is_privileged:
        msg = "You can only add keys to your own account."
        raise PermissionDenied(msg)
    key = _new_key(armored)
    if OpenPGPKey.objects.filter(user=user, fingerprint=key.fingerprint, removed_at=None).exists():
        msg = f"The key {key.fingerprint} is already on your account."
        raise Conflict(msg, field="armored")
    key.user = user
    key.save()
    record(
        AccountTag.KEY_ADDED,
        actor=actor,
        object_type="openpgp_key",
        object_id=key.pk,
        data={"user_id": user.pk, **_key_data(key)},
    )
    return key


@transaction.atomic
def do_add_org_key(org: Organization, *, armored: str, actor: Actor) -> OpenPGPKey:
    """Parse and check an ASCII-armoured public key, then attach it to `org`."""
    require_admin(actor, org)
    key = _new_key(armored)
    if OpenPGPKey.objects.filter(org=org, fingerprint=key.fingerprint, removed_at=None).exists():
        msg = f"The key {key.fingerprint} is already on {org.name}."
        raise Conflict(msg, field="armored")
    key.org = org
    key.save()
    record(
        OrgTag.KEY_ADDED,
        actor=actor,
        object_type="openpgp_key",
        object_id=key.pk,
        org_id=org.pk,
        data=_key_data(key),
    )
    return key


@transaction.atomic
def do_remove_key(key: OpenPGPKey, *, actor: Actor) -> OpenPGPKey:
    """Retire a key: it stays on record (the audit log names it) but is no longer used."""
    locked = OpenPGPKey.objects.select_for_update(of=("self",)).select_related("org").get(pk=key.pk)
    if locked.removed_at is not None:
        raise NotFound("No such key.")
    if locked.org is not None:
        require_admin(actor, locked.org)
        tag: AccountTag | OrgTag = OrgTag.KEY_REMOVED
    else:
        if actor.user_id != locked.user_id and not actor.is_privileged:
            raise NotFound("No such key.")
        tag = AccountTag.KEY_REMOVED
    locked.removed_at = clock.now()
    locked.save(update_fields=["removed_at"])
    record(
        tag,
        actor=actor,
        object_type="openpgp_key",
        object_id=locked.pk,
        org_id=locked.org_id,
        data={"fingerprint": locked.fingerprint},
    )
    return locked
