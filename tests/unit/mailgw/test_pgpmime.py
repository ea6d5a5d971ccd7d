"""PGP/MIME building and reading (RFC 3156), checked against our own reader and real GnuPG.

Member keys are made by gpg (`--quick-gen-key ... future-default default never`), as members
upload them; the list's signing key is made by pysequoia (SequoiaOpenPGP.generate_key). Each
member reads mail in a GNUPGHOME of their own that holds only their secret key and the list's
public key, so a test that a member cannot read another's copy is not fooled by a shared ring.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from lockstep.mailgw.crypto.base import DecryptionFailed, KeyRejected
from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.crypto.signing import micalg, sign_detached, verify_detached
from lockstep.mailgw.outbound.pgpmime import (
    NotPgpMime,
    build_encrypted,
    build_signed,
    copy_envelope_headers,
    decrypt_entity,
    open_encrypted,
    verify_signed,
)

TEXT = "Grüße aus Zürich — the embargo ends 2031-01-01.\nFrom the finder, with a trailing space \n"
ATTACHMENT = bytes(range(256)) * 4


@dataclass(frozen=True)
class Member:
    public: str
    secret: str
    fingerprint: str
    home: Path  # a GNUPGHOME with only this member's secret key and the list's public key


@dataclass(frozen=True)
class World:
    list_public: str
    list_secret: str
    list_fingerprint: str
    m1: Member
    m2: Member
    m3: Member


def gpg(
    home: Path, *args: str, stdin: bytes = b"", check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    cmd = ["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""]
    done = subprocess.run(
        [*cmd, *args],
        input=stdin,
        env={**os.environ, "GNUPGHOME": str(home)},
        capture_output=True,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr.decode()
    return done


def new_home(root: Path, name: str) -> Path:
    home = root / name
    home.mkdir(mode=0o700)
    (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
    return home


@pytest.fixture(scope="module")
def adapter() -> SequoiaOpenPGP:
    return SequoiaOpenPGP()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, adapter: SequoiaOpenPGP) -> Iterator[World]:
    root = tmp_path_factory.mktemp("pgpmime")
    keygen = new_home(root, "keygen")
    list_public, list_secret = adapter.generate_key("Lockstep List <list@example.org>")
    list_fpr = adapter.inspect_public_key(list_public, now=datetime.now(tz=UTC)).fingerprint
    members = []
    for n in (1, 2, 3):
        uid = f"M{n} <m{n}@example.org>"
        gpg(keygen, "--quick-gen-key", uid, "future-default", "default", "never")
        colons = gpg(keygen, "--with-colons", "--list-keys", f"={uid}").stdout.decode()
        fpr = next(x.split(":")[9] for x in colons.splitlines() if x.startswith("fpr"))
        secret = gpg(keygen, "--armor", "--export-secret-keys", fpr).stdout
        home = new_home(root, f"m{n}")
        gpg(home, "--import", stdin=secret)
        gpg(home, "--import", stdin=list_public.encode())
        public = gpg(keygen, "--armor", "--export", fpr).stdout.decode()
        members.append(Member(public, secret.decode(), fpr, home))
    yield World(list_public, list_secret, list_fpr, *members)
    for home in [keygen, *(m.home for m in members)]:
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env={**os.environ, "GNUPGHOME": str(home)},
            check=False,
        )


def plain(text: str = TEXT) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Lockstep <list@example.org>"
    msg["To"] = "M1 <m1@example.org>"
    msg["Subject"] = "[CASE-7] Embargo extended"
    msg["Message-ID"] = "<case-7.1@example.org>"
    msg.set_content(text)
    return msg


def with_attachment() -> EmailMessage:
    msg = plain()
    msg.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="report-ü.pdf")
    return msg


def parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


def first_part_bytes(entity: bytes) -> tuple[bytes, bytes]:
    """(signed bytes, armoured signature) of a CRLF multipart/signed entity, by hand."""
    boundary = re.search(rb'boundary="([^"]+)"', entity)
    assert boundary is not None
    delimiter = b"\r\n--" + boundary.group(1)
    pieces = entity.split(delimiter)
    assert len(pieces) == 4  # preamble, signed part, signature part, "--" + epilogue
    signed = pieces[1].removeprefix(b"\r\n")
    signature = pieces[2][pieces[2].index(b"-----BEGIN") :]
    return signed, signature


# -- our own round trip ---------------------------------------------------------------------


def test_round_trip_sign_then_encrypt(adapter: SequoiaOpenPGP, world: World) -> None:
    outer = build_encrypted(
        plain(),
        recipient_keys=[world.m1.public, world.m2.public],
        signing_key=world.list_secret,
        openpgp=adapter,
    )
    assert outer.get_content_type() == "multipart/encrypted"
    assert outer.get_param("protocol") == "application/pgp-encrypted"
    assert outer["MIME-Version"] == "1.0"
    control, data = outer.iter_parts()
    assert control.get_content_type() == "application/pgp-encrypted"
    assert control.get_content() == b"Version: 1\r\n"
    assert data.get_content_type() == "application/octet-stream"
    assert data.get_filename() == "encrypted.asc"
    assert data.get_content().startswith(b"-----BEGIN PGP MESSAGE-----")
    assert "Embargo" not in outer.as_string()  # nothing of the inner message in clear
    for member in (world.m1, world.m2):
        inner = open_encrypted(outer, secret_key=member.secret, openpgp=adapter)
        assert inner.get_content_type() == "multipart/signed"
        assert inner.get_param("micalg") == "pgp-sha512"
        assert inner.get_param("protocol") == "application/pgp-signature"
        signed, signature = inner.iter_parts()
        assert signed.get_content() == TEXT.replace("\n", "\r\n")  # canonical CRLF
        assert signed["Subject"] is None  # only Content-* headers are signed and encrypted
        assert signature.get_content_type() == "application/pgp-signature"
        assert verify_signed(inner, public_key=world.list_public) is True
    raw = decrypt_entity(bytes(outer), secret_key=world.m1.secret, openpgp=adapter)
    assert verify_signed(raw, public_key=world.list_public) is True
    assert verify_signed(raw, public_key=world.m1.public) is False  # not the list's signature


def test_copy_envelope_headers() -> None:
    src = plain()
    src["Cc"] = "a@example.org"
    src["References"] = "<one@example.org>"
    dst = EmailMessage()
    dst["Subject"] = "old"
    copy_envelope_headers(src, dst)
    assert dst.get_all("Subject") == ["[CASE-7] Embargo extended"]
    assert [dst["From"], dst["To"], dst["Cc"], dst["Message-ID"]] == [
        "Lockstep <list@example.org>",
        "M1 <m1@example.org>",
        "a@example.org",
        "<case-7.1@example.org>",
    ]
    assert dst["Date"] is None  # absent in src: not invented
    only = EmailMessage()
    copy_envelope_headers(src, only, names=["To"])
    assert list(only.keys()) == ["To"]


def test_signed_message_verifies_over_any_line_ending_and_not_when_changed(
    world: World,
) -> None:
    msg = build_signed(plain(), signing_key=world.list_secret)
    assert msg.get_content_type() == "multipart/signed"
    lf = bytes(msg)
    assert b"\r\n" not in lf  # policy.default writes LF; the signature is over CRLF
    crlf = msg.as_bytes(policy=policy.SMTP)
    for form in (msg, lf, crlf):
        assert verify_signed(form, public_key=world.list_public) is True
    changed = lf.replace(b"2031-01-01", b"2031-01-02")
    assert changed != lf
    assert verify_signed(changed, public_key=world.list_public) is False
    wrong_micalg = lf.replace(b"micalg=pgp-sha512", b"micalg=pgp-sha256")
    assert verify_signed(wrong_micalg, public_key=world.list_public) is False
    no_signature = re.sub(
        rb"-----BEGIN PGP SIGNATURE-----.*?-----END PGP SIGNATURE-----", b"x", lf, flags=re.DOTALL
    )
    assert verify_signed(no_signature, public_key=world.list_public) is False


def test_entity_without_content_type_is_signed_as_plain_text(world: World) -> None:
    bare = EmailMessage()
    bare["Subject"] = "no content type"
    bare.set_payload("hello\n")
    signed, _ = first_part_bytes(
        build_signed(bare, signing_key=world.list_secret).as_bytes(policy=policy.SMTP)
    )
    assert signed == b'Content-Type: text/plain; charset="us-ascii"\r\n\r\nhello\r\n'


def test_eight_bit_parts_are_reencoded_before_signing(world: World) -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xc3\xbc\xc3\x9fe\r\n--b\r\n"
        b"Content-Type: application/x-data\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"\xff\xfe\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nplain ascii\r\n--b--\r\n"
    )
    msg = build_signed(parse(raw), signing_key=world.list_secret)
    signed_bytes, _ = first_part_bytes(msg.as_bytes(policy=policy.SMTP))
    assert signed_bytes.isascii()
    text, data, ascii_part = next(msg.iter_parts()).iter_parts()
    assert (text["Content-Transfer-Encoding"], text.get_content()) == (
        "quoted-printable",
        "Grüße",  # the CRLF before the next delimiter is not content
    )
    assert (data["Content-Transfer-Encoding"], data.get_content()) == ("base64", b"\xff\xfe")
    assert ascii_part["Content-Transfer-Encoding"] is None  # already safe: left alone
    assert verify_signed(msg, public_key=world.list_public) is True


# -- GnuPG reads what we build ---------------------------------------------------------------


def gpg_decrypt(member: Member, outer: EmailMessage, tmp_path: Path) -> tuple[int, bytes, str]:
    """(exit code, plaintext, status lines) of `gpg --decrypt` on the data part's armour."""
    ciphertext = tmp_path / "encrypted.asc"
    ciphertext.write_bytes(list(outer.iter_parts())[1].get_content())
    status = tmp_path / "status.txt"
    done = gpg(member.home, "--status-file", str(status), "--decrypt", str(ciphertext), check=False)
    return done.returncode, done.stdout, status.read_text()


def gpg_verify(member: Member, signed: bytes, signature: bytes, tmp_path: Path) -> tuple[int, str]:
    (tmp_path / "signed-part.txt").write_bytes(signed)
    (tmp_path / "sig.asc").write_bytes(signature)
    done = gpg(
        member.home,
        *("--status-fd", "1", "--verify"),
        *(str(tmp_path / "sig.asc"), str(tmp_path / "signed-part.txt")),
        check=False,
    )
    return done.returncode, done.stdout.decode("utf-8", "replace")  # notation data is binary


def test_gnupg_decrypts_and_verifies(adapter: SequoiaOpenPGP, world: World, tmp_path: Path) -> None:
    outer = build_encrypted(
        plain(),
        recipient_keys=[world.m1.public, world.m2.public],
        signing_key=world.list_secret,
        openpgp=adapter,
    )
    code, decrypted, status = gpg_decrypt(world.m1, outer, tmp_path)
    assert code == 0, status
    assert "[GNUPG:] DECRYPTION_OKAY" in status
    assert "[GNUPG:] GOODMDC" in status
    assert len(re.findall(r"^\[GNUPG:\] ENC_TO ", status, re.MULTILINE)) == 2
    assert decrypted == decrypt_entity(outer, secret_key=world.m1.secret, openpgp=adapter)
    assert decrypted.startswith(b"Content-Type: multipart/signed;\r\n micalg=pgp-sha512;\r\n")
    signed, signature = first_part_bytes(decrypted)
    assert signed.startswith(b'Content-Type: text/plain; charset="utf-8"\r\n')
    code, verified = gpg_verify(world.m1, signed, signature, tmp_path)
    assert code == 0, verified
    goodsig = r"^\[GNUPG:\] GOODSIG [0-9A-F]{16} Lockstep List <list@example.org>$"
    assert re.search(goodsig, verified, re.MULTILINE)
    validsig = re.search(r"^\[GNUPG:\] VALIDSIG .* ([0-9A-F]{40})$", verified, re.MULTILINE)
    assert validsig is not None
    assert validsig.group(1) == world.list_fingerprint  # primary key fingerprint, last field
    code, bad = gpg_verify(world.m1, signed.replace(b"2031", b"2032"), signature, tmp_path)
    assert code == 1
    assert "[GNUPG:] BADSIG " in bad
    assert "GOODSIG" not in bad


def test_a_member_cannot_read_another_members_copy(
    adapter: SequoiaOpenPGP, world: World, tmp_path: Path
) -> None:
    for_m3 = build_encrypted(
        plain(), recipient_keys=[world.m3.public], signing_key=world.list_secret, openpgp=adapter
    )
    code, plaintext, status = gpg_decrypt(world.m2, for_m3, tmp_path)
    assert (code, plaintext) == (2, b"")
    assert "[GNUPG:] NO_SECKEY " in status
    assert "DECRYPTION_OKAY" not in status
    with pytest.raises(DecryptionFailed):
        open_encrypted(for_m3, secret_key=world.m2.secret, openpgp=adapter)
    code, plaintext, status = gpg_decrypt(world.m3, for_m3, tmp_path)  # the control
    assert code == 0
    assert "[GNUPG:] DECRYPTION_OKAY" in status
    assert plaintext.startswith(b"Content-Type: multipart/signed;")


def test_non_ascii_text_and_attachment_survive_gnupg(
    adapter: SequoiaOpenPGP, world: World, tmp_path: Path
) -> None:
    outer = build_encrypted(
        with_attachment(),
        recipient_keys=[world.m1.public],
        signing_key=world.list_secret,
        openpgp=adapter,
    )
    code, decrypted, status = gpg_decrypt(world.m1, outer, tmp_path)
    assert code == 0, status
    assert decrypted.isascii()  # every part was given a 7-bit transfer encoding
    signed_part, signature_part = parse(decrypted).iter_parts()
    text, attachment = signed_part.iter_parts()
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert b"=46rom the finder, with a trailing space=20\r\n" in decrypted
    assert text.get_content() == TEXT.replace("\n", "\r\n")
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "report-ü.pdf"
    assert attachment.get_content() == ATTACHMENT
    assert signature_part.get_content_type() == "application/pgp-signature"
    code, verified = gpg_verify(world.m1, *first_part_bytes(decrypted), tmp_path)
    assert code == 0, verified
    assert "[GNUPG:] GOODSIG " in verified
    assert verify_signed(decrypted, public_key=world.list_public) is True


def test_recipient_keys_are_checked(adapter: SequoiaOpenPGP, world: World) -> None:
    with pytest.raises(KeyRejected):
        build_encrypted(
            plain(),
            recipient_keys=[world.m1.secret],
            signing_key=world.list_secret,
            openpgp=adapter,
        )


# -- refusals ---------------------------------------------------------------------------------


def test_open_encrypted_refuses_other_shapes(adapter: SequoiaOpenPGP, world: World) -> None:
    signed = build_signed(plain(), signing_key=world.list_secret)
    good = bytes(
        build_encrypted(
            plain(),
            recipient_keys=[world.m1.public],
            signing_key=world.list_secret,
            openpgp=adapter,
        )
    )
    shapes = {
        "not encrypted": bytes(signed),
        "wrong protocol": good.replace(b'protocol="application/pgp-encrypted"', b'protocol="x/y"'),
        "parts swapped": good.replace(b"application/octet-stream", b"text/plain"),
        "no version": good.replace(b"Version: 1", b"Version: 2"),
    }
    messages = {
        "not encrypted": "Not a multipart/encrypted",
        "wrong protocol": "Not a multipart/encrypted",
        "parts swapped": "has a control part and a data part",
        "no version": "does not say Version: 1",
    }
    for name, raw in shapes.items():
        with pytest.raises(NotPgpMime, match=messages[name]) as caught:
            open_encrypted(raw, secret_key=world.m1.secret, openpgp=adapter)
        assert caught.value.code == "not_pgp_mime"


def test_verify_signed_refuses_other_shapes(world: World) -> None:
    good = bytes(build_signed(plain(), signing_key=world.list_secret))
    with pytest.raises(NotPgpMime, match="Not a multipart/signed"):
        verify_signed(plain(), public_key=world.list_public)
    no_sig_part = good.replace(b"application/pgp-signature;", b"text/plain;")
    with pytest.raises(NotPgpMime, match="a signed part and a signature part"):
        verify_signed(no_sig_part, public_key=world.list_public)
    boundary = parse(good).get_boundary()
    assert boundary is not None
    # A bare CR ends the first delimiter line: the parser still splits the parts, but the
    # signed bytes cannot be located exactly, so nothing is verified.
    bare_cr = good.replace(f"\n--{boundary}\n".encode(), f"\n--{boundary}\r".encode(), 1)
    assert bare_cr != good
    assert len(list(parse(bare_cr).iter_parts())) == 2
    with pytest.raises(NotPgpMime, match="no complete first part"):
        verify_signed(bare_cr, public_key=world.list_public)


# -- detached signatures --------------------------------------------------------------------


def test_detached_signatures(adapter: SequoiaOpenPGP, world: World) -> None:
    signature = sign_detached(b"data\r\n", secret_key=world.list_secret)
    assert signature.startswith("-----BEGIN PGP SIGNATURE-----")
    assert micalg(signature) == "pgp-sha512"
    assert verify_detached(b"data\r\n", signature, public_key=world.list_public) is True
    assert verify_detached(b"data\n", signature, public_key=world.list_public) is False
    assert verify_detached(b"data\r\n", signature, public_key=world.m1.public) is False
    assert verify_detached(b"data\r\n", "nonsense", public_key=world.list_public) is False
    gpg_signature = sign_detached(b"x", secret_key=world.m1.secret)  # a gpg-made key signs too
    assert verify_detached(b"x", gpg_signature, public_key=world.m1.public) is True
    with pytest.raises(ValueError, match="no usable"):
        sign_detached(b"x", secret_key=world.list_public)
    with pytest.raises(ValueError, match="not an OpenPGP certificate"):
        verify_detached(b"x", signature, public_key="nonsense")
    with pytest.raises(ValueError, match="not an OpenPGP signature"):
        micalg("nonsense")
