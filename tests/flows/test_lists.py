"""List mail policy and the public list: clear text only by double consent, public posts are
archived and relayed signed by the list key (GnuPG verifies), and a member may post by mail."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from lockstep.accounts.actions import do_set_plain_mail
from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.mail_queries import mail_recipients
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.actions import do_add_channel_member, do_set_channel_mail
from lockstep.channels.models import ChannelKind, PublicPost
from lockstep.channels.public import do_post_public
from lockstep.core.actor import Actor
from lockstep.core.errors import PermissionDenied, ValidationError
from lockstep.mailgw.addresses import case_member_address, channel_address, report_address
from lockstep.mailgw.inbound.store import store_inbound
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, Protection
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.outbox import PLAIN_MARKER
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.mailgw.outbound.transport import FolderTransport
from lockstep.mailin.pipeline import process
from lockstep.orgs.actions import do_add_member
from tests.conftest import actor_for
from tests.factories.cases import build_case_world
from tests.factories.gpg import GnuPG
from tests.factories.world import ChannelFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def test_clear_text_needs_both_the_member_and_the_list() -> None:
    world = build_case_world()
    vendor = world.vendor_user
    actor = actor_for(world.maintainer)

    def protection() -> str:
        OutboundMessage.objects.all().delete()
        do_add_post(access_case_by_id(actor, world.case.pk), body="Details.", actor=actor)
        return OutboundMessage.objects.get(to_address=vendor.email).protection

    assert protection() == Protection.NOTICE
    do_set_plain_mail(vendor, plain=True, actor=actor_for(vendor))
    assert protection() == Protection.NOTICE  # the list does not allow it yet
    do_set_channel_mail(
        world.channel,
        subject_tag="[vs]",
        allows_plain_mail=True,
        actor=actor_for(world.coordinator),
    )
    assert protection() == Protection.PLAIN
    row = OutboundMessage.objects.get(to_address=vendor.email)
    assert row.subject.startswith(f"{PLAIN_MARKER} [vs]")
    recipients = {r.address: r for r in mail_recipients(world.case, except_user_id=None)}
    assert recipients[world.coordinator.email].plain_ok is False  # did not choose it
    with pytest.raises(PermissionDenied):
        do_set_plain_mail(world.coordinator, plain=True, actor=actor_for(vendor))
    tags = set(AuditEvent.objects.values_list("tag", flat=True))
    assert {"account:mail:changed", "channel:mail:changed"} <= tags


def test_only_managers_set_mail_and_only_operators_set_relays() -> None:
    world = build_case_world()
    with pytest.raises(PermissionDenied):
        do_set_channel_mail(
            world.channel,
            subject_tag="[vs]",
            allows_plain_mail=False,
            actor=actor_for(world.vendor_user),
        )
    with pytest.raises(ValidationError, match="one word"):
        do_set_channel_mail(
            world.channel,
            subject_tag="[v s]",
            allows_plain_mail=False,
            actor=actor_for(world.coordinator),
        )
    public = ChannelFactory(name="oss", kind=ChannelKind.PUBLIC, operated_by=world.coordinator_org)
    with pytest.raises(PermissionDenied, match="operator"):
        do_set_channel_mail(
            public,
            subject_tag="",
            allows_plain_mail=False,
            relay_to=["a@example.org"],
            actor=actor_for(world.coordinator),
        )
    with pytest.raises(ValidationError, match="not an e-mail"):
        do_set_channel_mail(
            public, subject_tag="", allows_plain_mail=False, relay_to=["nope"], actor=SYSTEM
        )
    with pytest.raises(ValidationError, match="always clear"):
        do_set_channel_mail(public, subject_tag="", allows_plain_mail=True, actor=SYSTEM)
    with pytest.raises(ValidationError, match="public list"):
        do_set_channel_mail(
            world.channel,
            subject_tag="",
            allows_plain_mail=False,
            relay_to=["a@example.org"],
            actor=SYSTEM,
        )


@pytest.fixture
def public_list(list_key: str) -> tuple[object, object, object]:
    upstream = OrganizationFactory(name="Quokka advisories")
    member = UserFactory()
    do_add_member(upstream, member, actor=SYSTEM)
    channel = ChannelFactory(name="oss-security", slug="oss-security", kind=ChannelKind.PUBLIC)
    do_add_channel_member(channel, upstream, actor=SYSTEM)
    do_set_channel_mail(
        channel,
        subject_tag="",
        allows_plain_mail=False,
        relay_to=["oss-security@lists.example.org"],
        actor=SYSTEM,
    )
    channel.refresh_from_db()
    return channel, member, upstream


def test_a_public_post_is_archived_and_relayed_signed(
    public_list: tuple[Any, Any, Any], tmp_path: Path, client: Client
) -> None:
    channel, member, _ = public_list
    post = do_post_public(
        channel,
        subject="CVE-2026-1234: libquokka heap overflow",
        body="Fixed in 1.2.4. Details follow.",
        actor=actor_for(member),
    )
    (row,) = OutboundMessage.objects.all()
    assert (row.to_address, row.protection) == ("oss-security@lists.example.org", "signed")
    deliver_due(FolderTransport(tmp_path), now=row.next_attempt_at)
    (path,) = tmp_path.glob("*.eml")
    data = path.read_bytes()
    mail = message_from_bytes(data, policy=default)
    assert mail["List-Id"] == f"<oss-security.{'lockstep.invalid'}>"
    assert mail.get_content_type() == "multipart/signed"
    gpg = GnuPG(tmp_path / "subscriber")
    gpg.import_key(list_public_key())
    boundary = mail.get_boundary()
    crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signed = crlf.split(f"\r\n--{boundary}\r\n".encode())[1]
    (tmp_path / "part").write_bytes(signed)
    signature = mail.get_payload()[1].get_content()
    (tmp_path / "part.asc").write_bytes(
        signature if isinstance(signature, bytes) else signature.encode()
    )
    assert gpg.ok("--verify", str(tmp_path / "part.asc"), str(tmp_path / "part"))
    assert b"Fixed in 1.2.4." in signed
    archive = client.get(f"/lists/{channel.slug}/").content.decode()  # no login needed
    assert "CVE-2026-1234: libquokka heap overflow" in archive
    page = client.get(f"/lists/{channel.slug}/{post.pk}/").content.decode()
    assert "Fixed in 1.2.4." in page


def test_outsiders_cannot_post_and_private_lists_have_no_archive(
    public_list: tuple[Any, Any, Any], client: Client
) -> None:
    channel, _, _ = public_list
    with pytest.raises(PermissionDenied):
        do_post_public(channel, subject="x", body="y", actor=actor_for(UserFactory()))
    world = build_case_world()
    with pytest.raises(PermissionDenied):  # a private list has no public posts at all
        do_post_public(world.channel, subject="x", body="y", actor=SYSTEM)
    assert client.get(f"/lists/{world.channel.slug}/").status_code == 404
    assert client.get(f"/lists/{channel.slug}/999/").status_code == 404


def _mail_to(channel_slug: str, sender: str, body: str, *, encrypted: bool = False) -> bytes:
    kind = (
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"'
        if encrypted
        else "text/plain"
    )
    return (
        f"From: {sender}\r\nTo: {channel_address(channel_slug)}\r\nSubject: Advisory\r\n"
        f"Content-Type: {kind}\r\n\r\n{body}\r\n"
    ).encode()


def test_a_member_posts_to_the_public_list_by_mail(public_list: tuple[Any, Any, Any]) -> None:
    channel, member, _ = public_list
    raw = _mail_to(channel.slug, member.email, "Version 1.2.4 fixes CVE-2026-1234.")
    unsigned = store_inbound(raw, mail_from=member.email, rcpt_to=[channel_address(channel.slug)])
    assert process(unsigned) == InboundStatus.HELD  # nothing proves who sent it
    unsigned.refresh_from_db()
    assert unsigned.rule == "unverified"
    assert not PublicPost.objects.exists()
    channel.accepts_unsigned_mail = True  # the list's coordinators chose to take it, marked
    channel.save(update_fields=["accepts_unsigned_mail"])
    message = store_inbound(raw, mail_from=member.email, rcpt_to=[channel_address(channel.slug)])
    assert process(message) == InboundStatus.ACCEPTED
    published = PublicPost.objects.get(pk=message.post_id)
    assert published.subject == "Advisory"
    assert published.unverified_sender
    relayed = OutboundMessage.objects.get(protection=Protection.SIGNED)
    assert relayed.body.startswith("[Sender not verified")
    assert OutboundMessage.objects.filter(protection=Protection.SIGNED).count() == 1
    stranger = store_inbound(
        _mail_to(channel.slug, "x@elsewhere.example", "spam"),
        mail_from="x@elsewhere.example",
        rcpt_to=[channel_address(channel.slug)],
    )
    assert process(stranger) == InboundStatus.HELD


def test_the_list_key_is_published(client: Client, list_key: str) -> None:
    response = client.get("/list-key.asc")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in text


def test_channel_page_forms(
    client: Client, list_key: str, public_list: tuple[Any, Any, Any]
) -> None:
    channel, member, _ = public_list
    client.force_login(member)
    page = client.get(f"/channels/{channel.slug}/").content.decode()
    assert "Post to oss-security" in page
    response = client.post(
        f"/channels/{channel.slug}/publish/", {"subject": "Hello", "body": "Public text."}
    )
    assert response.status_code == 302
    assert PublicPost.objects.filter(subject="Hello").exists()
    world = build_case_world()
    client.force_login(world.coordinator)
    client.post(
        f"/channels/{world.channel.slug}/mail/",
        {"subject_tag": "[vs]", "allows_plain_mail": "on"},
    )
    world.channel.refresh_from_db()
    assert (world.channel.subject_tag, world.channel.allows_plain_mail) == ("[vs]", True)
    client.force_login(world.vendor_user)
    keys_page = client.get("/account/keys/").content.decode()
    assert keys_page.count('id="mail-settings"') == 1
    assert "<title>My OpenPGP keys" in keys_page
    client.post("/account/mail/", {"plain_mail": "on"})
    world.vendor_user.refresh_from_db()
    assert world.vendor_user.plain_mail is True


def test_reports_by_mail_are_rate_limited_per_sender(list_key: str, settings: Any) -> None:
    settings.LOCKSTEP_REPORT_RATE = 2
    world = build_case_world(accept=False)
    to = report_address(world.project.slug)
    outcomes = []
    for n in range(3):
        raw = f"From: flood@example.org\r\nTo: {to}\r\nSubject: Report {n}\r\n\r\nText\r\n".encode()
        outcomes.append(process(store_inbound(raw, mail_from="flood@example.org", rcpt_to=[to])))
    assert outcomes == ["accepted", "accepted", "held"]
    held = InboundMessage.objects.get(status="held")
    assert "More than 2 reports by mail within an hour from flood@example.org" in held.reason
    assert OutboundMessage.objects.filter(to_address="flood@example.org").count() == 2


def test_coordinators_choose_to_take_unsigned_mail_and_the_mark_shows(
    client: Client, list_key: str
) -> None:
    world = build_case_world()
    client.force_login(world.coordinator)
    page = client.get(f"/channels/{world.channel.slug}/").content.decode()
    assert 'name="accepts_unsigned_mail"' in page
    client.post(
        f"/channels/{world.channel.slug}/mail/",
        {"subject_tag": "[vs]", "accepts_unsigned_mail": "on"},
    )
    world.channel.refresh_from_db()
    assert world.channel.accepts_unsigned_mail
    change = AuditEvent.objects.filter(tag="channel:mail:changed").latest("seq")
    assert (change.data["from"]["unsigned"], change.data["to"]["unsigned"]) == (False, True)
    raw = (
        f"From: {world.vendor_user.email}\r\n"
        f"To: {case_member_address(world.case.pk, world.vendor_user.pk)}\r\n"
        "Subject: Re\r\n\r\nWe ship on Thursday.\r\n"
    ).encode()
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    message = store_inbound(raw, mail_from=world.vendor_user.email, rcpt_to=[to])
    assert process(message) == InboundStatus.ACCEPTED
    room = client.get(f"/cases/{world.case.pk}/").content.decode()
    assert "We ship on Thursday." in room
    assert "sender not verified" in room
