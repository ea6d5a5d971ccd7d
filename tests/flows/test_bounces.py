"""Bounces over real SMTP are read, not guessed: Postfix's delivery status notifications (and
other mail) sent to a copy's bounce address. Only a failure holds the copy, with the remote
server's Status and Diagnostic-Code; a delay warning or a vacation reply is recorded and
changes nothing; a copy a worker is sending is not held (a "Retry" then would send it
twice)."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction

from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.mailgw.addresses import bounce_address
from lockstep.mailgw.models import InboundMessage, OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.holds import do_retry_held
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.mailgw.outbound.transport import FolderTransport, wire_format
from lockstep.mailin.tasks import process_waiting

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("audit_head", "list_key"),
]
MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
USER_UNKNOWN = (
    "bounced: 5.1.1 smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
)


def _sent_copy(outbox: Path) -> OutboundMessage:
    """A copy, queued and handed to the relay (here: the outbox folder)."""
    with transaction.atomic():
        (row,) = fan_out(
            MailSpec(subject="s", body="b", confidential=False), [Recipient("gone@example.org")]
        )
    assert deliver_due(FolderTransport(outbox), now=clock.now() + timedelta(minutes=1)).sent == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    return row


def _bounce(port: int, row_id: int, sample: str) -> InboundMessage:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("", [bounce_address(row_id)], wire_format((MAIL / sample).read_bytes()))
    assert process_waiting.call() == 1
    return InboundMessage.objects.get(rcpt_to=[bounce_address(row_id)])


def test_a_failed_dsn_holds_a_sent_copy_with_status_and_diagnostic(
    smtpd_port: int, tmp_path: Path
) -> None:
    row = _sent_copy(tmp_path)
    bounce = _bounce(smtpd_port, row.pk, "dsn-postfix-failed.eml")
    row.refresh_from_db()
    assert (row.status, row.last_error) == (OutboxStatus.HELD, USER_UNKNOWN)
    assert (bounce.status, bounce.rule, bounce.route) == ("accepted", "bounce", "bounce")
    assert bounce.reason == USER_UNKNOWN.removeprefix("bounced: ")
    # A coordinator's "Retry" sends the held copy once more, and once only.
    do_retry_held(row, actor=Actor.system("tests"))
    assert deliver_due(FolderTransport(tmp_path), now=clock.now() + timedelta(minutes=1)).sent == 1
    assert deliver_due(FolderTransport(tmp_path), now=clock.now() + timedelta(hours=5)).sent == 0


def test_a_delayed_dsn_is_recorded_and_holds_nothing(smtpd_port: int, tmp_path: Path) -> None:
    row = _sent_copy(tmp_path)
    bounce = _bounce(smtpd_port, row.pk, "dsn-postfix-delayed.eml")
    row.refresh_from_db()
    assert (row.status, row.last_error) == (OutboxStatus.SENT, "")
    assert bounce.status == "accepted"
    assert bounce.reason == (
        "delivery delayed (4.4.1 X-Postfix; connect to mail.example.com[203.0.113.9]:25: "
        "Connection timed out)"
    )


def test_a_vacation_reply_holds_nothing_and_a_qmail_bounce_holds(
    smtpd_port: int, tmp_path: Path
) -> None:
    away, gone = _sent_copy(tmp_path), _sent_copy(tmp_path)
    assert _bounce(smtpd_port, away.pk, "vacation.eml").reason.startswith(
        "not a delivery failure: I am out of the office"
    )
    _bounce(smtpd_port, gone.pk, "bounce-qmail.eml")
    away.refresh_from_db()
    gone.refresh_from_db()
    assert away.status == OutboxStatus.SENT
    assert gone.status == OutboxStatus.HELD
    assert gone.last_error.startswith("bounced: This is a permanent error;")
    assert "no mailbox here by that name. (#5.1.1)" in gone.last_error


def test_a_copy_being_sent_is_not_held(smtpd_port: int, tmp_path: Path) -> None:
    row = _sent_copy(tmp_path)
    OutboundMessage.objects.filter(pk=row.pk).update(status=OutboxStatus.SENDING)
    bounce = _bounce(smtpd_port, row.pk, "dsn-postfix-multiline.eml")
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENDING  # its worker records how it went
    assert bounce.status == "accepted"
    assert bounce.reason.startswith("5.1.1 smtp; 550-5.1.1 The email account")
    assert bounce.reason.endswith("(not held: the copy is being sent)")


def test_a_bounce_for_a_copy_that_is_gone_is_discarded(smtpd_port: int, tmp_path: Path) -> None:
    row = _sent_copy(tmp_path)
    OutboundMessage.objects.filter(pk=row.pk).delete()
    bounce = _bounce(smtpd_port, row.pk, "dsn-postfix-failed.eml")
    assert (bounce.status, bounce.rule) == ("discarded", "bounce")
