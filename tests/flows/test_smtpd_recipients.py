"""Every recipient of a message counts, over real sockets: one row per recipient, decided and
answered on its own (LMTP: one DATA reply per recipient, RFC 2033 section 4.2); and the
server's limits: 50 recipients a message, a cap on connections at once from one client address,
postmaster@ and abuse@ taken and held for the operators."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError

from lockstep.intake.models import Report
from lockstep.mailgw.addresses import case_address, channel_address, report_address
from lockstep.mailgw.models import InboundMessage, InboundStatus
from lockstep.mailin.receive import receive, smtp_reply
from lockstep.mailin.smtpd import make_controller
from lockstep.mailin.tasks import process_waiting
from tests.factories.cases import CaseWorld, build_case_world
from tests.flows.test_serve import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("audit_head")]
MAIL = b"From: Rae <rae@research.example>\r\nSubject: %s\r\n\r\nHeap overflow, details here.\r\n"


@pytest.fixture
def world(list_key: str) -> CaseWorld:
    built = build_case_world()
    built.channel.subject_tag = "[vs]"
    built.channel.save()
    return built


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "not within 10 s"
        time.sleep(0.02)


@contextmanager
def _serve(*, lmtp: bool) -> Iterator[int]:
    port = free_port()
    controller = make_controller("127.0.0.1", port, lmtp=lmtp)
    controller.start()
    clients = controller.handler.clients
    _until(lambda: not clients.open)  # start() makes a first connection, to see it is up
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def lmtp_port() -> Iterator[int]:
    with _serve(lmtp=True) as port:
        yield port


@pytest.fixture
def smtp_port() -> Iterator[int]:
    with _serve(lmtp=False) as port:
        yield port


def _lmtp(port: int, recipients: list[str], data: bytes) -> list[tuple[int, bytes]]:
    """One LMTP transaction; the DATA replies, one per accepted recipient."""
    with smtplib.LMTP("127.0.0.1", port) as client:
        client.ehlo("client.example")  # LHLO: smtplib.LMTP renames it
        client.mail("rae@research.example")
        accepted = [r for r in recipients if client.rcpt(r)[0] == 250]
        replies = [client.data(data)]
        replies.extend(client.getreply() for _ in accepted[1:])
    return replies


def _rows() -> list[InboundMessage]:
    return list(InboundMessage.objects.order_by("id"))


def test_a_report_and_a_case_in_one_message_over_lmtp_are_both_acted_on(
    world: CaseWorld, lmtp_port: int
) -> None:
    report_to, case_to = report_address(world.project.slug), case_address(world.case.pk)
    replies = _lmtp(lmtp_port, [report_to, case_to], MAIL % b"Overflow in quokka")
    assert [code for code, _ in replies] == [250, 250]
    first, second = _rows()
    assert (first.rcpt_to, second.rcpt_to) == ([report_to], [case_to])
    assert bytes(second.raw) == b""  # stored once, in the first row
    assert second.raw_from_id == first.pk
    assert first.raw_bytes() == second.raw_bytes() != b""
    assert [first.pk, second.pk] == [int(r[1].split()[-1]) for r in replies]  # "Queued as n"
    assert process_waiting.call() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.route) == (InboundStatus.ACCEPTED, "report")
    assert Report.objects.get(pk=first.report_id).title == "Overflow in quokka"
    # The case's copy goes its own way: Rae takes no part in the case, so it is held there.
    assert (second.status, second.case_id, second.report_id) == ("held", world.case.pk, None)


def test_a_list_without_its_tag_refuses_only_the_list(world: CaseWorld, lmtp_port: int) -> None:
    to_list, to_report = channel_address(world.channel.slug), report_address(world.project.slug)
    replies = _lmtp(lmtp_port, [to_list, to_report], MAIL % b"No tag here")
    assert [code for code, _ in replies] == [550, 250]
    assert b"Missing the [vs] tag" in replies[0][1]
    refused, taken = _rows()
    assert (refused.status, refused.rule, refused.rcpt_to) == ("rejected", "missing-tag", [to_list])
    assert (taken.status, taken.rcpt_to) == ("received", [to_report])
    process_waiting.call()
    assert Report.objects.filter(title="No tag here").exists()


def test_smtp_answers_once_taken_if_any_recipient_took_it(world: CaseWorld, smtp_port: int) -> None:
    to_list, to_report = channel_address(world.channel.slug), report_address(world.project.slug)
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        assert client.sendmail("rae@research.example", [to_list, to_report], MAIL % b"x") == {}
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("rae@research.example", [to_list, to_list.upper()], MAIL % b"y")
    assert refused.value.smtp_code == 550  # nobody took it: the first refusal
    statuses = [(r.rule, r.status) for r in _rows()]
    # A recipient named twice (in any case) is one row.
    assert statuses == [("missing-tag", "rejected"), ("", "received"), ("missing-tag", "rejected")]
    assert smtp_reply(["550 no", "451 later"]) == "550 no"
    assert smtp_reply(["550 no", "250 taken", "250 also"]) == "250 taken"


def test_the_51st_recipient_is_refused_for_now(world: CaseWorld, smtp_port: int) -> None:
    to = report_address(world.project.slug)
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.ehlo("client.example")
        client.mail("rae@research.example")
        assert {client.rcpt(to)[0] for _ in range(50)} == {250}
        code, text = client.rcpt(to)
        assert (code, text) == (452, b"4.5.3 Too many recipients")
        assert client.data(MAIL % b"Fifty")[0] == 250  # the fifty accepted go through
    assert len(_rows()) == 1  # fifty times the same address: one row


def _greeting(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as probe:
        return probe.recv(200)


def _connect(port: int) -> smtplib.SMTP | None:
    try:
        return smtplib.SMTP("127.0.0.1", port, timeout=10)
    except smtplib.SMTPConnectError:
        return None


def test_the_connection_past_the_limit_from_one_address_is_refused(settings: Any) -> None:
    settings.LOCKSTEP_SMTP_MAX_CONNECTIONS_PER_CLIENT = 10
    with _serve(lmtp=False) as smtp_port:
        _past_the_limit(smtp_port)


def _past_the_limit(smtp_port: int) -> None:
    clients = [smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) for _ in range(10)]
    try:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", smtp_port, timeout=10)
        assert refused.value.smtp_code == 421
        assert refused.value.smtp_error == b"4.7.0 Too many connections from your address"
        assert all(client.noop()[0] == 250 for client in clients)  # the ten go on
        clients.pop().quit()
        again: list[smtplib.SMTP] = []
        _until(lambda: bool(again.extend(filter(None, [_connect(smtp_port)])) or again))
        clients.extend(again)  # once the server has seen one go, another may come
        assert again[0].noop()[0] == 250
    finally:
        for client in clients:
            client.close()


def test_the_connection_limit_is_a_setting(settings: Any) -> None:
    settings.LOCKSTEP_SMTP_MAX_CONNECTIONS_PER_CLIENT = 1
    with _serve(lmtp=True) as port, smtplib.LMTP("127.0.0.1", port, timeout=10):
        assert _greeting(port) == b"421 4.7.0 Too many connections from your address\r\n"


@pytest.mark.parametrize(
    "to", ["postmaster@lockstep.invalid", "Abuse@Lockstep.Invalid", "Postmaster"]
)
def test_postmaster_and_abuse_are_taken_and_held_for_the_operators(
    smtp_port: int, list_key: str, to: str
) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.sendmail("someone@example.org", [to], MAIL % b"Your server is listed")
    assert process_waiting.call() == 1
    (row,) = _rows()
    assert (row.status, row.rule, row.rcpt_to) == ("held", "postmaster", [to])
    assert row.reason == "Mail to postmaster/abuse: held for the operators."


def test_a_message_without_recipients_is_stored_and_answered_once(list_key: str) -> None:
    (reply,) = receive(MAIL % b"Nobody", mail_from="", rcpt_to=[])
    (row,) = _rows()
    assert reply == f"250 2.0.0 Queued as {row.pk}"
    assert row.rcpt_to == []
    process_waiting.call()
    row.refresh_from_db()
    assert (row.status, row.rule) == ("rejected", "no-destination")


def test_a_trusted_relay_names_the_original_client_with_xforward(
    world: CaseWorld, lmtp_port: int
) -> None:
    to = report_address(world.project.slug)
    with smtplib.LMTP("127.0.0.1", lmtp_port) as client:
        client.ehlo("postfix.example")
        assert client.has_extn("xforward")
        reply = client.docmd("XFORWARD", "NAME=mx.example ADDR=IPV6:2001:db8::7 PROTO=ESMTP")
        assert reply[0] == 250
        client.sendmail("rae@research.example", [to], MAIL % b"Via Postfix")
        client.sendmail("rae@research.example", [to], MAIL % b"Without XFORWARD")
    peers = list(InboundMessage.objects.order_by("id").values_list("peer", flat=True))
    assert peers == ["2001:db8::7", "127.0.0.1"]  # named once: for that transaction only


def test_xforward_from_anyone_else_is_refused_and_not_offered(
    world: CaseWorld, settings: Any
) -> None:
    settings.LOCKSTEP_SMTP_XFORWARD_HOSTS = ["192.0.2.1"]
    with _serve(lmtp=False) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo("mallory.example")
        assert not client.has_extn("xforward")
        assert client.docmd("XFORWARD", "ADDR=203.0.113.9")[0] == 550


def test_a_recipient_that_cannot_be_checked_is_deferred_not_refused(
    world: CaseWorld, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(_address: str) -> bool:
        msg = 'connection to server at "db.internal" (10.0.0.5), port 5432 failed'
        raise OperationalError(msg)

    monkeypatch.setattr("lockstep.mailin.smtpd.accepts_recipient", database_down)
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.ehlo("client.example")
        client.mail("rae@research.example")
        code, text = client.rcpt(report_address(world.project.slug))
    assert (code, text) == (451, b"4.3.0 Temporary failure, please try again later")
