"""A post in a case is mailed to every other participant: encrypted to each member's own key
(signed by the list key), or a content-free notice for members without a key."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.queries import access_case_by_id
from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.models import OutboundMessage, Protection
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.pgpmime import open_encrypted, verify_signed
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.mailgw.outbound.transport import FolderTransport
from lockstep.orgs.actions import do_add_user_key
from tests.conftest import actor_for
from tests.factories.cases import build_case_world
from tests.factories.keys import key_pair

pytestmark = pytest.mark.django_db
SECRET = "The overflow is in quokka_inflate(), patch attached."


def test_post_is_encrypted_per_member_or_replaced_by_a_notice(
    tmp_path: Path, list_key: str
) -> None:
    world = build_case_world()
    vendor_key = key_pair("Vendor Member <vendor@example.org>")
    do_add_user_key(
        world.vendor_user, armored=vendor_key.public, actor=actor_for(world.vendor_user)
    )
    actor = actor_for(world.maintainer)
    opening = set(OutboundMessage.objects.values_list("pk", flat=True))  # the report's copy
    assert len(opening) == 3  # the maintainer, the coordinator and the vendor member
    OutboundMessage.objects.filter(pk__in=opening).delete()
    do_add_post(access_case_by_id(actor, world.case.pk), body=SECRET, actor=actor)
    copies = {row.to_address: row for row in OutboundMessage.objects.all()}
    assert world.maintainer.email not in copies  # the author gets no copy
    assert copies[world.vendor_user.email].protection == Protection.PGP
    assert copies[world.coordinator.email].protection == Protection.NOTICE
    assert world.outsider_user.email not in copies
    report = deliver_due(
        FolderTransport(tmp_path), now=copies[world.vendor_user.email].next_attempt_at
    )
    assert report.sent == len(copies)
    raw = {
        message_from_bytes(p.read_bytes(), policy=default)["To"]: p.read_bytes()
        for p in tmp_path.glob("*.eml")
    }
    for address, data in raw.items():
        assert SECRET.encode() not in data, address  # never in clear on the wire
        assert b"inflate" not in data, address
    vendor_copy = message_from_bytes(raw[world.vendor_user.email], policy=default)
    assert isinstance(vendor_copy, EmailMessage)
    assert vendor_copy.get_content_type() == "multipart/encrypted"
    assert vendor_copy["Subject"] == f"Encrypted message (case {world.case.pk})"
    assert b"Heap overflow" not in raw[world.vendor_user.email]  # the title is embargoed too
    assert vendor_copy["References"] == f"<case-{world.case.pk}@lockstep.invalid>"
    inner = open_encrypted(vendor_copy, secret_key=vendor_key.secret, openpgp=SequoiaOpenPGP())
    assert verify_signed(inner, public_key=list_public_key())
    assert "PRIVATE" not in list_public_key()
    text = inner.get_payload(0).get_content()  # type: ignore[union-attr]
    assert SECRET in text
    assert text.splitlines()[0] == "Subject: Heap overflow in inflate()"
    other = key_pair("Someone Else <else@example.org>")
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure: the key does not fit
        open_encrypted(vendor_copy, secret_key=other.secret, openpgp=SequoiaOpenPGP())
