"""The session key of a message to the list key: PKESK v3 with ECDH over Curve25519.

This is the one shape GnuPG 2.2 and 2.4 use for Lockstep's list key (a v4 Cv25519 subkey,
made by `keygen.py`, stored unprotected): RFC 6637 as amended by RFC 9580 section 5.1.6.

- The recipient's secret is an X25519 scalar, stored as an MPI in big-endian order, the
  reverse of X25519's native little-endian form.
- The sender's ephemeral public key is an MPI: 0x40 then the 32-byte native point.
- The key-encryption key is the first bytes of hash(00 00 00 01 || shared secret || param),
  where param = curve OID length || OID || 18 || the KDF field (03 01 hash cipher) ||
  "Anonymous Sender    " || the recipient subkey's 20-byte v4 fingerprint.
- The session key is AES-key-wrapped (RFC 3394): cipher octet || key || 2-octet checksum,
  PKCS #5 padded to a multiple of 8.

Any other shape (an RSA or NIST-curve key, X25519 of RFC 9580, a v6 PKESK, a protected key)
gives None: the caller then leaves the message to pysequoia alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from pysequoia.packet import Packet, PacketPile, PublicKeyAlgorithm, Tag

from lockstep.mailgw.crypto.packets import PacketError, read_mpi

ECDH = 18  # public-key algorithm (RFC 9580 section 9.1)
CURVE25519 = bytes.fromhex("2b060104019755010501")  # 1.3.6.1.4.1.3029.1.5.1
AES_KEY_SIZES = {7: 16, 8: 24, 9: 32}  # symmetric algorithm -> key octets (AES-128/192/256)
KDF_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    8: hashes.SHA256,
    9: hashes.SHA384,
    10: hashes.SHA512,
}
_ANONYMOUS_SENDER = b"Anonymous Sender    "
_NATIVE_POINT = 0x40  # prefix of a native (compressed-form) Curve25519 point
_POINT_SIZE = 33
_SCALAR_SIZE = 32
_KDF_FIELD_SIZE = 4  # 03 01 hash cipher
_KEY_ID_SIZE = 8
_WILDCARD = bytes(_KEY_ID_SIZE)  # an anonymous recipient (gpg --throw-keyids)
_PKCS5_MAX = 8


@dataclass(frozen=True)
class DecryptionKey:
    """One Cv25519 ECDH secret subkey: what the KDF and X25519 need."""

    key_id: bytes
    fingerprint: bytes
    kdf_field: bytes  # 03 01 hash cipher, as stored in the key
    scalar: bytes  # native (little-endian) X25519 secret

    @property
    def kdf_hash(self) -> type[hashes.HashAlgorithm]:
        return KDF_HASHES[self.kdf_field[2]]

    @property
    def kek_size(self) -> int:
        return AES_KEY_SIZES[self.kdf_field[3]]


def _known_kdf(field: bytes) -> bool:
    """03 (length) 01 (reserved) then a hash and a cipher we have."""
    return (
        len(field) == _KDF_FIELD_SIZE
        and field[:2] == b"\x03\x01"
        and field[2] in KDF_HASHES
        and field[3] in AES_KEY_SIZES
    )


def _ecdh_key(packet: Packet) -> DecryptionKey | None:
    """The Cv25519 subkey in a v4 secret subkey packet, if unprotected; else None."""
    body = packet.body
    try:
        if body[0] != 4 or body[5] != ECDH or body[7 : 7 + body[6]] != CURVE25519:  # noqa: PLR2004
            return None
        _point, pos = read_mpi(body, 7 + len(CURVE25519))
        kdf_field = body[pos : pos + _KDF_FIELD_SIZE]
        pos += _KDF_FIELD_SIZE
        usage = body[pos]
        secret, end = read_mpi(body, pos + 1)
    except (IndexError, PacketError):
        return None
    if usage != 0 or not _known_kdf(kdf_field) or len(secret) > _SCALAR_SIZE:
        return None
    if int.from_bytes(body[end : end + 2], "big") != sum(body[pos + 1 : end]) & 0xFFFF:
        return None  # the secret's checksum does not match: damaged
    fingerprint = bytes.fromhex(packet.fingerprint or "")
    scalar = secret.rjust(_SCALAR_SIZE, b"\0")[::-1]
    return DecryptionKey(fingerprint[-_KEY_ID_SIZE:], fingerprint, kdf_field, scalar)


@lru_cache(maxsize=8)
def decryption_keys(secret_key: str) -> tuple[DecryptionKey, ...]:
    """The unprotected Cv25519 ECDH subkeys of an armoured secret key (parsed once per key:
    every inbound message is for the same list key)."""
    try:
        packets = list(PacketPile.from_bytes(secret_key.encode()))
    except RuntimeError:
        return ()
    found = (
        _ecdh_key(packet)
        for packet in packets
        if packet.tag == Tag.SecretSubkey and packet.key_algorithm == PublicKeyAlgorithm.ECDH
    )
    return tuple(key for key in found if key is not None)


def _kek(key: DecryptionKey, shared: bytes) -> bytes:
    param = (
        bytes([len(CURVE25519)])
        + CURVE25519
        + bytes([ECDH])
        + key.kdf_field
        + _ANONYMOUS_SENDER
        + key.fingerprint
    )
    digest = hashes.Hash(key.kdf_hash())
    digest.update(b"\0\0\0\1" + shared + param)
    return digest.finalize()[: key.kek_size]


def _unpad(padded: bytes) -> tuple[int, bytes] | None:
    """(cipher, session key) from cipher || key || checksum || PKCS #5 padding. An unwrapped
    key is at least 16 octets (RFC 3394), so 8 or more are left after the padding."""
    count = padded[-1]
    if not 1 <= count <= _PKCS5_MAX or padded[-count:] != bytes([count]) * count:
        return None
    unpadded = padded[:-count]
    cipher, key, checksum = unpadded[0], unpadded[1:-2], unpadded[-2:]
    if AES_KEY_SIZES.get(cipher) != len(key):
        return None
    if int.from_bytes(checksum, "big") != sum(key) & 0xFFFF:
        return None
    return cipher, key


def _unwrap(key: DecryptionKey, point: bytes, wrapped: bytes) -> tuple[int, bytes] | None:
    if len(point) != _POINT_SIZE or point[0] != _NATIVE_POINT:
        return None
    ours = X25519PrivateKey.from_private_bytes(key.scalar)
    try:
        shared = ours.exchange(X25519PublicKey.from_public_bytes(point[1:]))
        padded = aes_key_unwrap(_kek(key, shared), wrapped)
    except (ValueError, InvalidUnwrap):  # a low-order point; another key's or damaged wrap
        return None
    return _unpad(padded)


def session_key(pkesk: bytes, keys: Sequence[DecryptionKey]) -> tuple[int, bytes] | None:
    """(symmetric algorithm, session key) from a v3 PKESK body for one of `keys`, or None
    when the packet is for another key, of another shape, or does not decrypt."""
    if len(pkesk) < 10 or pkesk[0] != 3 or pkesk[9] != ECDH:  # noqa: PLR2004
        return None
    recipient = pkesk[1:9]
    try:
        point, pos = read_mpi(pkesk, 10)
        wrapped = pkesk[pos + 1 : pos + 1 + pkesk[pos]]
    except (IndexError, PacketError):
        return None
    for key in keys:
        if recipient in (key.key_id, _WILDCARD):
            found = _unwrap(key, point, wrapped)
            if found is not None:
                return found
    return None
