"""A thousand malformed and hostile messages into Lockstep's inbound mail path.

The corpus (tests/factories/hostile_mail.py) is made from one seed, in nine families: broken
MIME, bad OpenPGP armour, huge headers, the wrong keys, non-UTF-8, NUL bytes, empty messages,
messages without headers, and loops and automatic replies; to a case's address, a project's
security address and a list's address. Most are handed to `receive()` directly (what the SMTP
server calls for each message); a sample of fifty goes through the real SMTP server, which is
first sent a line too long for SMTP, to show that it refuses that and keeps serving.

What is proved: `receive()` never answers "try later" (that would mean nothing was kept) and
the pipeline never raises; every message is stored, its raw bytes intact, with the right size
and digest; each ends accepted, held, rejected or discarded, with a rule and a reason for
every one that was not accepted. Where a variant's outcome is certain (loops are discarded;
mail for the wrong key, or signed by the wrong key, is held) that is checked too.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from lockstep.intake.models import Report
from lockstep.mailgw.addresses import case_member_address, channel_address, report_address
from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.models import InboundMessage, InboundStatus
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.mailin.receive import TRY_LATER, receive
from lockstep.mailin.smtpd import make_controller
from lockstep.mailin.tasks import process_waiting
from lockstep.orgs.actions import do_add_user_key
from tests.conftest import actor_for
from tests.factories.cases import build_case_world
from tests.factories.hostile_mail import (
    FAMILIES,
    TAG,
    Blobs,
    Hostile,
    World,
    corpus,
    make_blobs,
)
from tests.flows.test_serve import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("audit_head")]
log = logging.getLogger(__name__)

SEED = 20261125
COUNT = 1000
SMTP_SAMPLE = 50
SMTP_LINE_MAX = 998  # RFC 5321 section 4.5.3.1.6, without the CRLF
SETTLED = {
    InboundStatus.ACCEPTED,
    InboundStatus.HELD,
    InboundStatus.REJECTED,
    InboundStatus.DISCARDED,
}


@pytest.fixture
def smtp_client() -> Iterator[smtplib.SMTP]:
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            yield client
    finally:
        controller.stop()


@pytest.fixture
def world(list_key: str) -> World:
    """The case world, its list tagged, and a member with a key on file (whose name the
    hostile mail signed by a stranger uses)."""
    built = build_case_world()
    built.channel.subject_tag = TAG
    built.channel.save()
    member = built.vendor_user
    public, _secret = SequoiaOpenPGP().generate_key(f"Member <{member.email}>")
    do_add_user_key(member, armored=public, actor=actor_for(member))
    return World(
        case=case_member_address(built.case.pk, member.pk),  # the member's own reply address
        report=report_address(built.project.slug),
        channel=channel_address(built.channel.slug),
        member=member.email,
        outsider=built.outsider_user.email,
        blobs=make_blobs(list_public_key()),
    )


def _wire(raw: bytes) -> bytes:
    """What the server stores of `raw` sent by smtplib: CRLF line ends, and a final CRLF."""
    data = re.sub(rb"\r?\n", b"\r\n", raw)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _fits_smtp(raw: bytes) -> bool:
    return all(len(line) <= SMTP_LINE_MAX for line in _wire(raw).split(b"\r\n"))


def _send(client: smtplib.SMTP, message: Hostile) -> str:
    try:
        client.sendmail(message.mail_from.strip("<>"), [message.to], _wire(message.raw))
    except smtplib.SMTPDataError as refused:
        error = refused.smtp_error
        return f"{refused.smtp_code} {error.decode() if isinstance(error, bytes) else error}"
    return "250 (over SMTP)"


def _take(messages: list[Hostile], client: smtplib.SMTP) -> tuple[list[str], list[bytes]]:
    """Every message, in order: a sample over SMTP, the rest to `receive()`. Returns the
    replies, and the bytes each message should be stored as."""
    fits = [number for number, message in enumerate(messages) if _fits_smtp(message.raw)]
    over_smtp = set(fits[:: len(fits) // SMTP_SAMPLE][:SMTP_SAMPLE])
    assert len(over_smtp) == SMTP_SAMPLE
    replies, stored = [], []
    for number, message in enumerate(messages):
        if number in over_smtp:
            replies.append(_send(client, message))
            stored.append(_wire(message.raw))
        else:
            mail_from, to = message.mail_from, [message.to]
            (reply,) = receive(message.raw, mail_from=mail_from, rcpt_to=to, peer="192.0.2.7")
            replies.append(reply)
            stored.append(message.raw)
    return replies, stored


def _check(message: Hostile, row: InboundMessage, raw: bytes, *, world: World) -> None:
    label = f"{message.family}/{message.variant} to {message.to}: {row.status} {row.rule}"
    assert bytes(row.raw) == raw, label
    assert row.size == len(raw), label
    assert row.sha256 == hashlib.sha256(raw).hexdigest(), label
    assert row.status in SETTLED, label
    if row.status != InboundStatus.ACCEPTED:
        assert row.rule, label
        assert row.reason.strip(), label
    allowed = set(message.expect)
    to_report = message.to == world.report
    if to_report and "bad-signature" in allowed:  # a report is never held for its signature
        allowed = (allowed - {"bad-signature"}) | {""}
    if allowed and message.to == world.channel and message.family != "loops":
        allowed.add("missing-tag")  # the list's tag may be lost in a hostile subject
    if allowed:
        assert row.rule in allowed, label
    if message.family == "loops":
        assert row.status == InboundStatus.DISCARDED, label
    if message.family == "wrong-keys" and row.status == InboundStatus.ACCEPTED:
        # Signed by a stranger's key to a project's address: a report, its signature "bad".
        assert (to_report, row.route, row.signature) == (True, "report", "bad"), label
    elif message.family == "wrong-keys":
        assert row.status == InboundStatus.HELD, label
        assert row.post_id is None, label
        assert row.report_id is None, label


def test_a_thousand_hostile_messages_are_each_stored_and_settled(
    world: World, smtp_client: smtplib.SMTP, settings: Any
) -> None:
    settings.LOCKSTEP_REPORT_RATE = COUNT  # every hostile report reaches intake, none capped
    settings.LOCKSTEP_MAIL_REPORTS_PER_DOMAIN = settings.LOCKSTEP_MAIL_REPORTS_PER_HOUR = COUNT
    settings.LOCKSTEP_MAIL_REPORTS_PER_CLIENT = COUNT
    started = time.monotonic()
    messages = corpus(world, count=COUNT, seed=SEED)
    assert min(Counter(m.family for m in messages).values()) >= COUNT // len(FAMILIES)
    too_long = b"Subject: x\r\n\r\n" + b"x" * 2000 + b"\r\n"
    with pytest.raises(smtplib.SMTPDataError) as refused:
        smtp_client.sendmail("a@example.org", [world.report], too_long)
    assert refused.value.smtp_code == 500  # refused by the protocol, before anyone reads it

    replies, stored = _take(messages, smtp_client)
    received = time.monotonic()
    assert not [r for r in replies if r.startswith(TRY_LATER[:3])]
    assert {r[:3] for r in replies} <= {"250", "550", "552"}, Counter(r[:3] for r in replies)
    process_waiting.call()  # raises if the pipeline does
    processed = time.monotonic()

    rows = list(InboundMessage.objects.order_by("id"))
    assert len(rows) == COUNT
    for message, row, raw in zip(messages, rows, stored, strict=True):
        _check(message, row, raw, world=world)
    reports = {row.report_id for row in rows if row.route == "report"}
    assert Report.objects.filter(pk__in=reports).count() == len(reports) > 0
    statuses = Counter(row.status for row in rows)
    assert set(statuses) == SETTLED  # the corpus reaches every ending
    rules = {row.rule for row in rows}
    assert {"unreadable", "undecryptable", "bad-signature", "unknown-sender"} <= rules
    assert {"missing-tag", "loop", "auto-reply", "unverified"} <= rules
    log.info(
        "received %d in %.1fs, processed in %.1fs: %s; %s",
        COUNT,
        received - started,
        processed - received,
        dict(statuses),
        sorted(
            Counter(
                f"{m.family} {r.status} {r.rule}" for m, r in zip(messages, rows, strict=True)
            ).items()
        ),
    )


def test_the_corpus_is_the_same_every_time() -> None:
    """Deterministic from its seed (apart from the ciphertexts, made afresh each run)."""
    armour = b"-----BEGIN PGP MESSAGE-----\n\n" + b"A" * 200 + b"\n-----END PGP MESSAGE-----\n"
    blobs = Blobs(
        list_encrypted=(armour, armour),
        hostile_inside=(b"x",),
        to_strangers=(b"a", b"b", b"c"),
        password=b"p",
        signed_by_stranger=(b"s",),
        pgpmime_signed_by_stranger=b"6.1",
        multipart_signed_by_stranger=b"5",
        clearsigned_by_stranger=b"c",
        public_key=armour.replace(b"MESSAGE", b"PUBLIC KEY BLOCK"),
        unknown_packet=b"u",
    )
    world = World("case@x", "security-x@x", "list@x", "m@x", "o@x", blobs)
    first, second = corpus(world, count=COUNT, seed=SEED), corpus(world, count=COUNT, seed=SEED)
    assert [m.raw for m in first] == [m.raw for m in second]
    assert corpus(world, count=20, seed=SEED + 1) != first[:20]
    drawn = {(m.family, m.variant) for m in first}
    every = {(family, name) for family, variants in FAMILIES.items() for name in variants}
    assert drawn == every  # a thousand draws reach every variant
