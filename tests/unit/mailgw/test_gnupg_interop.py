"""Lockstep and the real GnuPG (2.2 on this machine), both ways.

Inbound: what `gpg --sign --encrypt` sends to the list key, compressed (GnuPG's default),
is decrypted by `crypto/unwrap.py` and verified by Sequoia: VALID for a member's key, BAD
for anyone else's, never UNCHECKED. Outbound: keys Lockstep makes (`crypto/keygen.py`)
advertise SEIPD v1 only, so GnuPG imports them, and reads and verifies Lockstep's copies.

Each person has their own GNUPGHOME (`tests.factories.gpg`); the list key is made by
Lockstep, as in production.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pysequoia
import pytest
from pysequoia.packet import PacketPile, Tag

from lockstep.mailgw.crypto.base import DecryptionFailed
from lockstep.mailgw.crypto.ecdh import decryption_keys, session_key
from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.crypto.packets import COMPRESSED, PKESK, SEIPD, read_packet
from lockstep.mailgw.crypto.reading import Opened, SignatureState, open_message
from lockstep.mailgw.crypto.seipd import MAX_INFLATED_BYTES, InflatedTooLarge, decrypt_seipd
from lockstep.mailgw.outbound.pgpmime import canonical_entity, encrypted_entity
from tests.factories.gpg import GnuPG
from tests.factories.keys import KeyPair, key_pair

LIST = "lockstep@lockstep.invalid"
OLD_LIST = "old-list@lockstep.invalid"
MEMBER = "member@example.org"
OUTSIDER = "mallory@elsewhere.example"
ZIP, ZLIB, BZIP2 = 1, 2, 3
MIB = 1024 * 1024


@dataclass(frozen=True)
class Person:
    gpg: GnuPG
    public: str
    fingerprint: str


@pytest.fixture(scope="module")
def list_pair() -> KeyPair:
    return key_pair(f"Lockstep <{LIST}>")


@pytest.fixture(scope="module")
def old_list_pair() -> KeyPair:
    """A list key as Lockstep made them before keygen.py, straight from pysequoia: it states
    no compression preferences, so GnuPG compresses what it sends to it (ZIP)."""
    tsk = pysequoia.Tsk.generate(
        f"Lockstep <{OLD_LIST}>",
        profile=pysequoia.Profile.RFC4880,
        cipher_suite=pysequoia.CipherSuite.Cv25519,
    )
    return KeyPair(public=str(tsk.extract_certificate()), secret=str(tsk))


def _person(home: Path, user_id: str, email: str, lists: tuple[KeyPair, ...]) -> Person:
    gpg = GnuPG(home)
    public = gpg.generate(user_id)
    for pair in lists:
        gpg.import_key(pair.public)
    return Person(gpg, public, gpg.fingerprint(email))


@pytest.fixture(scope="module")
def member(
    tmp_path_factory: pytest.TempPathFactory, list_pair: KeyPair, old_list_pair: KeyPair
) -> Iterator[Person]:
    home = tmp_path_factory.mktemp("member")
    person = _person(home, f"Member <{MEMBER}>", MEMBER, (list_pair, old_list_pair))
    yield person
    person.gpg.stop()


@pytest.fixture(scope="module")
def outsider(
    tmp_path_factory: pytest.TempPathFactory, list_pair: KeyPair, old_list_pair: KeyPair
) -> Iterator[Person]:
    home = tmp_path_factory.mktemp("outsider")
    person = _person(home, f"Mallory <{OUTSIDER}>", OUTSIDER, (list_pair, old_list_pair))
    yield person
    person.gpg.stop()


def _open(message: bytes, list_pair: KeyPair, keys: list[str], **kw: int) -> Opened:
    return open_message(message, secret_key=list_pair.secret, sender_keys=keys, **kw)


def _compression(message: bytes, list_pair: KeyPair) -> int | None:
    """What GnuPG put inside the encryption: its compression algorithm, or None."""
    packets = list(PacketPile.from_bytes(message))
    found = session_key(packets[0].body, decryption_keys(list_pair.secret))
    assert found is not None
    inner = decrypt_seipd(packets[-1].body, key=found[1])
    assert inner is not None
    first, _ = read_packet(inner)
    return first.body[0] if first.tag == COMPRESSED else None


# -- inbound: gpg -se to the list key ---------------------------------------------------------


def test_a_members_default_gpg_sign_encrypt_is_valid(
    member: Person, list_pair: KeyPair, old_list_pair: KeyPair
) -> None:
    # To a list key made before keygen.py, GnuPG compresses: what pysequoia will not verify.
    # A list key from keygen.py prefers no compression, so GnuPG sends it uncompressed.
    for pair, to, compression in ((old_list_pair, OLD_LIST, ZIP), (list_pair, LIST, None)):
        message = member.gpg.sign_encrypt(b"from a member\n", signer=MEMBER, to=to)
        assert _compression(message, pair) == compression
        opened = _open(message, pair, ["not a key", member.public])
        assert (opened.content, opened.encrypted) == (b"from a member\n", True)
        assert (opened.signature, opened.signer) == (SignatureState.VALID, member.fingerprint)


def test_an_outsiders_gpg_sign_encrypt_is_bad(
    member: Person, outsider: Person, list_pair: KeyPair, old_list_pair: KeyPair
) -> None:
    for pair, to in ((old_list_pair, OLD_LIST), (list_pair, LIST)):
        message = outsider.gpg.sign_encrypt(b"I am the vendor\n", signer=OUTSIDER, to=to)
        opened = _open(message, pair, [member.public])
        assert (opened.content, opened.signature) == (b"I am the vendor\n", SignatureState.BAD)
        assert opened.signer == outsider.fingerprint  # the key it names, not proven
        assert _open(message, pair, []).signature == SignatureState.BAD  # no keys on file


@pytest.mark.parametrize(("algo", "number"), [("zip", ZIP), ("zlib", ZLIB), ("bzip2", BZIP2)])
def test_every_compression_gnupg_offers(
    member: Person, outsider: Person, list_pair: KeyPair, algo: str, number: int
) -> None:
    text = f"compressed with {algo}\n".encode()
    message = member.gpg.sign_encrypt(text, signer=MEMBER, to=LIST, compress_algo=algo)
    assert _compression(message, list_pair) == number
    opened = _open(message, list_pair, [member.public])
    assert (opened.content, opened.signature) == (text, SignatureState.VALID)
    forged = outsider.gpg.sign_encrypt(text, signer=OUTSIDER, to=LIST, compress_algo=algo)
    assert _open(forged, list_pair, [member.public]).signature == SignatureState.BAD


@pytest.mark.parametrize("compress", [True, False])
def test_a_large_message_in_partial_body_lengths(
    member: Person, list_pair: KeyPair, compress: bool
) -> None:
    text = base64.encodebytes(os.urandom(150 * 1024))  # ~200 KiB, hardly compressible
    message = member.gpg.sign_encrypt(text, signer=MEMBER, to=LIST, compress=compress, armor=False)
    first, end = read_packet(message)
    assert first.tag == PKESK
    assert message[end] == 0xC0 | SEIPD  # a new-format header ...
    assert 224 <= message[end + 1] <= 254  # ... with a partial body length
    opened = _open(message, list_pair, [member.public])
    assert (opened.content, opened.signature) == (text, SignatureState.VALID)


def test_uncompressed_gpg_sign_encrypt_is_valid(member: Person, list_pair: KeyPair) -> None:
    message = member.gpg.sign_encrypt(b"plain inside\n", signer=MEMBER, to=LIST, compress=False)
    assert _compression(message, list_pair) is None
    opened = _open(message, list_pair, [member.public])
    assert (opened.content, opened.signature) == (b"plain inside\n", SignatureState.VALID)
    assert opened.signer == member.fingerprint


def test_a_text_mode_signature(member: Person, list_pair: KeyPair) -> None:
    message = member.gpg.run(
        *("--trust-model", "always", "--sign", "--encrypt", "--textmode", "-u", MEMBER),
        *("-r", LIST),
        stdin=b"line one\nline two\n",
    )
    opened = _open(message, list_pair, [member.public])
    assert (opened.content, opened.signature) == (b"line one\r\nline two\r\n", "valid")


def test_several_recipients_and_hidden_recipients(member: Person, list_pair: KeyPair) -> None:
    both = member.gpg.run(
        *("--trust-model", "always", "--sign", "--encrypt", "-u", MEMBER),
        *("-r", MEMBER, "-r", LIST),
        stdin=b"to myself and the list\n",
    )
    hidden = member.gpg.run(
        *("--trust-model", "always", "--sign", "--encrypt", "-u", MEMBER),
        *("--throw-keyids", "-r", LIST),  # a PKESK with key ID 0: "try your keys"
        stdin=b"to whom it may concern\n",
    )
    assert [p.tag for p in PacketPile.from_bytes(both)].count(Tag.PKESK) == 2
    assert next(iter(PacketPile.from_bytes(hidden))).body[1:9] == bytes(8)
    for message in (both, hidden):
        assert _open(message, list_pair, [member.public]).signature == SignatureState.VALID


def test_gpg_encrypted_but_unsigned_is_none(member: Person, list_pair: KeyPair) -> None:
    for algo in ("zlib", "bzip2"):
        message = member.gpg.run(
            "--trust-model", "always", "--encrypt", "--compress-algo", algo, "-r", LIST,
            stdin=b"unsigned\n",
        )  # fmt: skip
        opened = _open(message, list_pair, [member.public])
        assert (opened.content, opened.signature, opened.signer) == (b"unsigned\n", "none", "")


@pytest.mark.parametrize("where", ["pkesk", "middle", "mdc-header", "mdc-hash"])
def test_a_changed_message_is_refused_never_valid(
    member: Person, list_pair: KeyPair, where: str
) -> None:
    text = base64.encodebytes(os.urandom(3000))
    message = bytearray(member.gpg.sign_encrypt(text, signer=MEMBER, to=LIST, armor=False))
    assert _open(bytes(message), list_pair, [member.public]).signature == SignatureState.VALID
    _, pkesk_end = read_packet(bytes(message))
    position = {
        "pkesk": pkesk_end - 3,  # in the wrapped session key
        "middle": (pkesk_end + len(message)) // 2,
        "mdc-header": len(message) - 22,
        "mdc-hash": len(message) - 1,
    }[where]
    message[position] ^= 0x01
    with pytest.raises(DecryptionFailed):
        _open(bytes(message), list_pair, [member.public])


def _refuse_pysequoia(monkeypatch: pytest.MonkeyPatch) -> None:
    def inflates_without_a_bound(*_args: object, **_kw: object) -> None:
        raise AssertionError("pysequoia must not see a compressed message: it has no bound")

    monkeypatch.setattr(pysequoia, "decrypt", inflates_without_a_bound)
    monkeypatch.setattr(pysequoia, "verify", inflates_without_a_bound)


@pytest.mark.parametrize("algo", ["zip", "zlib", "bzip2"])
def test_a_decompression_bomb_is_refused_before_pysequoia_sees_it(
    member: Person, list_pair: KeyPair, monkeypatch: pytest.MonkeyPatch, algo: str
) -> None:
    bomb = member.gpg.sign_encrypt(bytes(4 * MIB), signer=MEMBER, to=LIST, compress_algo=algo)
    assert len(bomb) < 40_000
    _refuse_pysequoia(monkeypatch)
    with pytest.raises(InflatedTooLarge, match="more than 2 MiB when decompressed"):
        _open(bomb, list_pair, [member.public], max_inflated=2 * MIB)


def test_the_default_bound_is_64_mib(
    member: Person, list_pair: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MAX_INFLATED_BYTES == 64 * MIB
    content = bytes(MAX_INFLATED_BYTES + 1)
    bomb = member.gpg.sign_encrypt(content, signer=MEMBER, to=LIST, compress_algo="bzip2")
    assert len(bomb) < 4_000  # bzip2 makes 64 MiB of zeros into a few hundred octets
    _refuse_pysequoia(monkeypatch)
    with pytest.raises(InflatedTooLarge, match="more than 64 MiB"):
        _open(bomb, list_pair, [member.public])


def test_under_the_bound_is_read(member: Person, list_pair: KeyPair) -> None:
    text = bytes(MIB)
    message = member.gpg.sign_encrypt(text, signer=MEMBER, to=LIST, compress_algo="zlib")
    opened = _open(message, list_pair, [member.public], max_inflated=2 * MIB)
    assert (opened.content, opened.signature) == (text, SignatureState.VALID)


# -- outbound: keys Lockstep makes --------------------------------------------------------------


def test_generated_keys_advertise_seipd_v1_only(tmp_path: Path) -> None:
    public, _secret = SequoiaOpenPGP().generate_key("Dana <dana@example.org>")
    listing = GnuPG(tmp_path / "home").run("--list-packets", stdin=public.encode()).decode()
    assert re.findall(r"\(features: ([0-9A-F]+)\)", listing) == ["01"]
    assert "sigclass 0x1f" not in listing  # Sequoia's direct-key signature (features 09) is gone
    assert listing.count("sigclass 0x13") == 1
    assert re.findall(r"\(key flags: ([0-9A-F]+)\)", listing) == ["01", "02", "0C"]
    for shown in ("pref-sym-algos: 9 7", "pref-hash-algos: 10 8", "pref-zip-algos: 0 2 1"):
        assert shown in listing
    assert "(primary user ID)" in listing
    assert "key expires" not in listing


def test_gnupg_imports_both_halves_and_every_self_signature_is_good(tmp_path: Path) -> None:
    public, secret = SequoiaOpenPGP().generate_key("Dana <dana@example.org>")
    gpg = GnuPG(tmp_path / "home")
    for half in (public, secret):
        report = gpg.log("--import", stdin=half.encode())
        assert not re.search(r"error|invalid|skipped|bad", report, re.IGNORECASE), report
    assert "secret keys imported: 1" in report
    checked = gpg.log("--check-sigs")
    assert "3 good signatures" in checked
    assert not re.search(r"bad signature|missing|error", checked, re.IGNORECASE), checked
    colons = gpg.run("--with-colons", "--list-secret-keys").decode().splitlines()
    kinds = [line.split(":") for line in colons if line.split(":")[0] in ("sec", "ssb")]
    # A certify-only primary key (the capitals sum up the key), a signing and an encryption
    # subkey, none of them expiring.
    assert [(k[0], k[11], k[6]) for k in kinds] == [
        ("sec", "cESC", ""),
        ("ssb", "s", ""),
        ("ssb", "e", ""),
    ]
    gpg.stop()


def test_generated_keys_are_inspected_as_before() -> None:
    adapter = SequoiaOpenPGP()
    public, _secret = adapter.generate_key("Dana <dana@example.org>")
    info = adapter.inspect_public_key(public, now=datetime.now(tz=UTC))
    assert info.user_ids == ("Dana <dana@example.org>",)
    assert (info.can_encrypt, info.can_sign, info.expires_at) == (True, True, None)
    assert info.algorithm == "EdDSA (Ed25519)"


def test_sequoia_encrypts_to_generated_keys_as_gnupg_2_2_reads(list_pair: KeyPair) -> None:
    message = pysequoia.encrypt(b"x", [pysequoia.Cert.from_bytes(list_pair.public.encode())])
    packets = list(PacketPile.from_bytes(message))
    assert [(p.tag, p.body[0]) for p in packets] == [(Tag.PKESK, 3), (Tag.SEIP, 1)]


def _first_part(entity: bytes) -> tuple[bytes, bytes]:
    """(signed bytes, armoured signature) of a CRLF multipart/signed entity."""
    boundary = re.search(rb'boundary="([^"]+)"', entity)
    assert boundary is not None
    pieces = entity.split(b"\r\n--" + boundary.group(1))
    signature = pieces[2][pieces[2].index(b"-----BEGIN") :]
    return pieces[1].removeprefix(b"\r\n"), signature


def test_gnupg_reads_a_lockstep_copy_and_verifies_the_list_key(
    tmp_path: Path, list_pair: KeyPair
) -> None:
    adapter = SequoiaOpenPGP()
    public, secret = adapter.generate_key("Demo Member <demo@example.org>")  # a demo member
    gpg = GnuPG(tmp_path / "home")
    gpg.import_key(secret)
    gpg.import_key(list_pair.public)
    inner = EmailMessage()
    inner.set_content("Subject: Embargo\n\nThe fix ships on 2031-01-01.\n")
    entity = encrypted_entity(
        canonical_entity(inner), recipient_keys=[public], signing_key=list_pair.secret,
        openpgp=adapter,
    )  # fmt: skip
    outer = BytesParser(policy=policy.default).parsebytes(b"MIME-Version: 1.0\r\n" + entity)
    assert isinstance(outer, EmailMessage)
    armour = list(outer.iter_parts())[1].get_content()
    status = gpg.run("--status-fd", "1", "--decrypt", stdin=armour)
    decrypted = gpg.run("--decrypt", stdin=armour)
    assert b"[GNUPG:] DECRYPTION_OKAY" in status
    assert b"[GNUPG:] GOODMDC" in status
    signed, signature = _first_part(decrypted)
    assert b"The fix ships on 2031-01-01." in signed
    (tmp_path / "signed.txt").write_bytes(signed)
    (tmp_path / "sig.asc").write_bytes(signature)
    verified = gpg.run(
        "--status-fd", "1", "--verify", str(tmp_path / "sig.asc"), str(tmp_path / "signed.txt")
    ).decode("utf-8", "replace")
    validsig = re.search(r"^\[GNUPG:\] VALIDSIG .* ([0-9A-F]{40})$", verified, re.MULTILINE)
    assert validsig is not None  # the last field: the primary key's fingerprint
    list_cert = pysequoia.Cert.from_bytes(list_pair.public.encode())
    assert validsig.group(1) == list_cert.fingerprint.upper()
    gpg.stop()
