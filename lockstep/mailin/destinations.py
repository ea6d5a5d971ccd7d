"""Which case, project or channel a recipient address names, and who may write to it."""

from __future__ import annotations

from dataclasses import dataclass

from lockstep.cases.models import Case
from lockstep.channels.models import Channel, ChannelKind
from lockstep.mailgw.addresses import AddressKind, parse_address
from lockstep.orgs.models import Membership, OpenPGPKey
from lockstep.projects.models import Project


@dataclass(frozen=True)
class Destination:
    kind: AddressKind
    project: Project | None = None
    case: Case | None = None
    channel: Channel | None = None
    outbox_id: int | None = None
    member_id: int | None = None  # a case address issued to one member (their user id)

    @property
    def required_tag(self) -> str:
        """New threads on a channel carry its tag; replies to a case need not."""
        channel = self.channel
        if self.kind == AddressKind.CHANNEL and channel is not None and channel.subject_tag:
            return channel.subject_tag
        return ""

    @property
    def confidential(self) -> bool:
        if self.case is not None:
            return self.case.is_embargoed
        return self.channel is not None and self.channel.kind == ChannelKind.PRIVATE


def resolve(address: str) -> Destination | None:
    """The destination `address` names, or None if it names nothing that exists."""
    parsed = parse_address(address)
    if parsed is None or parsed.kind == AddressKind.POSTMASTER:
        bare = address.strip().strip("<>").lower() == "postmaster"  # RFC 5321 4.5.1
        return Destination(AddressKind.POSTMASTER) if parsed or bare else None
    if parsed.kind == AddressKind.REPORT:
        project = Project.objects.filter(slug=parsed.value).first()
        return Destination(parsed.kind, project=project) if project else None
    if parsed.kind == AddressKind.CASE:
        case = Case.objects.select_related("channel", "project").filter(pk=parsed.value).first()
        return Destination(parsed.kind, case=case, member_id=parsed.member) if case else None
    if parsed.kind == AddressKind.BOUNCE:
        return Destination(parsed.kind, outbox_id=int(parsed.value))
    channel = Channel.objects.filter(slug=parsed.value).first()
    return Destination(parsed.kind, channel=channel) if channel else None


def first_destination(addresses: list[str]) -> Destination | None:
    for address in addresses:
        found = resolve(address)
        if found is not None:
            return found
    return None


def member_seats(destination: Destination, user_id: int) -> list[Membership]:
    """The sender's memberships that let them write here (participating orgs, channel orgs)."""
    seats = Membership.objects.filter(user_id=user_id, user__is_active=True).select_related("org")
    if destination.case is not None:
        return list(seats.filter(org__case_seats__case=destination.case).distinct())
    if destination.channel is not None:
        return list(seats.filter(org__channel_seats__channel=destination.channel).distinct())
    return []


def sender_keys(address: str) -> list[str]:
    """Every current key on file for the user with this address."""
    if not address:
        return []
    keys = OpenPGPKey.objects.filter(user__email__iexact=address, removed_at__isnull=True)
    return list(keys.values_list("armored", flat=True))
