"""Lockstep's own OpenPGP keys (the list key, demo members' keys), readable by GnuPG 2.2.

Sequoia makes the key material: an Ed25519 primary key for certification, an Ed25519
signing subkey and a Cv25519 encryption subkey, v4, unprotected, not expiring. But every
key pysequoia 0.1.35 makes advertises SEIPD v2 (features 0x09) in its direct-key signature
and user ID certification, and a key with no features subpacket gets SEIPD v2 as well. So
Sequoia encrypts to such a key with PKESK v6 + SEIPD v2, which GnuPG 2.2 and 2.4 cannot
read ("packet(1) with unknown version 6"). pysequoia cannot choose a signature's
subpackets, so the primary key's self-signature is built here:

- Sequoia generates the key without a user ID; its direct-key signature (the one with
  features 0x09) is dropped, and its subkey binding signatures are kept (they cover the
  primary key and the subkey only, so they stay valid).
- We add the user ID and a v4 positive certification (0x13) of it, signed with the primary
  Ed25519 key through `cryptography` (legacy EdDSA, algorithm 22: Ed25519 over the SHA-512
  digest; the signature's R and S are two MPIs). Its hashed subpackets: creation time (the
  key's), key flags 0x01 (certify: the signing subkey signs), primary user ID, features
  0x01 (SEIPD v1 only), preferred ciphers AES-256 and AES-128, hashes SHA-512 and SHA-256,
  compression none, ZLIB and ZIP, and the issuer fingerprint; unhashed, the issuer key ID.

Because "none" comes first, GnuPG sends what it encrypts to these keys uncompressed unless
told otherwise. Compressed mail still arrives (from list keys made before this module, and
from any sender who chooses it), and `unwrap.py` reads it.
"""

from __future__ import annotations

import hashlib

import pysequoia
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pysequoia.packet import Packet, PacketPile, SignatureType, Tag

from lockstep.mailgw.crypto.packets import (
    SIGNATURE,
    USER_ID,
    encode_mpi,
    encode_packet,
    read_mpi,
)

ED25519 = bytes.fromhex("2b06010401da470f01")  # 1.3.6.1.4.1.11591.15.1
_EDDSA = 22  # legacy EdDSA (RFC 9580 section 9.1)
_SHA512 = 10
_POSITIVE_CERTIFICATION = 0x13
_CRITICAL = 0x80
_SEED_SIZE = 32
# Hashed subpacket types and contents (RFC 9580 section 5.2.3).
_CREATED, _CIPHERS, _HASHES, _COMPRESSION = 2, 11, 21, 22
_PRIMARY_USER_ID, _KEY_FLAGS, _FEATURES, _ISSUER_FINGERPRINT, _ISSUER = 25, 27, 30, 33, 16
_CERTIFY = b"\x01"
_SEIPD_V1_ONLY = b"\x01"
_AES256_AES128 = b"\x09\x07"
_SHA512_SHA256 = b"\x0a\x08"
_NONE_ZLIB_ZIP = b"\x00\x02\x01"


def _subpacket(kind: int, data: bytes) -> bytes:
    """One subpacket with a one-octet length (all of ours are short)."""
    return bytes([len(data) + 1, kind]) + data


def _primary_secret(primary: Packet) -> tuple[bytes, Ed25519PrivateKey]:
    """(public key body, Ed25519 key) from Sequoia's unprotected v4 EdDSA primary key."""
    body = primary.body
    oid_end = 7 + body[6]
    if body[0] != 4 or body[5] != _EDDSA or body[7:oid_end] != ED25519:  # noqa: PLR2004
        raise AssertionError("Sequoia did not make a v4 Ed25519 primary key")
    point, public_end = read_mpi(body, oid_end)
    seed, _ = read_mpi(body, public_end + 1)  # after the S2K usage octet (0: unprotected)
    key = Ed25519PrivateKey.from_private_bytes(seed.rjust(_SEED_SIZE, b"\0"))
    derived = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if body[public_end] != 0 or derived != point[1:]:
        raise AssertionError("the primary key's secret does not match its public key")
    return body[:public_end], key


def _hashed_subpackets(created: bytes, fingerprint: bytes) -> bytes:
    return b"".join(
        (
            _subpacket(_CREATED | _CRITICAL, created),
            _subpacket(_KEY_FLAGS | _CRITICAL, _CERTIFY),
            _subpacket(_PRIMARY_USER_ID, b"\x01"),
            _subpacket(_FEATURES, _SEIPD_V1_ONLY),
            _subpacket(_CIPHERS, _AES256_AES128),
            _subpacket(_HASHES, _SHA512_SHA256),
            _subpacket(_COMPRESSION, _NONE_ZLIB_ZIP),
            _subpacket(_ISSUER_FINGERPRINT, b"\x04" + fingerprint),
        )
    )


def user_id_certification(primary: Packet, user_id: bytes) -> bytes:
    """The body of a v4 positive certification of `user_id` by the secret `primary` key."""
    public, key = _primary_secret(primary)
    fingerprint = bytes.fromhex(primary.fingerprint or "")
    subpackets = _hashed_subpackets(public[1:5], fingerprint)
    hashed = (
        bytes([4, _POSITIVE_CERTIFICATION, _EDDSA, _SHA512])
        + len(subpackets).to_bytes(2, "big")
        + subpackets
    )
    digest = hashlib.sha512(
        b"\x99"
        + len(public).to_bytes(2, "big")
        + public
        + b"\xb4"
        + len(user_id).to_bytes(4, "big")
        + user_id
        + hashed
        + b"\x04\xff"
        + len(hashed).to_bytes(4, "big")
    ).digest()
    signature = key.sign(digest)  # legacy EdDSA signs the digest itself
    unhashed = _subpacket(_ISSUER, fingerprint[-8:])
    return (
        hashed
        + len(unhashed).to_bytes(2, "big")
        + unhashed
        + digest[:2]
        + encode_mpi(signature[:_SEED_SIZE])
        + encode_mpi(signature[_SEED_SIZE:])
    )


def generate_key(user_id: str) -> tuple[str, str]:
    """(public armour, secret armour) of a new key for `user_id` (see the module docstring)."""
    tsk = pysequoia.Tsk.generate(
        None, profile=pysequoia.Profile.RFC4880, cipher_suite=pysequoia.CipherSuite.Cv25519
    )
    made = list(PacketPile.from_bytes(bytes(tsk)))
    primary, rest = made[0], made[1:]
    uid = user_id.encode()
    added = PacketPile.from_bytes(
        encode_packet(USER_ID, uid) + encode_packet(SIGNATURE, user_id_certification(primary, uid))
    )
    kept = [
        p
        for p in rest
        if not (p.tag == Tag.Signature and p.signature_type == SignatureType.DirectKey)
    ]
    key = pysequoia.Tsk.from_packets([primary, *added, *kept])
    return str(key.extract_certificate()), str(key)
