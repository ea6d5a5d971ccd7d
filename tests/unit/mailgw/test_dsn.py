"""Reading what comes back to a bounce address: Postfix's delivery status notifications (a
failure, a failure whose diagnostic runs over several lines, a delay warning), a bounce
without a report part (qmail), and mail that is no failure at all (a vacation reply, a read
receipt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockstep.mailgw.inbound.dsn import (
    Bounce,
    RecipientStatus,
    first_lines,
    looks_like_failure,
    read_bounce,
    read_dsn,
)
from lockstep.mailgw.inbound.letter import parse, read_body, read_headers

MAIL = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
GMAIL_SAYS = (
    "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try "
    "550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 "
    "unnecessary spaces. For more information, go to 550 5.1.1 "
    "https://support.google.example/mail/?p=NoSuchUser "
    "d75a77b69052e-4f1c2b3a4d5sm1234567qtb.12 - gsmtp"
)


def _bounce(name: str) -> Bounce:
    message = parse((MAIL / name).read_bytes())
    subject = read_headers(message).subject
    return read_bounce(message, subject=subject, text=read_body(message).text)


def test_a_postfix_failure_is_read_from_its_report() -> None:
    message = parse((MAIL / "dsn-postfix-failed.eml").read_bytes())
    assert read_dsn(message) == (
        RecipientStatus(
            recipient="gone@example.org",
            action="failed",
            status="5.1.1",
            diagnostic=(
                "smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
            ),
        ),
    )
    assert _bounce("dsn-postfix-failed.eml") == Bounce(
        failed=True,
        summary="5.1.1 smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected: "
        "User unknown",
    )


def test_a_diagnostic_over_several_lines_is_unfolded() -> None:
    (status,) = read_dsn(parse((MAIL / "dsn-postfix-multiline.eml").read_bytes()))
    assert (status.recipient, status.action, status.status) == (
        "no.such.person@gmail.example",
        "failed",
        "5.1.1",
    )
    assert status.diagnostic == GMAIL_SAYS
    bounce = _bounce("dsn-postfix-multiline.eml")
    assert bounce.failed
    assert bounce.summary == f"5.1.1 {GMAIL_SAYS}"
    assert "Mail Delivery System" not in bounce.summary  # not Postfix's boilerplate


def test_a_delay_warning_is_no_failure() -> None:
    (status,) = read_dsn(parse((MAIL / "dsn-postfix-delayed.eml").read_bytes()))
    assert (status.action, status.status) == ("delayed", "4.4.1")
    assert _bounce("dsn-postfix-delayed.eml") == Bounce(
        failed=False,
        summary="delivery delayed (4.4.1 X-Postfix; connect to "
        "mail.example.com[203.0.113.9]:25: Connection timed out)",
    )


def test_a_bounce_without_a_report_is_read_from_its_words() -> None:
    message = parse((MAIL / "bounce-qmail.eml").read_bytes())
    assert read_dsn(message) == ()
    bounce = _bounce("bounce-qmail.eml")
    assert bounce.failed
    assert bounce.summary.startswith("This is a permanent error;")
    assert "(#5.1.1)" in bounce.summary
    assert "qmail-send program" not in bounce.summary  # the lines that say what failed


def test_a_vacation_reply_is_no_failure() -> None:
    bounce = _bounce("vacation.eml")
    assert not bounce.failed
    assert bounce.summary.startswith("not a delivery failure: I am out of the office")


def test_a_read_receipt_is_no_failure() -> None:
    raw = (
        b"From: v@vendor.example\r\nSubject: Read: case 3\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message was displayed.\r\n"
        b"--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; v@vendor.example\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--b--\r\n"
    )
    message = parse(raw)
    assert read_dsn(message) == ()
    assert read_bounce(message, subject="Read: case 3", text="") == Bounce(
        failed=False, summary="a report (disposition-notification) that states no failure"
    )


def _report(kind: str, status_part: bytes) -> bytes:
    return (
        b"From: MAILER-DAEMON@mx.example\r\nSubject: Delivery Status Notification\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        b'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n'
        b"--b\r\nContent-Type: " + kind.encode() + b"\r\n\r\n" + status_part + b"\r\n--b--\r\n"
    )


def test_international_reports_come_as_text_and_are_read_too() -> None:
    status = (
        b"Reporting-MTA: dns; mx.example\r\n\r\n"
        b"Final-Recipient: utf-8; j\xc3\xb6rg@example.de\r\nAction: relayed\r\n"
        b"Status: 2.0.0\r\n\r\n"
        b"Original-Recipient: rfc822; b@example.de\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        b"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"
    )
    message = parse(_report("message/global-delivery-status", status))
    relayed, failed = read_dsn(message)
    assert (relayed.recipient, relayed.action) == ("jörg@example.de", "relayed")
    assert (failed.recipient, failed.summary) == (
        "b@example.de",
        "5.2.2 smtp; 552 5.2.2 Mailbox full",
    )
    # Any recipient that failed makes the bounce a failure, wherever it stands.
    assert read_bounce(message, subject="", text="") == Bounce(
        failed=True, summary="5.2.2 smtp; 552 5.2.2 Mailbox full"
    )


@pytest.mark.parametrize(
    ("block", "summary"),
    [
        (b"Final-Recipient: rfc822; a@x\r\nAction: Delivered\r\nStatus: 2.0.0\r\n", "delivered"),
        (b"Final-Recipient: rfc822; a@x\r\nAction: expanded\r\n", "delivered and forwarded"),
        (b"Final-Recipient: rfc822; a@x\r\nAction: relayed\r\n", "relayed without a further"),
        (b"Final-Recipient: a@x\r\nAction: odd\r\n", "action odd"),
    ],
)
def test_other_actions_are_recorded_not_failures(block: bytes, summary: str) -> None:
    bounce = read_bounce(parse(_report("message/delivery-status", block)), subject="", text="")
    assert not bounce.failed
    assert bounce.summary.startswith(summary)


def test_a_report_without_its_status_part_or_actions_is_read_from_its_words() -> None:
    no_part = parse(_report("text/plain", b"nothing here"))
    no_action = parse(_report("message/delivery-status", b"Reporting-MTA: dns; mx.example\r\n"))
    assert read_dsn(no_part) == read_dsn(no_action) == ()
    other_report = parse(_report("message/delivery-status", b"").replace(b"delivery-", b"x-"))
    assert read_dsn(other_report) == ()


@pytest.mark.parametrize(
    ("subject", "text", "failure"),
    [
        ("Undeliverable: Encrypted message", "", True),
        ("", "Delivery to the following recipients failed permanently", True),
        ("", "Delivery has failed to these recipients or groups", True),
        ("", "Remote server returned '550 5.4.1 Recipient address rejected'", True),
        ("Automatic reply: back on 5.1.2027", "I am away.", False),
        ("", "", False),
    ],
)
def test_what_looks_like_a_failure(subject: str, text: str, failure: bool) -> None:
    assert looks_like_failure(subject, text) is failure


def test_first_lines_keep_what_failed_or_else_the_start() -> None:
    assert first_lines("Hello.\n\n#####\nUser unknown: a@x\n") == "User unknown: a@x"
    assert first_lines("Hello.\n  ----\nThanks\n") == "Hello. Thanks"
    assert first_lines("x" * 900) == "x" * 500
