"""Mail into Lockstep over real SMTP: a member's encrypted reply becomes a post and is fanned out
re-encrypted; GnuPG on both ends; reports by mail; refusals as SMTP errors; holds."""

from __future__ import annotations

import smtplib
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path
from typing import Any

import pytest

from lockstep.cases.models import Post
from lockstep.intake.actions import do_add_report_message
from lockstep.intake.models import Report
from lockstep.mailgw.addresses import (
    bounce_address,
    case_address,
    case_member_address,
    channel_address,
    report_address,
)
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, Protection
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.mailgw.outbound.transport import FolderTransport
from lockstep.mailin.smtpd import make_controller
from lockstep.mailin.tasks import process_waiting
from lockstep.orgs.actions import do_add_user_key
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, CaseWorld, build_case_world
from tests.factories.gpg import GnuPG
from tests.flows.test_serve import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("audit_head")]
SECRET = "The overflow is in quokka_inflate(); the fix is attached."


def _send(port: int, message: EmailMessage | bytes, *, sender: str, to: str) -> None:
    data = message if isinstance(message, bytes) else message.as_bytes(policy=SMTP)
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail(sender, [to], data)


def _pgp_mime(armored: bytes, *, sender: str, to: str, subject: str) -> EmailMessage:
    outer = EmailMessage()
    outer["From"] = sender
    outer["To"] = to
    outer["Subject"] = subject
    outer.set_content("Version: 1\n")
    outer.make_mixed()
    outer.set_param("protocol", "application/pgp-encrypted")
    outer.replace_header(
        "Content-Type",
        outer["Content-Type"].replace("multipart/mixed", "multipart/encrypted"),
    )
    parts = outer.get_payload()
    control = parts[0]
    control.replace_header("Content-Type", "application/pgp-encrypted")
    data = EmailMessage()
    data.set_content(armored, maintype="application", subtype="octet-stream", cte="7bit")
    outer.attach(data)
    return outer


@pytest.fixture
def people(tmp_path: Path, list_key: str) -> tuple[CaseWorld, dict[str, GnuPG]]:
    """A case whose three members each have their own GnuPG home and key on file."""
    world = build_case_world()
    homes = {}
    for user in (world.vendor_user, world.maintainer, world.coordinator):
        gpg = GnuPG(tmp_path / user.email)
        public = gpg.generate(f"Member <{user.email}>")
        gpg.import_key(list_public_key())
        do_add_user_key(user, armored=public, actor=actor_for(user))
        homes[user.email] = gpg
    OutboundMessage.objects.all().delete()  # the copies about the case's opening
    return world, homes


def _copies(tmp_path: Path) -> dict[str, bytes]:
    folder = tmp_path / "outbox"
    rows = {row.message_id: row.to_address for row in OutboundMessage.objects.all()}
    deliver_due(
        FolderTransport(folder), now=max(r.next_attempt_at for r in OutboundMessage.objects.all())
    )
    found = {}
    for path in folder.glob("*.eml"):
        data = path.read_bytes()
        message_id = message_from_bytes(data, policy=default)["Message-ID"]
        found[rows[message_id]] = data
    return found


@pytest.mark.parametrize("compress", [True, False])
def test_gpg_reply_becomes_a_post_and_each_member_copy_decrypts_only_with_their_key(
    people: tuple[CaseWorld, dict[str, GnuPG]], smtpd_port: int, tmp_path: Path, compress: bool
) -> None:
    world, homes = people
    vendor = world.vendor_user.email
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    armored = homes[vendor].sign_encrypt(
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{SECRET}\r\n".encode(),
        signer=vendor,
        to="lockstep@lockstep.invalid",
        compress=compress,
    )
    _send(
        smtpd_port,
        _pgp_mime(armored, sender=vendor, to=to, subject="Re: case"),
        sender=vendor,
        to=to,
    )
    assert process_waiting.call() == 1
    message = InboundMessage.objects.get()
    assert (message.status, message.route, message.encrypted) == ("accepted", "post", True)
    assert message.signature == "valid"  # GnuPG's default (compressed) is checked too
    post = Post.objects.get(pk=message.post_id)
    assert SECRET in post.body
    assert post.author_id == world.vendor_user.pk
    copies = _copies(tmp_path)
    assert set(copies) == {world.maintainer.email, world.coordinator.email}  # not the author
    for address, data in copies.items():
        assert SECRET.encode() not in data
        encrypted = message_from_bytes(data, policy=default).get_payload()[1].get_content()
        plain = homes[address].run(
            "--decrypt", stdin=encrypted.encode() if isinstance(encrypted, str) else encrypted
        )
        assert SECRET.encode() in plain
        other = next(a for a in copies if a != address)
        assert not homes[other].ok(
            "--decrypt", stdin=encrypted.encode() if isinstance(encrypted, str) else encrypted
        )
        _assert_signed_by_list(homes[address], plain, tmp_path)


def _assert_signed_by_list(gpg: GnuPG, entity: bytes, tmp_path: Path) -> None:
    """The decrypted copy is multipart/signed: gpg verifies it as the list key's signature."""
    inner = message_from_bytes(entity, policy=default)
    assert inner.get_content_type() == "multipart/signed"
    boundary = inner.get_boundary()
    assert boundary is not None
    crlf = entity.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    delimiter = f"\r\n--{boundary}\r\n".encode()
    signed = crlf.split(delimiter)[1]
    signature = inner.get_payload()[1].get_content()
    (tmp_path / "signed.txt").write_bytes(signed)
    (tmp_path / "signed.asc").write_text(
        signature if isinstance(signature, str) else signature.decode()
    )
    status = gpg.run(
        "--status-fd", "1", "--verify", str(tmp_path / "signed.asc"), str(tmp_path / "signed.txt")
    ).decode("utf-8", "replace")
    assert "GOODSIG" in status
    assert "Lockstep" in status


def test_inline_pgp_message_works_too(
    people: tuple[CaseWorld, dict[str, GnuPG]], smtpd_port: int
) -> None:
    world, homes = people
    vendor = world.vendor_user.email
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    armored = homes[vendor].sign_encrypt(
        SECRET.encode(), signer=vendor, to="lockstep@lockstep.invalid"
    )
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = vendor, to, "Inline"
    mail.set_content(armored.decode())
    _send(smtpd_port, mail, sender=vendor, to=to)
    process_waiting.call()
    message = InboundMessage.objects.get()
    assert message.status == "accepted", message.reason
    assert SECRET in Post.objects.get(pk=message.post_id).body


def test_plain_unsigned_mail_from_a_member_is_held_unless_the_list_takes_it_marked(
    people: tuple[CaseWorld, dict[str, GnuPG]], smtpd_port: int
) -> None:
    world, _ = people
    to = case_member_address(world.case.pk, world.vendor_user.pk)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = world.vendor_user.email, to, "Plain"
    mail.set_content(SECRET)
    mail.add_attachment(
        b"--- a/x\n+++ b/x\n", maintype="text", subtype="x-diff", filename="fix.patch"
    )
    _send(smtpd_port, mail, sender=world.vendor_user.email, to=to)
    process_waiting.call()
    held = InboundMessage.objects.get()
    assert (held.status, held.rule) == (InboundStatus.HELD, "unverified")
    assert "It is not signed" in held.reason
    assert not Post.objects.filter(body__contains=SECRET).exists()
    channel = world.case.channel
    assert channel is not None
    channel.accepts_unsigned_mail = True
    channel.save(update_fields=["accepts_unsigned_mail"])
    _send(smtpd_port, mail, sender=world.vendor_user.email, to=to)
    process_waiting.call()
    post = Post.objects.get(pk=InboundMessage.objects.latest("id").post_id)
    assert post.unverified_sender
    assert post.body.startswith("[This message reached Lockstep unencrypted")
    assert [a.filename for a in post.attachments.all()] == ["fix.patch"]
    bodies = list(OutboundMessage.objects.values_list("body", flat=True))
    assert bodies
    assert all("[Sender not verified" in body or "log in" in body for body in bodies)


def test_outsider_and_undecryptable_mail_are_held_with_a_reason(
    people: tuple[CaseWorld, dict[str, GnuPG]], smtpd_port: int, tmp_path: Path
) -> None:
    world, _ = people
    to = case_address(world.case.pk)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = world.outsider_user.email, to, "Let me in"
    mail.set_content("hello")
    _send(smtpd_port, mail, sender=world.outsider_user.email, to=to)
    stranger = GnuPG(tmp_path / "stranger")
    stranger.generate("Stranger <s@elsewhere.example>")
    wrong = stranger.run(
        "--armor", "--trust-model", "always", "--encrypt", "-r", "s@elsewhere.example", stdin=b"x"
    )
    _send(
        smtpd_port,
        _pgp_mime(wrong, sender=world.vendor_user.email, to=to, subject="x"),
        sender=world.vendor_user.email,
        to=to,
    )
    process_waiting.call()
    held = {m.rule: m for m in InboundMessage.objects.all()}
    assert set(held) == {"unknown-sender", "undecryptable"}
    assert all(m.status == InboundStatus.HELD for m in held.values())
    assert "not a participant" in held["unknown-sender"].reason
    assert not Post.objects.filter(body__contains="hello").exists()
    assert all(m.post_id is None for m in held.values())


def test_mail_to_a_projects_security_address_becomes_a_report(
    smtpd_port: int, list_key: str
) -> None:
    world = build_case_world(accept=False)
    to = report_address(world.project.slug)
    mail = EmailMessage()
    mail["From"] = "Rae Searcher <rae@research.example>"
    mail["To"], mail["Subject"] = to, "Heap overflow in quokka_inflate"
    mail.set_content(SECRET)
    _send(smtpd_port, mail, sender="rae@research.example", to=to)
    process_waiting.call()
    report = Report.objects.get(title="Heap overflow in quokka_inflate")
    assert (report.reporter_email, report.reporter_name) == ("rae@research.example", "Rae Searcher")
    assert SECRET in report.description
    ack = OutboundMessage.objects.get(to_address="rae@research.example")
    assert ack.subject == f"Report received: {world.project.name}"
    assert "/track/" in ack.body  # she wrote in clear: the link may go back in clear
    assert ack.headers["Auto-Submitted"] == "auto-replied"


def test_refusals_are_smtp_errors_and_are_recorded(
    smtpd_port: int, list_key: str, settings: Any
) -> None:
    world = build_case_world()
    world.channel.subject_tag = "[vs]"
    world.channel.save()
    with smtplib.SMTP("127.0.0.1", smtpd_port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
            client.sendmail(
                "a@example.org", ["nobody@lockstep.invalid"], b"Subject: x\r\n\r\nx\r\n"
            )
        assert unknown.value.recipients["nobody@lockstep.invalid"][0] == 550
        with pytest.raises(smtplib.SMTPDataError) as untagged:
            client.sendmail(
                "a@example.org",
                [channel_address(world.channel.slug)],
                b"From: a@example.org\r\nSubject: no tag\r\n\r\nx\r\n",
            )
        assert untagged.value.smtp_code == 550
        assert b"Missing the [vs] tag" in untagged.value.smtp_error
        forged = case_address(world.case.pk).replace("case-", "case-9")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("a@example.org", [forged], b"Subject: x\r\n\r\nx\r\n")
        client.sendmail(
            "a@example.org",
            [case_address(world.case.pk)],
            b"From: lockstep@lockstep.invalid\r\nSubject: loop\r\n\r\nx\r\n",
        )
        client.sendmail(
            "a@example.org",
            [case_address(world.case.pk)],
            b"From: a@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: Away\r\n\r\nx\r\n",
        )
    rows = {m.rule: m.status for m in InboundMessage.objects.all()}
    assert rows == {"missing-tag": "rejected", "loop": "discarded", "auto-reply": "discarded"}


def test_a_bounce_holds_the_copy_it_names(smtpd_port: int, list_key: str) -> None:
    world = build_case_world()
    row = OutboundMessage.objects.filter(protection=Protection.NOTICE).first()
    assert row is not None
    dsn = (
        f"From: MAILER-DAEMON@mx.example\r\nTo: {bounce_address(row.pk)}\r\n"
        "Auto-Submitted: auto-replied\r\nSubject: Undelivered Mail\r\n\r\n"
        "550 5.1.1 <gone@example.org>: mailbox unavailable\r\n"
    ).encode()
    _send(smtpd_port, dsn, sender="", to=bounce_address(row.pk))
    process_waiting.call()
    row.refresh_from_db()
    assert row.status == "held"
    assert "mailbox unavailable" in row.last_error
    assert world.case.pk


def test_lmtp_too(list_key: str) -> None:
    world = build_case_world(accept=False)
    port = free_port()
    controller = make_controller("127.0.0.1", port, lmtp=True)
    controller.start()
    try:
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.sendmail(
                "rae@research.example",
                [report_address(world.project.slug)],
                b"From: rae@research.example\r\nSubject: By LMTP\r\n\r\nDetails\r\n",
            )
    finally:
        controller.stop()
    process_waiting.call()
    assert Report.objects.filter(title="By LMTP").exists()


def test_an_encrypted_report_is_acknowledged_without_its_link(
    smtpd_port: int, list_key: str, tmp_path: Path
) -> None:
    world = build_case_world(accept=False)
    to = report_address(world.project.slug)
    researcher = GnuPG(tmp_path / "rae")
    researcher.generate("Rae <rae@research.example>")
    researcher.import_key(list_public_key())
    armored = researcher.sign_encrypt(
        f"Subject: Secret overflow\r\nContent-Type: text/plain\r\n\r\n{SECRET}\r\n".encode(),
        signer="rae@research.example",
        to="lockstep@lockstep.invalid",
    )
    mail = _pgp_mime(armored, sender="rae@research.example", to=to, subject="Encrypted report")
    _send(smtpd_port, mail, sender="rae@research.example", to=to)
    process_waiting.call()
    report = Report.objects.get(reporter_email="rae@research.example")
    assert report.title == "Secret overflow"  # the protected subject from inside
    assert SECRET in report.description
    ack = OutboundMessage.objects.get(to_address="rae@research.example")
    assert "/track/" not in ack.body
    assert "Secret overflow" not in ack.subject + ack.body
    # She holds no link to read news at, and a notice in clear would undo her care: none.
    do_add_report_message(report, body="Reproduced.", from_reporter=False, actor=SYSTEM)
    assert OutboundMessage.objects.filter(to_address="rae@research.example").count() == 1
