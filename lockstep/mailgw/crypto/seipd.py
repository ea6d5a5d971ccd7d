"""Decrypting version 1 SEIPD packets and inflating compressed data, both with checks.

SEIPD v1 (RFC 9580 section 5.13.1), the container GnuPG 2.2 and 2.4 write: the packet body
is a version octet (1) and then AES in CFB mode with an all-zero IV over

    random prefix (one block) || its last two octets again || packets || D3 14 || SHA-1

where the last 22 octets are a Modification Detection Code packet whose SHA-1 covers
everything before the hash. We check the MDC in constant time and refuse the whole message
on a mismatch; the "quick check" octets are not looked at (they are a known oracle).
SHA-1 is what the format prescribes here, and a forged MDC would still need a signature.

Compressed data (section 5.6): ZIP (raw deflate), ZLIB or BZip2. A few hundred octets can
inflate to gigabytes, so inflation stops one octet past `limit` and the message is refused.
"""

from __future__ import annotations

import bz2
import hmac
import zlib

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from lockstep.mailgw.crypto.base import DecryptionFailed

MAX_INFLATED_BYTES = 64 * 1024 * 1024  # a few times LOCKSTEP_MAIL_MAX_MESSAGE_BYTES
_BLOCK = 16  # AES
_MDC_HEADER = b"\xd3\x14"  # new-format tag 19, length 20
_MDC_SIZE = len(_MDC_HEADER) + 20
_UNCOMPRESSED, _ZIP, _ZLIB, _BZIP2 = 0, 1, 2, 3


class InflatedTooLarge(DecryptionFailed):
    """The compressed content would inflate past the limit (a decompression bomb)."""


def decrypt_seipd(body: bytes, *, key: bytes) -> bytes | None:
    """The packets inside a SEIPD v1 body, decrypted with the AES `key`; None for another
    version. Raises `DecryptionFailed` if the integrity check fails."""
    if body[:1] != b"\x01":
        return None
    decryptor = Cipher(algorithms.AES(key), CFB(bytes(_BLOCK))).decryptor()
    plain = decryptor.update(body[1:]) + decryptor.finalize()
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 - SEIPD v1's MDC is SHA-1 by definition
    digest.update(plain[:-20])
    expected = _MDC_HEADER + digest.finalize()
    if len(plain) < _BLOCK + 2 + _MDC_SIZE or not hmac.compare_digest(plain[-_MDC_SIZE:], expected):
        msg = "The encrypted message was damaged or altered (its integrity check failed)."
        raise DecryptionFailed(msg)
    return plain[_BLOCK + 2 : -_MDC_SIZE]


def _too_large(limit: int) -> InflatedTooLarge:
    mib = limit / (1024 * 1024)
    return InflatedTooLarge(
        f"The message inflates to more than {mib:g} MiB when decompressed; it is not read."
    )


def inflate(body: bytes, *, limit: int) -> bytes:
    """The content of a compressed data packet's body, at most `limit` octets.

    Raises `InflatedTooLarge` past the limit and `DecryptionFailed` for an unknown algorithm
    or damaged compressed data.
    """
    algorithm, data = (body[0], body[1:]) if body else (-1, b"")
    try:
        if algorithm == _UNCOMPRESSED:
            out = data
        elif algorithm in (_ZIP, _ZLIB):
            wbits = -zlib.MAX_WBITS if algorithm == _ZIP else zlib.MAX_WBITS
            out = zlib.decompressobj(wbits).decompress(data, limit + 1)
        elif algorithm == _BZIP2:
            out = bz2.BZ2Decompressor().decompress(data, limit + 1)
        else:
            msg = f"The message uses an unknown compression algorithm ({algorithm})."
            raise DecryptionFailed(msg)
    except (zlib.error, OSError, EOFError):
        msg = "The compressed data inside the message is damaged."
        raise DecryptionFailed(msg) from None
    if len(out) > limit:
        raise _too_large(limit)
    return out
