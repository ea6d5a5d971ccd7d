"""`lockstep smtpd` while its PostgreSQL restarts: senders are told to try later (4xx, never a
5xx, never the database's address), the server process stays up, and mail sent after the
return is taken and stored."""

from __future__ import annotations

import smtplib
import subprocess
import time
from pathlib import Path

import pytest

from tests.flows.private_postgres import PrivateCluster, skip_reason
from tests.flows.test_outbox_sigkill import LOCKSTEP, Deployment
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.skipif(bool(skip_reason()), reason=skip_reason() or "n/a")
MAIL = b"From: rae@research.example\r\nSubject: Overflow\r\n\r\nDetails.\r\n"


def _rcpt(port: int, to: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail("rae@research.example")
        code, text = client.rcpt(to)
        if code == 250:
            client.data(MAIL)
        return code, text


def _until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("smtpd did not start")


def test_smtpd_defers_while_the_database_is_down_and_takes_mail_after(
    tmp_path: Path, cluster: PrivateCluster
) -> None:
    deployment = Deployment(tmp_path, cluster.url, free_port())
    deployment.env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])  # the factories
    deployment.manage("migrate", "--noinput", "-v", "0")
    deployment.shell(
        "from tests.factories.world import ProjectFactory\n"
        "from lockstep.mailgw.outbound.protect import list_secret_key\n"
        "list_secret_key()\n"
        "ProjectFactory(slug='libquokka')\n"
    )
    port = free_port()
    log = (tmp_path / "smtpd.log").open("wb")
    smtpd = subprocess.Popen(
        [LOCKSTEP, "smtpd", "--port", str(port)],
        env=deployment.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    to = "security-libquokka@lockstep.invalid"
    try:
        _until_up(port)
        assert _rcpt(port, to)[0] == 250
        cluster.stop()
        code, text = _rcpt(port, to)
        assert code == 451, text  # try again later, not a refusal
        assert text == b"4.3.0 Temporary failure, please try again later"
        assert b"5432" not in text
        assert str(cluster.port).encode() not in text
        cluster.start()
        assert _rcpt(port, to)[0] == 250  # the same process, reconnected
        assert smtpd.poll() is None
    finally:
        smtpd.terminate()
        smtpd.wait(timeout=30)
        log.close()
    stored = subprocess.run(
        [LOCKSTEP, "manage", "shell", "-c",
         "from lockstep.mailgw.models import InboundMessage as M; print(M.objects.count())"],
        env=deployment.env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert stored.stdout.strip().splitlines()[-1] == "2"
