"""The less travelled paths of mail: unbuildable copies, a relay down for every session,
a failing store, tasks, decisions on mail that is no longer held, and the list pages' errors."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from lockstep.channels.models import ChannelKind
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict
from lockstep.mailgw.addresses import case_address, report_address
from lockstep.mailgw.inbound.store import store_inbound
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.deliver import deliver_due, render
from lockstep.mailgw.outbound.headers import encode_header
from lockstep.mailgw.outbound.holds import do_drop_held
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.mailgw.outbound.transport import (
    Envelope,
    FolderTransport,
    SmtpSettings,
    SmtpTransport,
    TransportDown,
)
from lockstep.mailin import receive as receive_module
from lockstep.mailin.holds import do_discard_inbound, do_release_inbound
from lockstep.mailin.pipeline import process
from lockstep.mailin.tasks import process_inbound, process_waiting
from tests.factories.cases import build_case_world
from tests.factories.world import ChannelFactory, UserFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def _queue(*addresses: str) -> list[OutboundMessage]:
    with transaction.atomic():
        return fan_out(
            MailSpec(subject="s", body="b", confidential=False),
            [Recipient(a) for a in addresses],
        )


def test_an_unbuildable_copy_fails_alone(tmp_path: Any) -> None:
    rows = _queue("a@example.org", "b@example.org")

    def renderer(row: OutboundMessage) -> bytes:
        if row.to_address == "a@example.org":
            raise ValueError("no such key")
        return render(row)

    report = deliver_due(
        FolderTransport(tmp_path), now=max(r.next_attempt_at for r in rows), renderer=renderer
    )
    assert (report.sent, report.failed) == (1, 1)
    failed = OutboundMessage.objects.get(to_address="a@example.org")
    assert failed.last_error == "cannot build the message: no such key"


def test_every_parallel_session_down_is_the_relay_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?connections=3"))
    rows = _queue("a@example.org")
    report = deliver_due(transport, now=rows[0].next_attempt_at)
    assert report.failed == 1
    assert "unreachable" in OutboundMessage.objects.get().last_error
    assert list(transport.send_batch([])) == []  # nothing to send: no session, no error
    with pytest.raises(TransportDown):
        list(transport.send_batch([Envelope("a@x", "b@example.org", b"x", "<k>")]))


def test_long_or_non_ascii_headers_are_encoded() -> None:
    folded = encode_header("Subject", "Ünïcode " * 200)
    assert folded.startswith(b"Subject: =?utf-8?")
    assert b"\r\n " in folded  # folded over several lines
    assert encode_header("X-Test", "one\r\nInjected: yes") == b"X-Test: one Injected: yes\r\n"


@pytest.mark.django_db(transaction=True)  # receive() closes its thread's connections
def test_a_store_failure_asks_the_sender_to_try_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> InboundMessage:
        raise OSError("disk full")

    monkeypatch.setattr(receive_module, "store_per_recipient", broken)
    replies = receive_module.receive(
        b"Subject: x\r\n\r\nx\r\n", mail_from="a@b.example", rcpt_to=["a@x", "b@x"]
    )
    assert [reply[:9] for reply in replies] == ["451 4.3.0", "451 4.3.0"]  # one per recipient
    assert not InboundMessage.objects.exists()


def test_process_inbound_task(list_key: str) -> None:
    world = build_case_world(accept=False)
    to = report_address(world.project.slug)
    message = store_inbound(
        b"From: r@example.org\r\nSubject: By task\r\n\r\nText\r\n", mail_from="", rcpt_to=[to]
    )
    assert process_inbound.call(message.pk) == "accepted"
    assert process_inbound.call(message.pk) == "accepted"  # settled: not processed twice
    assert process_inbound.call(10**9) == "gone"


def test_mail_to_nowhere_is_rejected(list_key: str) -> None:
    message = store_inbound(b"Subject: x\r\n\r\nx\r\n", mail_from="", rcpt_to=["x@else.example"])
    assert process(message) == InboundStatus.REJECTED
    message.refresh_from_db()
    assert message.rule == "no-destination"


def test_decisions_on_mail_that_is_no_longer_held(list_key: str) -> None:
    world = build_case_world()
    raw = (
        f"From: x@elsewhere.example\r\nTo: {case_address(world.case.pk)}\r\nSubject: s\r\n\r\nb\r\n"
    )
    message = store_inbound(raw.encode(), mail_from="", rcpt_to=[case_address(world.case.pk)])
    process(message)
    do_discard_inbound(message, actor=SYSTEM)
    with pytest.raises(Conflict, match="not held"):
        do_release_inbound(message, actor=SYSTEM)
    row = _queue("a@example.org")[0]
    with pytest.raises(Conflict, match="not held"):
        do_drop_held(row, actor=SYSTEM)


def test_a_private_list_address_holds_even_a_members_mail(list_key: str) -> None:
    world = build_case_world()
    to = f"{world.channel.slug}@lockstep.invalid"
    raw = f"From: {world.vendor_user.email}\r\nTo: {to}\r\nSubject: New issue\r\n\r\nb\r\n"
    message = store_inbound(raw.encode(), mail_from="", rcpt_to=[to])
    assert process(message) == InboundStatus.HELD
    message.refresh_from_db()
    assert message.rule == "unverified"  # first: nothing proves who sent it
    # Letting it through changes nothing: a private list's address starts nothing itself.
    with pytest.raises(Conflict, match=r"still held.*private list"):
        do_release_inbound(message, actor=SYSTEM)


def test_list_pages_report_mistakes(client: Client, list_key: str) -> None:
    operator = UserFactory(is_staff=True)
    public = ChannelFactory(name="announce", slug="announce", kind=ChannelKind.PUBLIC)
    client.force_login(operator)
    response = client.post(
        "/channels/announce/mail/", {"subject_tag": "", "relay_to": "not-an-address"}, follow=True
    )
    assert "is not an e-mail address" in response.content.decode()
    client.post("/channels/announce/mail/", {"subject_tag": "[a]", "relay_to": "l@example.org"})
    public.refresh_from_db()
    assert public.relay_to == ["l@example.org"]
    response = client.post("/channels/announce/publish/", {"subject": "", "body": ""}, follow=True)
    assert "needs a subject and a text" in response.content.decode()
    assert client.get("/lists/announce/?page=x").status_code == 200
    assert client.get("/lists/announce/?page=2").status_code == 200


def test_held_copies_list_only_held(tmp_path: Any) -> None:
    rows = _queue("a@example.org")
    OutboundMessage.objects.filter(pk=rows[0].pk).update(status=OutboxStatus.HELD)
    assert (
        deliver_due(FolderTransport(tmp_path), now=datetime.now(tz=UTC) + timedelta(days=1)).sent
        == 0
    )


def test_a_message_that_trips_the_code_is_held_not_stuck(
    list_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_case_world(accept=False)
    to = report_address(world.project.slug)
    first = store_inbound(
        b"From: a@example.org\r\nSubject: 1\r\n\r\nx\r\n", mail_from="", rcpt_to=[to]
    )
    second = store_inbound(
        b"From: b@example.org\r\nSubject: 2\r\n\r\nx\r\n", mail_from="", rcpt_to=[to]
    )

    def explode(*_args: object, **_kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("lockstep.mailin.pipeline.first_destination", explode)
    assert process_waiting.call() == 2  # both tried: the first does not block the second
    for message in (first, second):
        message.refresh_from_db()
        assert (message.status, message.rule) == ("held", "error")
        assert "KeyError" in message.reason


def test_nul_bytes_in_the_envelope_are_stored_cleaned() -> None:
    message = store_inbound(
        b"Subject: x\r\n\r\nx\r\n", mail_from="a\x00b@example.org", rcpt_to=["c\x00@d"]
    )
    message.refresh_from_db()
    assert message.mail_from == "a\ufffdb@example.org"
    assert message.rcpt_to == ["c\ufffd@d"]
