"""The outbox: copies queued in the caller's transaction, delivered in batches, retried, held."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.models import OutboundMessage, OutboxStatus, Protection
from lockstep.mailgw.outbound.deliver import backoff, deliver_due, lease
from lockstep.mailgw.outbound.outbox import (
    PLAIN_MARKER,
    MailSpec,
    Recipient,
    choose_protection,
    fan_out,
)
from lockstep.mailgw.outbound.pgpmime import open_encrypted
from lockstep.mailgw.outbound.transport import (
    Envelope,
    FolderTransport,
    Outcome,
    SmtpSettings,
    SmtpTransport,
)
from tests.factories.keys import KeyPair
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.django_db
SECRET = "The overflow is in quokka_inflate()."


@pytest.mark.parametrize(
    ("confidential", "key", "plain_ok", "expected"),
    [
        (True, "KEY", False, Protection.PGP),
        (True, "KEY", True, Protection.PGP),
        (True, "", True, Protection.PLAIN),
        (True, "", False, Protection.NOTICE),
        (False, "", False, Protection.PLAIN),
        (False, "KEY", False, Protection.PLAIN),
    ],
)
def test_protection_never_leaks_embargoed_text(
    confidential: bool, key: str, plain_ok: bool, expected: Protection
) -> None:
    spec = MailSpec(subject="s", body="b", confidential=confidential)
    assert choose_protection(spec, Recipient("a@example.org", key, plain_ok)) is expected


def _tomorrow() -> datetime:
    """A moment after every copy queued by the test is due, whatever today's date."""
    return datetime.now(UTC) + timedelta(days=1)


def _queue(*recipients: Recipient, confidential: bool = True) -> list[OutboundMessage]:
    spec = MailSpec(
        subject="[vs] Heap overflow",
        body=SECRET,
        headers={"List-Id": "<distros.lockstep>"},
        case_id=7,
        confidential=confidential,
        read_url="https://lockstep.example.org/cases/7/",
    )
    with transaction.atomic():
        return fan_out(spec, recipients)


@pytest.mark.django_db(transaction=True)
def test_fan_out_needs_the_callers_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        fan_out(MailSpec(subject="s", body="b"), [Recipient("a@example.org")])


def test_notice_and_plain_copies(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        notice, plain = _queue(
            Recipient("nokey@example.org"), Recipient("plain@example.org", plain_ok=True)
        )
    assert len(callbacks) == 1  # delivery is scheduled once, after commit
    assert notice.protection == Protection.NOTICE
    assert SECRET not in notice.body
    assert "overflow" not in notice.subject.lower()
    assert "https://lockstep.example.org/cases/7/" in notice.body
    assert plain.subject == f"{PLAIN_MARKER} [vs] Heap overflow"
    assert plain.body == SECRET
    assert notice.message_id != plain.message_id


def test_folder_transport_writes_each_copy(tmp_path: Path) -> None:
    _queue(Recipient("a@example.org", plain_ok=True), Recipient("b@example.org", plain_ok=True))
    report = deliver_due(FolderTransport(tmp_path), now=_tomorrow())
    assert report.sent == 2
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    parsed = message_from_bytes(files[0].read_bytes())
    assert parsed["List-Id"] == "<distros.lockstep>"
    assert parsed["Message-ID"].startswith("<")
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}


@dataclass
class Sink:
    """An aiosmtpd handler that records messages and sessions; can refuse one address."""

    refuse: set[str] = field(default_factory=set)
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    sessions: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.messages.append((rcpt, envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def sink(smtp_port: int) -> Iterator[Sink]:
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def test_real_smtp_one_connection_per_batch_and_a_refused_recipient(
    sink: Sink, smtp_port: int
) -> None:
    sink.refuse = {"gone@example.org"}
    _queue(
        *[Recipient(f"m{n}@example.org", plain_ok=True) for n in range(5)],
        Recipient("gone@example.org", plain_ok=True),
    )
    transport = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp_port}?connections=1"))
    report = deliver_due(transport, now=_tomorrow())
    assert (report.sent, report.failed) == (5, 1)
    assert sink.sessions == 1
    assert sorted(rcpt for rcpt, _ in sink.messages) == [f"m{n}@example.org" for n in range(5)]
    refused = OutboundMessage.objects.get(to_address="gone@example.org")
    assert refused.status == OutboxStatus.QUEUED
    assert refused.last_error.startswith("550")
    assert refused.attempts == 1


def test_parallel_sessions_send_each_copy_once(sink: Sink, smtp_port: int) -> None:
    sink.refuse = {"gone@example.org"}
    _queue(
        *[Recipient(f"m{n}@example.org", plain_ok=True) for n in range(40)],
        Recipient("gone@example.org", plain_ok=True),
    )
    transport = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp_port}?connections=4"))
    report = deliver_due(transport, now=_tomorrow())
    assert (report.sent, report.failed) == (40, 1)
    assert sink.sessions == 4
    delivered = sorted(rcpt for rcpt, _ in sink.messages)
    assert delivered == sorted(f"m{n}@example.org" for n in range(40))
    assert OutboundMessage.objects.filter(status=OutboxStatus.SENT).count() == 40


@pytest.mark.parametrize(("copies", "sessions"), [(1, 1), (2, 2), (3, 3)])
def test_fewer_copies_than_connections_open_a_session_each(
    sink: Sink, smtp_port: int, copies: int, sessions: int
) -> None:
    _queue(*[Recipient(f"m{n}@example.org", plain_ok=True) for n in range(copies)])
    transport = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp_port}?connections=4"))
    assert deliver_due(transport, now=_tomorrow()).sent == copies
    assert sink.sessions == sessions  # one copy, one session
    assert len(sink.messages) == copies
    one = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp_port}?connections=1"))
    assert list(one.send_batch([])) == []
    assert sink.sessions == sessions  # none for nothing


class _GroupedTransport:
    """Accepts every copy but the refused address, answering in groups of three; before each
    group it notes how many copies the outbox already records as sent."""

    def __init__(self, refuse: str) -> None:
        self.refuse = refuse
        self.sent_before_group: list[int] = []

    def send_batch(self, envelopes: Iterable[Envelope]) -> Iterator[list[Outcome]]:
        pending = list(envelopes)
        for start in range(0, len(pending), 3):
            self.sent_before_group.append(
                OutboundMessage.objects.filter(status=OutboxStatus.SENT).count()
            )
            yield [
                Outcome(e.key, "550 5.1.1 No such user" if e.recipient == self.refuse else "")
                for e in pending[start : start + 3]
            ]


def test_outcomes_that_come_back_together_are_recorded_together() -> None:
    _queue(
        *[Recipient(f"m{n}@example.org", plain_ok=True) for n in range(7)],
        Recipient("gone@example.org", plain_ok=True),
    )
    transport = _GroupedTransport(refuse="gone@example.org")
    report = deliver_due(transport, now=_tomorrow())
    assert (report.sent, report.failed) == (7, 1)
    # Each group's accepted copies are recorded before the next group is asked for.
    assert transport.sent_before_group == [0, 3, 6]
    assert OutboundMessage.objects.filter(status=OutboxStatus.SENT).count() == 7
    refused = OutboundMessage.objects.get(to_address="gone@example.org")
    assert (refused.status, refused.attempts) == (OutboxStatus.QUEUED, 1)


def test_an_encrypted_copy_crosses_real_smtp_intact(
    sink: Sink, smtp_port: int, alice_key: KeyPair
) -> None:
    # A PGP/MIME copy is far longer than one SMTP line: it must go out with CRLF endings.
    public, secret = alice_key.public, alice_key.secret
    _queue(Recipient("alice@example.org", key=public))
    transport = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp_port}"))
    assert deliver_due(transport, now=_tomorrow()).sent == 1
    ((rcpt, data),) = sink.messages
    assert rcpt == "alice@example.org"
    assert len(data) > 1000
    assert SECRET.encode() not in data
    inner = open_encrypted(data, secret_key=secret, openpgp=SequoiaOpenPGP())
    assert SECRET in inner.get_payload(0).get_content()


def test_relay_down_then_back_delivers_everything_exactly_once(smtp_port: int) -> None:
    _queue(*[Recipient(f"m{n}@example.org", plain_ok=True) for n in range(3)])
    transport = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp_port}"))
    start = datetime.now(tz=UTC)
    down = deliver_due(transport, now=start)
    assert (down.sent, down.failed) == (0, 3)
    assert "unreachable" in down.errors[0]
    assert deliver_due(transport, now=start).sent == 0  # not due again before the backoff
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        back = deliver_due(transport, now=start + backoff(1))
        again = deliver_due(transport, now=start + timedelta(hours=5))
    finally:
        controller.stop()
    assert back.sent == 3
    assert again.sent == 0
    assert sorted(rcpt for rcpt, _ in handler.messages) == [
        "m0@example.org",
        "m1@example.org",
        "m2@example.org",
    ]


def test_after_the_last_attempt_a_copy_is_held_with_its_reason(
    settings: Any, smtp_port: int
) -> None:
    settings.LOCKSTEP_MAIL_MAX_ATTEMPTS = 2
    (row,) = _queue(Recipient("m@example.org", plain_ok=True))
    transport = SmtpTransport(SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp_port}"))
    when = datetime.now(tz=UTC)
    deliver_due(transport, now=when)
    report = deliver_due(transport, now=when + timedelta(hours=1))
    assert report.held == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.HELD
    assert "unreachable" in row.last_error


def test_a_dead_workers_claim_expires(tmp_path: Path) -> None:
    (row,) = _queue(Recipient("m@example.org", plain_ok=True))
    when = datetime.now(tz=UTC)
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENDING, claimed_until=when + lease()
    )
    assert deliver_due(FolderTransport(tmp_path), now=when).sent == 0  # still leased
    assert (
        deliver_due(FolderTransport(tmp_path), now=when + lease() + timedelta(seconds=1)).sent == 1
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example:2525", SmtpSettings("relay.example", 2525)),
        ("smtp://relay.example?connections=2", SmtpSettings("relay.example", 25, connections=2)),
        ("smtps://u:p%40ss@relay.example", SmtpSettings("relay.example", 465, "tls", "u", "p@ss")),
        (
            "smtp://relay.example:587?security=starttls",
            SmtpSettings("relay.example", 587, "starttls"),
        ),
    ],
)
def test_smtp_url(url: str, expected: SmtpSettings) -> None:
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://x", "smtp://", "smtp://h?security=weird", "smtp://h?connections=0"]
)
def test_bad_smtp_url(url: str) -> None:
    with pytest.raises(ValueError, match=r"smtp|security|connections"):
        SmtpSettings.from_url(url)


def test_delivery_task_drains_the_folder_outbox(settings: Any, tmp_path: Path) -> None:
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415

    from lockstep.mailgw.outbound.tasks import deliver_outbound, get_transport  # noqa: PLC0415

    settings.LOCKSTEP_SMTP_URL = ""
    settings.LOCKSTEP_OUTBOX_DIR = tmp_path
    assert isinstance(get_transport(), FolderTransport)
    _queue(*[Recipient(f"m{n}@example.org", plain_ok=True) for n in range(3)])
    assert deliver_outbound.call() == {"sent": 3, "failed": 0, "held": 0}
    assert len(list(tmp_path.glob("*.eml"))) == 3
    assert not DBTaskResult.objects.exists()  # nothing left to retry: no follow-up task


def test_delivery_task_comes_back_for_retries(settings: Any, smtp_port: int) -> None:
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415

    from lockstep.mailgw.outbound.tasks import deliver_outbound, get_transport  # noqa: PLC0415

    settings.LOCKSTEP_SMTP_URL = f"smtp://127.0.0.1:{smtp_port}"
    assert isinstance(get_transport(), SmtpTransport)
    _queue(Recipient("m@example.org", plain_ok=True))
    assert deliver_outbound.call() == {"sent": 0, "failed": 1, "held": 0}
    follow_up = DBTaskResult.objects.get()
    row = OutboundMessage.objects.get()
    assert follow_up.run_after == row.next_attempt_at
