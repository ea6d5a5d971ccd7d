"""Decrypting messages to the list key ourselves, in the shape GnuPG sends them.

pysequoia 0.1.35 decrypts and verifies only an encrypted message whose inside is the signed
message itself; GnuPG compresses by default (`gpg --sign --encrypt`), pysequoia inflates
compressed data without a bound, and it cannot hand back the decrypted packets for us to
verify. So for the shape GnuPG 2.2 and 2.4 send to Lockstep's list key (and Sequoia sends to
keys from `keygen.py`), this module decrypts with the `cryptography` library:

    PKESK v3 (ECDH, Curve25519; `ecdh.py`)  ->  SEIPD v1 with AES (`seipd.py`)
    ->  compressed data (ZIP, ZLIB, BZip2; bounded), if any  ->  the signed message's packets

and returns those packets (one-pass signature, literal data, signature) for pysequoia to
verify. It decrypts nothing else: for another shape (an RSA list key, SEIPD v2 or an AEAD
container, a password-encrypted message, another cipher than AES) it returns None.
"""

from __future__ import annotations

from pysequoia.packet import Packet, PacketPile, Tag

from lockstep.mailgw.crypto.base import DecryptionFailed
from lockstep.mailgw.crypto.ecdh import decryption_keys, session_key
from lockstep.mailgw.crypto.packets import COMPRESSED, PacketError, read_packet
from lockstep.mailgw.crypto.seipd import MAX_INFLATED_BYTES, decrypt_seipd, inflate

MAX_LAYERS = 4  # GnuPG compresses once; nesting deeper than this is refused


def _session_key(packets: list[Packet], secret_key: str) -> bytes | None:
    keys = decryption_keys(secret_key)
    for packet in packets:
        if packet.tag == Tag.PKESK:
            found = session_key(packet.body, keys)
            if found is not None:
                return found[1]  # `ecdh` only returns AES keys
    return None


def uncompress(stream: bytes, *, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """`stream` without its compression layers: while it is exactly one compressed packet,
    its inflated content. Each layer is bounded by `limit` (see `seipd.inflate`)."""
    for _ in range(MAX_LAYERS):
        try:
            packet, end = read_packet(stream)
        except PacketError:
            msg = "The decrypted message is not made of OpenPGP packets."
            raise DecryptionFailed(msg) from None
        if packet.tag != COMPRESSED or end != len(stream):
            return stream
        stream = inflate(packet.body, limit=limit)
    msg = f"The message is compressed more than {MAX_LAYERS} times over; it is not read."
    raise DecryptionFailed(msg)


def unwrap(message: bytes, *, secret_key: str, limit: int = MAX_INFLATED_BYTES) -> bytes | None:
    """The packets inside an encrypted `message` to `secret_key`, uncompressed.

    None when the message is not in the one shape decrypted here, or not for this key.
    Raises `DecryptionFailed` when it is, but fails its integrity check or will not
    uncompress (and `seipd.InflatedTooLarge` past `limit`).
    """
    try:
        packets = list(PacketPile.from_bytes(message))
    except RuntimeError:
        return None
    if not packets or packets[-1].tag != Tag.SEIP:
        return None
    key = _session_key(packets[:-1], secret_key)
    if key is None:
        return None
    inner = decrypt_seipd(packets[-1].body, key=key)
    if inner is None:
        return None
    return uncompress(inner, limit=limit)
