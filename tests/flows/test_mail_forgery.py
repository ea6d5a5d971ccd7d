"""Mail that claims to be a participant must prove it: forgeries are held, never posted.

Real SMTP into `lockstep smtpd` and real GnuPG on the senders' side, as an attacker would try
it: clear text, encrypted but unsigned, signed by an outsider's key, signed by another member,
the shared or someone else's case address, a removed participant's old address, a forged
post to a public list. And the other side: genuine replies (GnuPG's default and RFC 3156) are
posted, a reporter's own signature never keeps a report from triage, and a flood of forged
reports cannot turn Lockstep into a backscatter cannon.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.participants import do_remove_participant
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.models import DateAgreement, Participant, Post
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.models import ChannelKind, PublicPost
from lockstep.core import clock
from lockstep.intake.models import Report
from lockstep.mailgw.addresses import (
    case_address,
    case_member_address,
    channel_address,
    report_address,
)
from lockstep.mailgw.inbound.store import store_inbound
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.mailin.pipeline import process
from lockstep.mailin.tasks import process_waiting
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.gpg import GnuPG
from tests.flows.test_mail_in import _copies, _pgp_mime, _send, people

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("audit_head")]
__all__ = ["people"]  # a fixture shared with the mail-in flow tests
LIST = "lockstep@lockstep.invalid"
WORDS = "The fix is out, we publish today."
People = tuple[CaseWorld, dict[str, GnuPG]]


def _entity(text: str) -> bytes:
    return f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n".encode()


def _clear_text(world: CaseWorld, homes: dict[str, GnuPG], tmp_path: Path) -> tuple[Any, str]:
    mail = EmailMessage()
    mail["From"], mail["Subject"] = world.vendor_user.email, "Re: case"
    mail.set_content(WORDS)
    return mail, case_member_address(world.case.pk, world.vendor_user.pk)


def _encrypted_unsigned(world: CaseWorld, homes: dict[str, GnuPG], tmp_path: Path) -> Any:
    anyone = GnuPG(tmp_path / "anyone")
    anyone.import_key(list_public_key())
    armored = anyone.run(
        "--armor", "--trust-model", "always", "-e", "-r", LIST, stdin=_entity(WORDS)
    )
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    return _pgp_mime(armored, sender=world.vendor_user.email, to=to, subject="Re: case"), to


def _outsider_key(world: CaseWorld, homes: dict[str, GnuPG], tmp_path: Path) -> Any:
    outsider = GnuPG(tmp_path / "outsider")
    outsider.generate("Mallory <mallory@elsewhere.example>")
    outsider.import_key(list_public_key())
    armored = outsider.sign_encrypt(_entity(WORDS), signer="mallory@elsewhere.example", to=LIST)
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    return _pgp_mime(armored, sender=world.vendor_user.email, to=to, subject="Re: case"), to


def _another_member(world: CaseWorld, homes: dict[str, GnuPG], tmp_path: Path) -> Any:
    maintainer = world.maintainer.email  # a real participant, signing as themselves
    armored = homes[maintainer].sign_encrypt(_entity(WORDS), signer=maintainer, to=LIST)
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    return _pgp_mime(armored, sender=world.vendor_user.email, to=to, subject="Re: case"), to


def _shared_address(world: CaseWorld, homes: dict[str, GnuPG], tmp_path: Path) -> Any:
    vendor = world.vendor_user.email
    armored = homes[vendor].sign_encrypt(_entity(WORDS), signer=vendor, to=LIST)
    to = case_address(world.case.pk)  # printed in every older copy's clear-text Reply-To
    return _pgp_mime(armored, sender=vendor, to=to, subject="Re: case"), to


def _someone_elses_address(world: CaseWorld, homes: dict[str, GnuPG], tmp_path: Path) -> Any:
    coordinator = world.coordinator.email
    armored = homes[coordinator].sign_encrypt(_entity(WORDS), signer=coordinator, to=LIST)
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    return _pgp_mime(armored, sender=coordinator, to=to, subject="Re: case"), to


FORGERIES: dict[str, tuple[Callable[..., Any], str, str]] = {
    "clear text": (_clear_text, "unverified", "It is not signed"),
    "encrypted, unsigned": (_encrypted_unsigned, "unverified", "It is not signed"),
    "gpg -se by an outsider": (_outsider_key, "bad-signature", "not validly by any key"),
    "signed by another member": (_another_member, "bad-signature", "not validly by any key"),
    "the shared case address": (_shared_address, "wrong-address", "shared address"),
    "another member's address": (_someone_elses_address, "wrong-address", "another member"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_reply_to_an_embargoed_case_is_held_never_posted(
    people: People, smtpd_port: int, tmp_path: Path, forgery: str
) -> None:
    world, homes = people
    build, rule, reason = FORGERIES[forgery]
    mail, to = build(world, homes, tmp_path)
    if "To" not in mail:
        mail["To"] = to
    _send(smtpd_port, mail, sender=world.vendor_user.email, to=to)
    assert process_waiting.call() == 1
    message = InboundMessage.objects.get()
    assert (message.status, message.rule) == (InboundStatus.HELD, rule), message.reason
    assert reason in message.reason
    assert message.case_id == world.case.pk  # the case's leads see it on /outbox/
    assert not Post.objects.filter(body__contains="publish today").exists()
    assert not OutboundMessage.objects.exists()  # nothing was fanned out


def test_a_genuine_rfc3156_sign_then_encrypt_reply_is_verified_and_posted(
    people: People, smtpd_port: int, tmp_path: Path
) -> None:
    world, homes = people
    vendor = world.vendor_user.email
    inner = _entity(WORDS)
    (tmp_path / "inner.txt").write_bytes(inner)
    signature = homes[vendor].run(
        "--armor",
        "--digest-algo",
        "SHA512",
        "--output",
        "-",
        "--detach-sign",
        "-u",
        vendor,
        str(tmp_path / "inner.txt"),
    )
    signed = (
        b'Content-Type: multipart/signed; micalg=pgp-sha512; protocol="application/pgp-signature";'
        b' boundary="sig"\r\n\r\n--sig\r\n'
        + inner
        + b"\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n"
        + signature.replace(b"\n", b"\r\n")
        + b"\r\n--sig--\r\n"
    )
    armored = homes[vendor].run(
        "--armor", "--trust-model", "always", "-e", "-r", LIST, stdin=signed
    )
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    _send(smtpd_port, _pgp_mime(armored, sender=vendor, to=to, subject="Re"), sender=vendor, to=to)
    process_waiting.call()
    message = InboundMessage.objects.get()
    assert (message.status, message.signature) == (InboundStatus.ACCEPTED, "valid"), message.reason
    post = Post.objects.get(pk=message.post_id)
    assert WORDS in post.body
    assert not post.unverified_sender
    assert post.author_id == world.vendor_user.pk


def test_removing_a_participant_cancels_its_waiting_copies_and_retires_its_address(
    people: People, smtpd_port: int, tmp_path: Path
) -> None:
    world, homes = people
    lead = actor_for(world.maintainer)
    access = access_case_by_id(lead, world.case.pk)
    DateAgreement.objects.create(
        case=world.case,
        org=world.vendor,
        disclosure_at=clock.now(),
        agreed_by=world.vendor_user,
        agreed_at=clock.now(),
    )
    # The relay is down: the post's copies wait in the outbox.
    do_add_post(access, body="Patch v2 attached for review.", actor=lead)
    waiting = set(OutboundMessage.objects.values_list("to_address", flat=True))
    assert world.vendor_user.email in waiting
    seat = Participant.objects.get(case=world.case, org=world.vendor)
    do_remove_participant(access_case_by_id(lead, world.case.pk), seat, actor=lead)
    cancelled = OutboundMessage.objects.get(to_address=world.vendor_user.email)
    assert cancelled.status == OutboxStatus.DROPPED
    assert "removed from the case" in cancelled.last_error
    assert not DateAgreement.objects.filter(case=world.case, org=world.vendor).exists()
    removal = AuditEvent.objects.filter(tag="case:participant:removed").latest("seq")
    assert removal.data["copies_cancelled"] == [cancelled.pk]
    assert removal.data["agreements_withdrawn"] == 1
    # The relay is back: the removed organisation receives nothing.
    assert world.vendor_user.email not in _copies(tmp_path)
    # Their old reply address, with a valid signature, no longer makes a post.
    vendor = world.vendor_user.email
    armored = homes[vendor].sign_encrypt(_entity(WORDS), signer=vendor, to=LIST)
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    _send(smtpd_port, _pgp_mime(armored, sender=vendor, to=to, subject="Re"), sender=vendor, to=to)
    process_waiting.call()
    message = InboundMessage.objects.get()
    assert (message.status, message.rule) == (InboundStatus.HELD, "unknown-sender")
    assert not Post.objects.filter(body__contains="publish today").exists()


def test_each_member_gets_their_own_reply_address(people: People) -> None:
    world, _ = people
    do_add_post(
        access_case_by_id(actor_for(world.maintainer), world.case.pk),
        body="Hello all.",
        actor=actor_for(world.maintainer),
    )
    for row in OutboundMessage.objects.all():
        user = next(u for u in (world.vendor_user, world.coordinator) if u.email == row.to_address)
        assert row.headers["Reply-To"] == case_member_address(world.case.pk, user.pk)
        assert row.headers["List-Post"] == f"<mailto:{row.headers['Reply-To']}>"


def test_a_reporters_own_signature_never_keeps_a_report_from_triage(
    smtpd_port: int, list_key: str, tmp_path: Path, client: Client
) -> None:
    world = build_case_world(accept=False)
    reporter = GnuPG(tmp_path / "reporter")
    reporter.generate("Rae Searcher <rae@research.example>")
    reporter.import_key(list_public_key())
    to = report_address(world.project.slug)
    armored = reporter.sign_encrypt(_entity(WORDS), signer="rae@research.example", to=LIST)
    mail = _pgp_mime(armored, sender="Rae Searcher <rae@research.example>", to=to, subject="x")
    _send(smtpd_port, mail, sender="rae@research.example", to=to)
    process_waiting.call()
    message = InboundMessage.objects.get()
    assert (message.status, message.route, message.signature) == ("accepted", "report", "bad")
    assert message.signer  # the key it names, shown to the maintainers
    report = Report.objects.get(pk=message.report_id)
    assert report.submitted_by_id is None  # nothing links it to an account
    client.force_login(world.maintainer)
    page = client.get(f"/triage/{report.pk}/").content.decode()
    assert "signed by unknown key" in page
    assert message.signer in page


def _public_list(world: CaseWorld) -> Any:
    channel = world.channel
    channel.kind = ChannelKind.PUBLIC
    channel.max_embargo_days = channel.preferred_embargo_days = channel.min_embargo_hours = None
    channel.save()
    return channel


def test_a_forged_post_to_a_public_list_is_held_and_a_signed_one_published(
    people: People, tmp_path: Path
) -> None:
    world, homes = people
    channel = _public_list(world)
    vendor = world.vendor_user.email
    to = channel_address(channel.slug)
    forged = f"From: {vendor}\r\nTo: {to}\r\nSubject: Advisory\r\n\r\n{WORDS}\r\n".encode()
    message = store_inbound(forged, mail_from=vendor, rcpt_to=[to])
    assert process(message) == InboundStatus.HELD
    assert not PublicPost.objects.exists()
    signed = homes[vendor].run("--clearsign", "-u", vendor, stdin=WORDS.encode())
    genuine = f"From: {vendor}\r\nTo: {to}\r\nSubject: Advisory\r\n\r\n".encode() + signed
    accepted = store_inbound(genuine, mail_from=vendor, rcpt_to=[to])
    assert process(accepted) == InboundStatus.ACCEPTED
    published = PublicPost.objects.get()
    assert not published.unverified_sender
    assert WORDS in published.body


def test_forged_from_reports_produce_at_most_the_capped_acknowledgements(
    list_key: str, settings: Any
) -> None:
    settings.LOCKSTEP_REPORT_RATE = 1000
    settings.LOCKSTEP_MAIL_REPORTS_PER_DOMAIN = 1000
    settings.LOCKSTEP_MAIL_REPORTS_PER_HOUR = 1000
    world = build_case_world(accept=False)
    OutboundMessage.objects.all().delete()
    before = Report.objects.count()
    to = report_address(world.project.slug)
    for n in range(200):  # one victim mailbox and many at the victim's domain
        victim = "victim@target.example" if n % 2 else f"user{n}@target.example"
        raw = f"From: {victim}\r\nTo: {to}\r\nSubject: Report {n}\r\n\r\nText\r\n".encode()
        process(store_inbound(raw, mail_from=victim, rcpt_to=[to]))
    assert Report.objects.count() - before == 200  # nothing is lost
    acks = list(OutboundMessage.objects.values_list("to_address", flat=True))
    assert len(acks) == settings.LOCKSTEP_MAIL_ACKS_PER_DOMAIN
    assert acks.count("victim@target.example") <= settings.LOCKSTEP_MAIL_ACKS_PER_ADDRESS


def test_reports_by_mail_are_capped_per_domain_and_on_the_instance(
    list_key: str, settings: Any
) -> None:
    settings.LOCKSTEP_MAIL_REPORTS_PER_DOMAIN = 3
    settings.LOCKSTEP_MAIL_REPORTS_PER_HOUR = 5
    world = build_case_world(accept=False)
    to = report_address(world.project.slug)
    outcomes = []
    for n in range(7):
        sender = f"r{n}@one.example" if n < 4 else f"r{n}@other{n}.example"
        raw = f"From: {sender}\r\nTo: {to}\r\nSubject: Report {n}\r\n\r\nText\r\n".encode()
        outcomes.append(process(store_inbound(raw, mail_from=sender, rcpt_to=[to])))
    assert outcomes == ["accepted"] * 3 + ["held"] + ["accepted"] * 2 + ["held"]
    reasons = list(InboundMessage.objects.filter(status="held").values_list("reason", flat=True))
    assert "from the domain one.example" in reasons[0]
    assert "on this instance" in reasons[1]
    held = InboundMessage.objects.filter(status="held").first()
    assert held is not None
    assert held.project_id == world.project.pk  # the maintainers see it, and may let it in
