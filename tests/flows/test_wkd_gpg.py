"""`gpg --locate-keys security-<project>@<domain>` finds the list key in Lockstep's Web Key
Directory, over HTTPS, from a real `lockstep serve`, and what it encrypts Lockstep can read.

GnuPG looks a WKD key up at https://<mail domain>/.well-known/openpgpkey/hu/… on port 443,
and dirmngr trusts only the system's certificate authorities for it (no option adds one). So
the test serves Lockstep with TLS on 127.0.0.1:443 under a test CA, and runs gpg in a private
mount namespace (`unshare -m`) in which /etc/hosts names the test domain and the system CA
bundle includes the test CA: nothing outside that namespace changes, and nothing needs
restoring. That takes root, `unshare`, `openssl` and Debian's CA bundle path; elsewhere the
test is skipped, and tests/web/test_wkd.py still checks the served bytes with GnuPG.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.wkd import fingerprint
from tests.factories.gpg import GnuPG
from tests.flows.test_serve import LOCKSTEP, _wait_for

DOMAIN = "wkd.lockstep.test"  # .test never resolves outside (RFC 6761)
ADDRESS = f"security-libquokka@{DOMAIN}"  # the demo's project
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # where Debian's GnuTLS looks
HTTPS_PORT = 443  # WKD has no port of its own
MOUNT_FAILED = 99


def _port_443_is_free() -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(("127.0.0.1", HTTPS_PORT))
        except OSError:
            return False
    return True


def _missing() -> str:
    if os.geteuid() != 0:
        return "needs root: port 443 and a private mount namespace"
    for tool in ("unshare", "mount", "openssl", "gpg", "gpgconf"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not CA_BUNDLE.exists():
        return f"needs the system CA bundle at {CA_BUNDLE}"
    if not _port_443_is_free():
        return "port 443 is taken"
    return ""


pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(_missing()), reason=_missing())]


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _make_tls(folder: Path) -> Tls:
    """A throw-away CA, and a certificate for DOMAIN that it signs."""
    folder.mkdir()
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, request = folder / "host.pem", folder / "host.key", folder / "host.csr"
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "1",
        "-subj", "/CN=Lockstep test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    _openssl("req", *ec, "-keyout", key, "-out", request, "-subj", f"/CN={DOMAIN}")
    extensions = folder / "host.ext"
    extensions.write_text(f"subjectAltName=DNS:{DOMAIN}\nextendedKeyUsage=serverAuth\n")
    _openssl(
        "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "1", "-extfile", extensions,
    )  # fmt: skip
    return Tls(ca=ca, cert=cert, key=key)


def _get(tls: Tls, path: str) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.check_hostname = False  # we connect to 127.0.0.1; the chain is still checked
    connection = http.client.HTTPSConnection("127.0.0.1", HTTPS_PORT, context=context, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": DOMAIN})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return _make_tls(tmp_path / "tls")


@pytest.fixture
def lockstep_over_https(tmp_path: Path, tls: Tls) -> Iterator[Path]:
    """`lockstep serve --demo` on https://DOMAIN (127.0.0.1:443); yields its data folder."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_SETTINGS"))
    }
    data = tmp_path / "data"
    env.update(
        LOCKSTEP_DATA_DIR=str(data),
        LOCKSTEP_MAIL_DOMAIN=DOMAIN,
        LOCKSTEP_BASE_URL=f"https://{DOMAIN}",
        LOCKSTEP_ALLOWED_HOSTS=f"{DOMAIN},127.0.0.1",
        GUNICORN_CMD_ARGS=f"--certfile {tls.cert} --keyfile {tls.key}",
    )
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [LOCKSTEP, "serve", "--demo", "--no-worker", "--no-smtpd", "--port", str(HTTPS_PORT)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _get(tls, "/healthz")[0] == 200, seconds=90)
        yield data
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


def _locate_in_namespace(gpg: GnuPG, tls: Tls, folder: Path, address: str) -> str:
    """`gpg --auto-key-locate clear,wkd --locate-keys address` where DOMAIN is 127.0.0.1 and
    the test CA is trusted: in a mount namespace of its own, with its dirmngr."""
    hosts = folder / "hosts"
    hosts.write_text(Path("/etc/hosts").read_text() + f"127.0.0.1 {DOMAIN}\n")
    bundle = folder / "ca-certificates.crt"
    bundle.write_bytes(CA_BUNDLE.read_bytes() + tls.ca.read_bytes())
    (gpg.home / "dirmngr.conf").write_text(f"log-file {folder / 'dirmngr.log'}\n")
    script = (
        f'mount --bind "{hosts}" /etc/hosts && mount --bind "{bundle}" "{CA_BUNDLE}" '
        f"|| exit {MOUNT_FAILED}; "
        f'gpg --batch --auto-key-locate clear,wkd --locate-keys "{address}"; status=$?; '
        "gpgconf --kill all; exit $status"
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env=gpg.env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != MOUNT_FAILED, done.stderr.decode()
    return done.stdout.decode() + done.stderr.decode() if done.returncode == 0 else ""


def test_gpg_locates_the_list_key_by_wkd_and_lockstep_reads_what_it_encrypts(
    tmp_path: Path, tls: Tls, lockstep_over_https: Path
) -> None:
    status, armored = _get(tls, "/list-key.asc")
    assert status == 200
    list_fpr = fingerprint(armored.decode())
    _status, text = _get(tls, "/projects/libquokka/security.txt")
    assert text.decode().splitlines()[1] == f"Contact: mailto:{ADDRESS}"
    assert f"Encryption: openpgp4fpr:{list_fpr}\n" in text.decode()

    gpg = GnuPG(tmp_path / "reporter")
    try:
        found = _locate_in_namespace(gpg, tls, tmp_path, ADDRESS)
        dirmngr_log = tmp_path / "dirmngr.log"
        assert found, dirmngr_log.read_text() if dirmngr_log.exists() else "no dirmngr log"
        assert list_fpr.upper() in found
        colons = gpg.run("--with-colons", "--list-keys").decode()
        uids = [line.split(":")[9] for line in colons.splitlines() if line.startswith("uid")]
        assert uids == [ADDRESS]  # GnuPG keeps only the user ID it looked for
        sealed = gpg.run(
            "--armor", "--trust-model", "always", "--encrypt", "-r", ADDRESS, stdin=b"details"
        )
        secret = (lockstep_over_https / "list-key.asc").read_text()
        assert SequoiaOpenPGP().decrypt(sealed.decode(), secret_key=secret) == b"details"
        assert _locate_in_namespace(gpg, tls, tmp_path, f"security-nothing@{DOMAIN}") == ""
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=gpg.env, check=False)
