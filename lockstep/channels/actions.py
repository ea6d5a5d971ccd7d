"""The only write path for channels and their member organisations."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from lockstep.audit.record import record
from lockstep.audit.tags import ChannelTag
from lockstep.channels.models import Channel, ChannelKind, ChannelMember
from lockstep.channels.queries import can_manage_channel
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, PermissionDenied, ValidationError
from lockstep.core.names import claim_slug
from lockstep.embargo.policy import EmbargoPolicy
from lockstep.orgs.models import Organization, OrgKind


def _require_manager(actor: Actor, channel: Channel) -> None:
    if not can_manage_channel(actor, channel):
        msg = f"Only the coordinators of {channel.name} can change it."
        raise PermissionDenied(msg)


def _policy_fields(policy: EmbargoPolicy | None) -> dict[str, int | None]:
    return {
        "max_embargo_days": policy.max_days if policy else None,
        "preferred_embargo_days": policy.preferred_days if policy else None,
        "min_embargo_hours": policy.min_hours if policy else None,
    }


@transaction.atomic
def do_create_channel(  # noqa: PLR0913 - a channel's facts, each named
    *,
    name: str,
    kind: ChannelKind,
    policy: EmbargoPolicy | None = None,
    slug: str = "",
    post_address: str = "",
    subject_tag: str = "",
    description: str = "",
    operated_by: Organization | None = None,
    actor: Actor,
) -> Channel:
    if not actor.is_privileged:
        raise PermissionDenied("Only an operator can create channels.")
    if (kind == ChannelKind.PRIVATE) != (policy is not None):
        msg = "A private list needs an embargo policy; a public list has none."
        raise ValidationError(msg, field="policy")
    if operated_by is not None and operated_by.kind != OrgKind.COORDINATOR:
        msg = f"{operated_by.name} is not a coordinator organisation."
        raise ValidationError(msg, field="operated_by")
    slug = claim_slug(Channel.objects.all(), name=name, slug=slug)
    channel = Channel.objects.create(
        slug=slug,
        name=name.strip(),
        kind=kind,
        post_address=post_address,
        subject_tag=subject_tag,
        description=description,
        operated_by=operated_by,
        created_at=clock.now(),
        **_policy_fields(policy),
    )
    record(
        ChannelTag.CREATED,
        actor=actor,
        object_type="channel",
        object_id=channel.pk,
        data={"slug": slug, "kind": kind.value, **_policy_fields(policy)},
    )
    return channel


@transaction.atomic
def do_change_channel_policy(channel: Channel, *, policy: EmbargoPolicy, actor: Actor) -> Channel:
    _require_manager(actor, channel)
    if channel.kind != ChannelKind.PRIVATE:
        raise ValidationError("A public list has no embargo policy.", field="policy")
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    before = {
        "max_embargo_days": locked.max_embargo_days,
        "preferred_embargo_days": locked.preferred_embargo_days,
        "min_embargo_hours": locked.min_embargo_hours,
    }
    after = _policy_fields(policy)
    for name, value in after.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(after))
    record(
        ChannelTag.POLICY_CHANGED,
        actor=actor,
        object_type="channel",
        object_id=locked.pk,
        data={"from": before, "to": after},
    )
    return locked


_TAG_MAX = 32
_RELAY_MAX = 20


def _clean_relays(addresses: Sequence[str]) -> list[str]:
    cleaned = []
    for address in addresses:
        text = address.strip()
        try:
            validate_email(text)
        except DjangoValidationError:
            msg = f"{text!r} is not an e-mail address."
            raise ValidationError(msg, field="relay_to") from None
        cleaned.append(text)
    if len(cleaned) > _RELAY_MAX:
        msg = f"At most {_RELAY_MAX} relay addresses."
        raise ValidationError(msg, field="relay_to")
    return cleaned


def _mail_settings(channel: Channel) -> dict[str, object]:
    return {
        "tag": channel.subject_tag,
        "plain": channel.allows_plain_mail,
        "relay": channel.relay_to,
        "unsigned": channel.accepts_unsigned_mail,
    }


@transaction.atomic
def do_set_channel_mail(  # noqa: PLR0913 - the list's mail settings, each named
    channel: Channel,
    *,
    subject_tag: str,
    allows_plain_mail: bool,
    relay_to: Sequence[str] | None = None,
    accepts_unsigned_mail: bool | None = None,
    actor: Actor,
) -> Channel:
    """The list's mail settings. Coordinators set the tag, the clear-text policy and whether
    members' unsigned mail is posted (marked "sender not verified") instead of held; where a
    public list's posts are relayed (outside addresses) only an operator sets. None: keep."""
    _require_manager(actor, channel)
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    tag = subject_tag.strip()
    if len(tag) > _TAG_MAX or any(ch.isspace() for ch in tag):
        msg = f"A subject tag is one word of at most {_TAG_MAX} characters, e.g. [vs]."
        raise ValidationError(msg, field="subject_tag")
    if allows_plain_mail and locked.kind != ChannelKind.PRIVATE:
        raise ValidationError("A public list's mail is always clear text.", field="plain")
    before = _mail_settings(locked)
    if relay_to is not None:
        if not actor.is_privileged:
            raise PermissionDenied("Only an operator can set where a list's posts are relayed.")
        if locked.kind != ChannelKind.PUBLIC and relay_to:
            raise ValidationError("Only a public list's posts are relayed.", field="relay_to")
        locked.relay_to = _clean_relays(relay_to)
    locked.subject_tag, locked.allows_plain_mail = tag, allows_plain_mail
    if accepts_unsigned_mail is not None:
        locked.accepts_unsigned_mail = accepts_unsigned_mail
    locked.save(
        update_fields=["subject_tag", "allows_plain_mail", "relay_to", "accepts_unsigned_mail"]
    )
    after = _mail_settings(locked)
    record(
        ChannelTag.MAIL_CHANGED,
        actor=actor,
        object_type="channel",
        object_id=locked.pk,
        data={"from": before, "to": after},
    )
    return locked


@transaction.atomic
def do_add_channel_member(channel: Channel, org: Organization, *, actor: Actor) -> ChannelMember:
    _require_manager(actor, channel)
    if channel.kind == ChannelKind.PRIVATE and org.kind not in {OrgKind.VENDOR, OrgKind.UPSTREAM}:
        msg = f"A private list takes vendor and upstream security teams; {org.name} is neither."
        raise ValidationError(msg, field="org")
    if ChannelMember.objects.filter(channel=channel, org=org).exists():
        msg = f"{org.name} is already on {channel.name}."
        raise Conflict(msg)
    seat = ChannelMember.objects.create(channel=channel, org=org, joined_at=clock.now())
    record(
        ChannelTag.MEMBER_ADDED,
        actor=actor,
        object_type="channel",
        object_id=channel.pk,
        org_id=org.pk,
        data={"org": org.name},
    )
    return seat


@transaction.atomic
def do_remove_channel_member(seat: ChannelMember, *, actor: Actor) -> None:
    channel = seat.channel
    _require_manager(actor, channel)
    record(
        ChannelTag.MEMBER_REMOVED,
        actor=actor,
        object_type="channel",
        object_id=channel.pk,
        org_id=seat.org_id,
    )
    seat.delete()
