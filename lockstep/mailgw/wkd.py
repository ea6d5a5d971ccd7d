"""The list key as reporters find it: its fingerprint, and a copy of it for one address.

Mail to any of Lockstep's addresses (security-<project>@, a case's, a list's) is encrypted to
the one list key. Its only user ID is `LOCKSTEP_MAIL_FROM`, and a mail client that looks a
key up by an address keeps only user IDs with that address: GnuPG imports a key found in a
Web Key Directory (draft-koch-openpgp-webkey-service) only if a user ID matches. So the key
is published per address, as a copy of the list certificate that carries the address as an
extra user ID, certified by the list key itself: the same key and fingerprint, no secrets.

The certification is made like the list key's own (crypto/keygen.py), not by pysequoia's
`Cert.add_user_id`: that one has no preference subpackets, and GnuPG encrypts to an address
with the preferences of the user ID it matched, so it would fall back to 3DES, which
Sequoia's policy refuses to decrypt. A list key that keygen cannot certify with (not an
Ed25519 primary key, e.g. an operator's RSA key) is published without the extra user ID:
clients that keep only matching user IDs (GnuPG) then find nothing, which is better than a
key whose mail Lockstep could not read.

The Web Key Directory names a key by the z-base-32 (RFC 6189 section 5.1.6) encoding of the
SHA-1 of the address's lower-cased local part (draft section 3.1); `wkd_hash` computes it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import pysequoia
from pysequoia.packet import PacketPile

from lockstep.mailgw.crypto.keygen import user_id_certification
from lockstep.mailgw.crypto.packets import SIGNATURE, USER_ID, encode_packet

ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def zbase32(data: bytes) -> str:
    """z-base-32 of `data`, most significant bit first; the last group is padded with 0 bits."""
    width = len(data) * 8
    chars = -(-width // 5)
    value = int.from_bytes(data, "big") << (chars * 5 - width)
    return "".join(ZBASE32[(value >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


def wkd_hash(local_part: str) -> str:
    """The WKD name of a local part: only ASCII letters are lower-cased, as GnuPG does."""
    lowered = local_part.translate(_ASCII_LOWER)
    return zbase32(hashlib.sha1(lowered.encode(), usedforsecurity=False).digest())


def _mailbox(user_id: str) -> str:
    """The address in a user ID, "Name <a@b>" or "a@b", lower-cased."""
    inside = user_id.rpartition("<")[2].partition(">")[0] if "<" in user_id else user_id
    return inside.strip().lower()


@lru_cache(maxsize=1024)
def _certificate_for(secret_key: str, address: str) -> pysequoia.Cert:
    tsk = pysequoia.Tsk.from_bytes(secret_key.encode())
    cert = tsk.extract_certificate()
    if any(_mailbox(str(uid)) == address.lower() for uid in cert.user_ids):
        return cert
    primary = next(iter(PacketPile.from_bytes(bytes(tsk))))
    user_id = address.encode()  # mailbox-only, as Web Key Service providers ask for
    try:
        certification = user_id_certification(primary, user_id)
    except AssertionError:  # not a key keygen makes (see above)
        return cert
    added = encode_packet(USER_ID, user_id) + encode_packet(SIGNATURE, certification)
    return pysequoia.Cert.from_packets([*PacketPile.from_bytes(bytes(cert) + added)])


def certificate_for(secret_key: str, address: str) -> bytes:
    """The binary public certificate of `secret_key`, with a user ID for `address` (WKD)."""
    return bytes(_certificate_for(secret_key, address))


def armored_certificate_for(secret_key: str, address: str) -> str:
    """The same certificate, ASCII-armoured, to download and import by hand."""
    return str(_certificate_for(secret_key, address))


def fingerprint(public_key: str) -> str:
    """The fingerprint (lower-case hex) of an armoured certificate's primary key."""
    return pysequoia.Cert.from_bytes(public_key.encode()).fingerprint
