"""End to end over loopback, with real processes: a member's encrypted reply goes by SMTP to
`lockstep smtpd`, a `lockstep worker` turns it into a post, and the re-encrypted copies for the
other participants arrive at an aiosmtpd sink, each readable only with its member's key."""

from __future__ import annotations

import json
import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.outbound.pgpmime import build_encrypted, open_encrypted, verify_signed
from tests.flows.test_outbox_sigkill import LOCKSTEP, Deployment, database
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SECRET = "The overflow is in quokka_inflate(); patch attached."
SETUP = """
import json
from lockstep.core.actor import Actor
from lockstep.orgs.actions import do_add_user_key
from lockstep.mailgw.addresses import case_member_address
from lockstep.mailgw.models import OutboundMessage
from lockstep.mailgw.outbound.protect import list_public_key
from tests.factories.cases import build_case_world
from tests.factories.keys import key_pair
world = build_case_world()
people = {}
for user in (world.maintainer, world.coordinator, world.vendor_user):
    pair = key_pair(f"Member <{user.email}>")
    do_add_user_key(user, armored=pair.public, actor=Actor.system("test"))
    people[user.email] = pair.secret
OutboundMessage.objects.all().delete()  # the copies about the case's opening
print(json.dumps({"case": case_member_address(world.case.pk, world.vendor_user.pk),
                  "vendor": world.vendor_user.email,
                  "people": people, "list_key": list_public_key()}))
"""
__all__ = ["database"]  # the fixture, shared with the SIGKILL test


class Sink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[str, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.extend((rcpt, envelope.content) for rcpt in envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_reply_by_smtp_reaches_every_other_participant_encrypted(
    tmp_path: Path, database: str, sink: tuple[Sink, int]
) -> None:
    handler, sink_port = sink
    deployment = Deployment(tmp_path, database, sink_port)
    smtpd_port = free_port()
    deployment.env["PYTHONPATH"] = str(ROOT)  # the setup script uses the test factories
    deployment.manage("migrate", "--noinput", "-v", "0")
    done = subprocess.run(
        [LOCKSTEP, "manage", "shell", "-c", SETUP],
        env=deployment.env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    facts = json.loads(done.stdout.decode().strip().splitlines()[-1])
    vendor, people = facts["vendor"], facts["people"]
    log = (tmp_path / "smtpd.log").open("wb")
    smtpd = subprocess.Popen(
        [LOCKSTEP, "smtpd", "--port", str(smtpd_port)],
        env=deployment.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deployment.start_worker()
        _wait_for_port(smtpd_port)
        inner = EmailMessage()
        inner["Subject"] = "Re: the overflow"
        inner.set_content(SECRET)
        outer = build_encrypted(
            inner,
            recipient_keys=[facts["list_key"]],
            signing_key=people[vendor],
            openpgp=SequoiaOpenPGP(),
        )
        outer["From"], outer["To"], outer["Subject"] = vendor, facts["case"], "Encrypted message"
        with smtplib.SMTP("127.0.0.1", smtpd_port) as client:
            client.sendmail(vendor, [facts["case"]], outer.as_bytes(policy=SMTP))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(handler.messages) < 2:
            time.sleep(0.2)
    finally:
        smtpd.terminate()
        assert smtpd.wait(timeout=30) == 0
        deployment.stop_all()
        log.close()
    copies = dict(handler.messages)
    assert set(copies) == set(people) - {vendor}, (tmp_path / "smtpd.log").read_text()
    for address, data in copies.items():
        assert SECRET.encode() not in data
        assert message_from_bytes(data)["Subject"].startswith("Encrypted message (case ")
        entity = open_encrypted(data, secret_key=people[address], openpgp=SequoiaOpenPGP())
        assert verify_signed(entity, public_key=facts["list_key"])
        assert SECRET in entity.get_payload(0).get_content()
        other = next(a for a in copies if a != address)
        with pytest.raises(Exception, match="could not be decrypted"):
            open_encrypted(data, secret_key=people[other], openpgp=SequoiaOpenPGP())
    status = deployment.query("SELECT status, signature, route FROM mailgw_inboundmessage")
    assert status == [("accepted", "valid", "post")]


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"lockstep smtpd did not listen on {port}")
