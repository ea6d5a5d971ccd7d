"""The pieces under `open_message`'s own decryption, on messages built here byte by byte:
packet framing (`packets.py`), the ECDH session key (`ecdh.py`), SEIPD v1 and inflation
(`seipd.py`), `unwrap.py`, and what `reading.py` makes of each odd inside.

Messages are encrypted here to a list key from `SequoiaOpenPGP.generate_key`, with the
`cryptography` library, the same steps GnuPG takes (RFC 6637, RFC 9580 section 5.13.1), so
that shapes GnuPG never writes can be tried. The GnuPG side is test_gnupg_interop.py.
"""

from __future__ import annotations

import bz2
import hashlib
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import pysequoia
import pytest
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from hypothesis import given
from hypothesis import strategies as st
from pysequoia.packet import PacketPile, PublicKeyAlgorithm, Tag

from lockstep.mailgw.crypto import ecdh
from lockstep.mailgw.crypto.base import DecryptionFailed
from lockstep.mailgw.crypto.ecdh import DecryptionKey, decryption_keys, session_key
from lockstep.mailgw.crypto.packets import (
    COMPRESSED,
    LITERAL,
    PKESK,
    SEIPD,
    SIGNATURE,
    PacketError,
    RawPacket,
    encode_mpi,
    encode_packet,
    literal_data,
    read_mpi,
    read_packet,
    split_packets,
)
from lockstep.mailgw.crypto.reading import SignatureState, open_message
from lockstep.mailgw.crypto.seipd import InflatedTooLarge, decrypt_seipd, inflate
from lockstep.mailgw.crypto.unwrap import MAX_LAYERS, uncompress, unwrap
from tests.factories.keys import KeyPair, key_pair

AES256 = 9


@pytest.fixture(scope="module")
def list_pair() -> KeyPair:
    return key_pair("Lockstep <lockstep@lockstep.invalid>")


@pytest.fixture(scope="module")
def sender() -> KeyPair:
    return key_pair("Sender <sender@example.org>")


@pytest.fixture(scope="module")
def key(list_pair: KeyPair) -> DecryptionKey:
    (found,) = decryption_keys(list_pair.secret)
    return found


# -- building messages ---------------------------------------------------------------------


def _padded(session: bytes, cipher: int = AES256) -> bytes:
    """cipher || key || checksum || PKCS #5 padding: what the AES key wrap protects."""
    data = bytes([cipher]) + session + (sum(session) & 0xFFFF).to_bytes(2, "big")
    count = 8 - len(data) % 8
    return data + bytes([count]) * count


def _pkesk(
    key: DecryptionKey, payload: bytes, *, key_id: bytes | None = None, point: bytes = b""
) -> bytes:
    """A v3 PKESK body for `key` that wraps `payload` (RFC 6637 section 8)."""
    ours = X25519PrivateKey.from_private_bytes(key.scalar).public_key()
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(ours.public_bytes_raw()))
    wrapped = aes_key_wrap(ecdh._kek(key, shared), payload)
    point = point or b"\x40" + ephemeral.public_key().public_bytes_raw()
    recipient = key.key_id if key_id is None else key_id
    return b"\x03" + recipient + b"\x12" + encode_mpi(point) + bytes([len(wrapped)]) + wrapped


def _seipd(session: bytes, inner: bytes) -> bytes:
    """A SEIPD v1 body: AES-CFB, zero IV, over prefix || repeat || inner || MDC."""
    prefix = os.urandom(16)
    plain = prefix + prefix[-2:] + inner + b"\xd3\x14"
    plain += hashlib.sha1(plain).digest()  # noqa: S324 - the MDC is SHA-1 by definition
    encryptor = Cipher(algorithms.AES(session), CFB(bytes(16))).encryptor()
    return b"\x01" + encryptor.update(plain) + encryptor.finalize()


def _message(key: DecryptionKey, inner: bytes, session: bytes = b"") -> bytes:
    session = session or os.urandom(32)
    pkesk = encode_packet(PKESK, _pkesk(key, _padded(session)))
    return pkesk + encode_packet(SEIPD, _seipd(session, inner))


def _signed(by: KeyPair, text: bytes) -> bytes:
    signer = pysequoia.Tsk.from_bytes(by.secret.encode()).signer()
    return pysequoia.sign(signer, text, mode=pysequoia.SignatureMode.INLINE, armor=False)


def _zlib(inner: bytes) -> bytes:
    return encode_packet(COMPRESSED, b"\x02" + zlib.compress(inner))


def _literal(text: bytes) -> bytes:
    return encode_packet(LITERAL, b"b\x00\x00\x00\x00\x00" + text)


# -- packets.py ------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=70_000))
def test_new_format_lengths_round_trip(size: int) -> None:
    body = bytes(size)
    data = encode_packet(LITERAL, body) + encode_packet(SIGNATURE, b"x")
    assert split_packets(data) == [RawPacket(LITERAL, body), RawPacket(SIGNATURE, b"x")]


@pytest.mark.parametrize(
    ("size", "header"), [(191, "cb bf"), (192, "cb c0 00"), (8383, "cb df ff"), (8384, "cb ff")]
)
def test_new_format_length_boundaries(size: int, header: str) -> None:
    assert encode_packet(LITERAL, bytes(size)).hex(" ").startswith(header)


def test_old_format_lengths() -> None:
    assert read_packet(b"\x88\x02ab") == (RawPacket(SIGNATURE, b"ab"), 4)
    assert read_packet(b"\x89\x00\x02ab") == (RawPacket(SIGNATURE, b"ab"), 5)
    assert read_packet(b"\x8a\x00\x00\x00\x02abc") == (RawPacket(SIGNATURE, b"ab"), 7)
    assert read_packet(b"\xa3\x01rest of it") == (RawPacket(COMPRESSED, b"\x01rest of it"), 12)


def test_partial_body_lengths_are_joined() -> None:
    data = b"\xcb\xe9" + b"a" * 512 + b"\xe0" + b"b" + b"\x03" + b"cde" + b"\xc2\x01s"
    assert split_packets(data) == [RawPacket(LITERAL, b"a" * 512 + b"bcde"), RawPacket(2, b"s")]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01",  # no packet header
        b"\xc2",  # no length
        b"\xc2\xc5",  # a two-octet length cut short
        b"\xc2\xff\x00\x00",  # a five-octet length cut short
        b"\xc2\x05abc",  # a body cut short
        b"\x89\x00",  # an old-format length cut short
        b"\xc2\xe1ab\x01c",  # a partial length on a signature packet
        b"\xcb\xe1ab",  # a partial length with nothing after it
    ],
)
def test_damaged_framing_is_a_packet_error(data: bytes) -> None:
    with pytest.raises(PacketError):
        read_packet(data)


def test_mpis() -> None:
    assert encode_mpi(b"\x00\x00\x01") == b"\x00\x01\x01"
    assert encode_mpi(b"") == b"\x00\x00"
    point = b"\x40" + bytes(32)
    assert encode_mpi(point)[:2] == (263).to_bytes(2, "big")
    assert read_mpi(b"xx" + encode_mpi(point) + b"yy", 2) == (point, 37)
    with pytest.raises(PacketError):
        read_mpi(b"\x01\x07", 0)


def test_literal_data() -> None:
    assert literal_data(b"b\x05hello\x00\x00\x00\x00data") == b"data"
    assert literal_data(b"u\x00\x00\x00\x00\x00") == b""
    with pytest.raises(PacketError):
        literal_data(b"b\x05hel")


# -- ecdh.py ---------------------------------------------------------------------------------


def test_the_session_key_comes_back(key: DecryptionKey) -> None:
    session = os.urandom(32)
    assert session_key(_pkesk(key, _padded(session)), [key]) == (AES256, session)
    wildcard = _pkesk(key, _padded(session), key_id=bytes(8))
    assert session_key(wildcard, [key]) == (AES256, session)
    for cipher, size in ((7, 16), (8, 24)):
        short = os.urandom(size)
        assert session_key(_pkesk(key, _padded(short, cipher)), [key]) == (cipher, short)


def test_other_kdf_parameters(key: DecryptionKey) -> None:
    strong = replace(key, kdf_field=b"\x03\x01\x0a\x09")  # SHA-512, AES-256
    session = os.urandom(32)
    assert session_key(_pkesk(strong, _padded(session)), [strong]) == (AES256, session)
    assert session_key(_pkesk(strong, _padded(session)), [key]) is None


def _unpadded(session: bytes) -> bytes:
    data = _padded(session)
    return data[: -data[-1]] + bytes(data[-1])  # padding that counts 0


@pytest.mark.parametrize(
    "payload",
    [
        _unpadded(os.urandom(32)),
        _padded(os.urandom(32))[:-1] + b"\x09",  # a count past 8
        _padded(os.urandom(32))[:-2] + b"\x01\x05",  # padding that does not repeat its count
        _padded(os.urandom(16)),  # AES-256 named, a 16-octet key
        _padded(os.urandom(16), cipher=3),  # CAST5
        bytes([AES256]) + bytes(32) + b"\x00\x01" + b"\x05" * 5,  # a wrong checksum
        b"\x01" * 16,  # cipher 1 (IDEA)
    ],
)
def test_a_wrong_inside_gives_no_session_key(key: DecryptionKey, payload: bytes) -> None:
    assert session_key(_pkesk(key, payload), [key]) is None


def test_packets_for_others_or_of_other_shapes_give_no_session_key(key: DecryptionKey) -> None:
    good = _pkesk(key, _padded(os.urandom(32)))
    another = _pkesk(key, _padded(os.urandom(32)), key_id=b"\x01" * 8)
    low_order = _pkesk(key, _padded(os.urandom(32)), point=b"\x40" + bytes(32))
    not_native = _pkesk(key, _padded(os.urandom(32)), point=b"\x04" + bytes(32))
    for body in (
        another,
        low_order,  # X25519 refuses an all-zero shared secret
        not_native,
        b"\x06" + good[1:],  # a v6 PKESK
        good[:9] + b"\x01" + good[10:],  # RSA
        good[:9],  # too short
        good[:12],  # the point cut short
        good[: 10 + 2 + 33],  # no wrapped key at all
        good[:-3],  # the wrapped key cut short
        good[:-1] + bytes([good[-1] ^ 1]),  # the wrapped key changed
    ):
        assert session_key(body, [key]) is None


@dataclass(frozen=True)
class _Key:
    """Stands in for a pysequoia secret subkey packet: what `_ecdh_key` reads."""

    body: bytes
    fingerprint: str


def test_only_unprotected_cv25519_subkeys_are_used(key: DecryptionKey, list_pair: KeyPair) -> None:
    packet = next(
        p
        for p in PacketPile.from_bytes(list_pair.secret.encode())
        if p.tag == Tag.SecretSubkey and p.key_algorithm == PublicKeyAlgorithm.ECDH
    )
    body = packet.body
    _point, kdf = read_mpi(body, 7 + body[6])
    usage = kdf + 4  # after 03 01 hash cipher
    fine = _Key(body, packet.fingerprint or "")
    assert ecdh._ecdh_key(fine) == key
    assert key.key_id.hex() == packet.key_id
    for broken in (
        b"\x05" + body[1:],  # a v5 key
        body[:6] + b"\x03\x2b\x65\x6f" + body[17:],  # another curve (X448)
        body[:-2] + bytes([body[-2] ^ 1, body[-1]]),  # a wrong checksum
        body[:5],  # cut short in the header
        body[:20],  # cut short in the public key
        body[:usage] + b"\xfe" + body[usage + 1 :],  # protected with a passphrase
        body[: usage - 2] + b"\x0b" + body[usage - 1 :],  # an unknown KDF hash
        body[:usage] + b"\x00\x01\x08" + bytes(33) + b"\x00\x00",  # a 33-octet secret
    ):
        assert ecdh._ecdh_key(replace(fine, body=broken)) is None
    assert decryption_keys("not a key") == ()
    cv448 = pysequoia.Tsk.generate(
        "X <x@example.org>",
        profile=pysequoia.Profile.RFC4880,
        cipher_suite=pysequoia.CipherSuite.Cv448,
    )
    assert decryption_keys(str(cv448)) == ()


# -- seipd.py --------------------------------------------------------------------------------


def test_inflate_each_algorithm_and_refuse_past_the_limit() -> None:
    text = b"words " * 1000
    raw = zlib.compressobj(wbits=-15)
    deflated = raw.compress(text) + raw.flush()
    for body in (b"\x00" + text, b"\x01" + deflated, b"\x02" + zlib.compress(text)):
        assert inflate(body, limit=len(text)) == text
        with pytest.raises(InflatedTooLarge, match=r"more than 0\.0057\d+ MiB when"):
            inflate(body, limit=len(text) - 1)
    assert inflate(b"\x03" + bz2.compress(text), limit=len(text)) == text
    with pytest.raises(InflatedTooLarge):
        inflate(b"\x03" + bz2.compress(text), limit=len(text) - 1)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"", "unknown compression algorithm"),
        (b"\x09data", "unknown compression algorithm"),
        (b"\x02not zlib", "damaged"),
        (b"\x03not bzip2", "damaged"),
    ],
)
def test_inflate_refuses_what_it_cannot_read(body: bytes, said: str) -> None:
    with pytest.raises(DecryptionFailed, match=said):
        inflate(body, limit=1000)


def test_seipd_versions_and_integrity() -> None:
    session = os.urandom(32)
    assert decrypt_seipd(_seipd(session, b"inner"), key=session) == b"inner"
    assert decrypt_seipd(b"\x02" + _seipd(session, b"inner")[1:], key=session) is None
    with pytest.raises(DecryptionFailed, match="integrity"):
        decrypt_seipd(_seipd(session, b"inner"), key=os.urandom(32))
    encryptor = Cipher(algorithms.AES(session), CFB(bytes(16))).encryptor()
    too_short = b"\x01" + encryptor.update(bytes(30)) + encryptor.finalize()
    with pytest.raises(DecryptionFailed, match="integrity"):
        decrypt_seipd(too_short, key=session)


# -- unwrap.py -------------------------------------------------------------------------------


def test_unwrap_leaves_other_shapes_alone(list_pair: KeyPair, sender: KeyPair) -> None:
    assert unwrap(b"not OpenPGP", secret_key=list_pair.secret) is None
    assert unwrap(_signed(sender, b"x"), secret_key=list_pair.secret) is None
    by_password = pysequoia.encrypt(b"x", passwords=["hunter2"])
    assert unwrap(by_password, secret_key=list_pair.secret) is None
    assert unwrap(_message_v2(list_pair), secret_key=list_pair.secret) is None


def _message_v2(list_pair: KeyPair) -> bytes:
    """A v3 PKESK to the list key in front of a SEIPD v2 packet (which needs v6: not ours)."""
    session = os.urandom(32)
    (key,) = decryption_keys(list_pair.secret)
    pkesk = encode_packet(PKESK, _pkesk(key, _padded(session)))
    # Version, AES-256, OCB, chunk size, salt; then chunks and tags (never decrypted here).
    return pkesk + encode_packet(SEIPD, b"\x02\x09\x02\x06" + os.urandom(32 + 64))


def test_uncompress_layers() -> None:
    inner = _literal(b"text")
    assert uncompress(inner) == inner
    assert uncompress(_zlib(_zlib(inner))) == inner
    assert uncompress(_zlib(inner) + b"\xc2\x00") == _zlib(inner) + b"\xc2\x00"  # not one packet
    deep = inner
    for _ in range(MAX_LAYERS + 1):
        deep = _zlib(deep)
    with pytest.raises(DecryptionFailed, match="compressed more than 4 times"):
        uncompress(deep)
    with pytest.raises(DecryptionFailed, match="not made of OpenPGP packets"):
        uncompress(b"\x00garbage")


# -- reading.py over crafted insides -----------------------------------------------------------


def test_crafted_messages_verify_like_gnupgs(
    key: DecryptionKey, list_pair: KeyPair, sender: KeyPair
) -> None:
    signed = _signed(sender, b"hello")
    fingerprint = pysequoia.Cert.from_bytes(sender.public.encode()).fingerprint.upper()
    for inner in (signed, _zlib(signed), _zlib(_zlib(signed))):
        opened = open_message(
            _message(key, inner), secret_key=list_pair.secret, sender_keys=[sender.public]
        )
        assert (opened.content, opened.signature, opened.signer) == (
            b"hello",
            SignatureState.VALID,
            fingerprint,
        )
    unsigned = open_message(
        _message(key, _zlib(_literal(b"plain"))), secret_key=list_pair.secret, sender_keys=[]
    )
    assert (unsigned.content, unsigned.signature) == (b"plain", SignatureState.NONE)


def test_signed_insides_sequoia_will_not_verify_are_bad(
    key: DecryptionKey, list_pair: KeyPair, sender: KeyPair
) -> None:
    signed = _signed(sender, b"hello")
    for inner in (signed + _literal(b"smuggled"), _literal(b"first") + signed[15:]):
        opened = open_message(
            _message(key, inner), secret_key=list_pair.secret, sender_keys=[sender.public]
        )
        assert opened.signature == SignatureState.BAD


@pytest.mark.parametrize(
    ("inner", "said"),
    [
        (b"\x00garbage", "not made of OpenPGP packets"),
        (_literal(b"text") + b"\x00", "not made of OpenPGP packets"),
        (encode_packet(LITERAL, b"b\x09short"), "not made of OpenPGP packets"),
        (_literal(b"one") + _literal(b"two"), "no single literal"),
        (encode_packet(SIGNATURE + 60, b"x"), "no single literal"),
        (encode_packet(4, bytes(13)) + _zlib(_literal(b"x")) + b"\xc2\x00", "compressed in a way"),
        (_zlib(encode_packet(COMPRESSED, b"\x09")), "unknown compression"),
    ],
)
def test_insides_that_are_no_message_are_refused(
    key: DecryptionKey, list_pair: KeyPair, inner: bytes, said: str
) -> None:
    with pytest.raises(DecryptionFailed, match=said):
        open_message(_message(key, inner), secret_key=list_pair.secret, sender_keys=[])


def test_a_damaged_session_key_is_left_to_pysequoia_which_fails(
    key: DecryptionKey, list_pair: KeyPair
) -> None:
    session = os.urandom(32)
    pkesk = encode_packet(PKESK, _pkesk(key, _unpadded(session)))
    message = pkesk + encode_packet(SEIPD, _seipd(session, _literal(b"x")))
    with pytest.raises(DecryptionFailed, match="could not be decrypted"):
        open_message(message, secret_key=list_pair.secret, sender_keys=[])
    with pytest.raises(DecryptionFailed, match="could not be decrypted"):
        open_message(_message_v2(list_pair), secret_key=list_pair.secret, sender_keys=[])


# -- what is left to pysequoia ---------------------------------------------------------------


@pytest.fixture(scope="module")
def v2_list() -> KeyPair:
    """A list key straight from pysequoia (as Lockstep made them before keygen.py): it
    advertises SEIPD v2, so Sequoia encrypts to it with PKESK v6 + SEIPD v2."""
    tsk = pysequoia.Tsk.generate(
        "Old list <old@lockstep.invalid>",
        profile=pysequoia.Profile.RFC4880,
        cipher_suite=pysequoia.CipherSuite.Cv25519,
    )
    return KeyPair(public=str(tsk.extract_certificate()), secret=str(tsk))


def _to_v2(v2_list: KeyPair, text: bytes, signer: KeyPair | None = None) -> bytes:
    cert = pysequoia.Cert.from_bytes(v2_list.public.encode())
    sign = pysequoia.Tsk.from_bytes(signer.secret.encode()).signer() if signer else None
    message = pysequoia.encrypt(text, [cert], signer=sign)
    assert next(iter(PacketPile.from_bytes(message))).body[0] == 6  # PKESK v6
    return message


def test_seipd_v2_is_read_by_pysequoia(v2_list: KeyPair, sender: KeyPair) -> None:
    stranger = key_pair("Stranger <stranger@example.org>")
    fingerprint = pysequoia.Cert.from_bytes(sender.public.encode()).fingerprint.upper()
    signed = _to_v2(v2_list, b"v2 text", signer=sender)
    opened = open_message(signed, secret_key=v2_list.secret, sender_keys=[sender.public])
    assert (opened.content, opened.signature, opened.signer) == (
        b"v2 text",
        SignatureState.VALID,
        fingerprint,
    )
    bad = open_message(signed, secret_key=v2_list.secret, sender_keys=[stranger.public])
    assert (bad.content, bad.signature) == (b"v2 text", SignatureState.BAD)
    assert bad.signer  # the issuer it names, not proven
    plain = open_message(_to_v2(v2_list, b"plain"), secret_key=v2_list.secret, sender_keys=[])
    assert (plain.content, plain.signature, plain.signer) == (b"plain", SignatureState.NONE, "")


@pytest.mark.parametrize("error", [RuntimeError, OSError])
@pytest.mark.parametrize("issuers", [["0123456789ABCDEF"], []])
def test_a_shape_pysequoia_refuses_to_verify_is_unchecked(
    v2_list: KeyPair,
    sender: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
    error: type[Exception],
    issuers: list[str],
) -> None:
    """SEIPD v2 with a compressed inside (no tool here writes one): pysequoia names the
    issuers, then refuses the layering; only a second, unverified pass reads it."""
    decrypt = pysequoia.decrypt

    def refusing(
        message: bytes, decryptor: object, store: Callable[[list[str]], object] | None = None
    ) -> object:
        if store is None:
            return decrypt(message, decryptor=decryptor)
        store(issuers)
        raise error("Unexpected message structure")

    monkeypatch.setattr(pysequoia, "decrypt", refusing)
    message = _to_v2(v2_list, b"v2 text", signer=sender)
    opened = open_message(message, secret_key=v2_list.secret, sender_keys=[sender.public])
    state = SignatureState.UNCHECKED if issuers else SignatureState.NONE
    assert (opened.content, opened.signature) == (b"v2 text", state)
    assert opened.signer == "".join(issuers)
