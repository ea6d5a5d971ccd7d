"""Reading inbound OpenPGP: decrypt with the list key and check the sender's signature.

Like signing.py, this sits next to the `OpenPGP` adapter and talks to pysequoia directly
until the Protocol grows these methods. Key material comes in as armour; results are values.

What each shape of message gets, and who does the work:

- Encrypted as GnuPG 2.2 and 2.4 encrypt to Lockstep's list key, and as Sequoia does to a
  key from `keygen.py`: PKESK v3 with ECDH over Curve25519, then SEIPD v1 with AES,
  compressed inside or not. `unwrap.py` decrypts it itself, checks its integrity (MDC),
  inflates it (refusing past `max_inflated`) and hands the signed message inside to
  `pysequoia.verify`. Signed: `VALID` by one of `sender_keys`, else `BAD` (another key, a
  damaged signature, or packets around it that are not one signed message). Not signed:
  `NONE`. This runs before pysequoia sees the message, for two reasons: pysequoia's
  verifier refuses a compressed layer ("Unexpected message structure"; GnuPG compresses
  `gpg -se` by default) and cannot read BZip2 at all, and it inflates compressed data
  without a bound before refusing it (1 GB of zeros, sent as 1.2 MB, took 1.1 GB of memory).
- Any other encrypted shape: SEIPD v2 (what Sequoia sends to list keys made before
  `keygen.py`, which advertise it), AEAD containers, ciphers other than AES, a list key
  that is not Cv25519. pysequoia decrypts and, if the signed message is directly inside,
  verifies in one pass. If it refuses the layering, it decrypts again without
  verification, and whether a signature was inside is known only from the issuers Sequoia
  asked certificates for: `UNCHECKED` if it named any (present, not verified), else
  `NONE`. Such content is inflated by pysequoia without a bound. GnuPG does not send these
  shapes to Lockstep's list key, but any sender may choose them, so `UNCHECKED` proves
  nothing about who wrote the message.
- A signed or clear-signed message that is not encrypted: verified by pysequoia (which
  also inflates a compressed one without a bound).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import pysequoia
from pysequoia.packet import PacketPile, Tag

from lockstep.mailgw.crypto.base import DecryptionFailed
from lockstep.mailgw.crypto.packets import (
    COMPRESSED,
    LITERAL,
    ONE_PASS_SIGNATURE,
    SIGNATURE,
    PacketError,
    literal_data,
    split_packets,
)
from lockstep.mailgw.crypto.seipd import MAX_INFLATED_BYTES
from lockstep.mailgw.crypto.unwrap import unwrap

_UNEXPECTED = "Unexpected message structure"
_NO_VALID = "no valid signatures"
_ENCRYPTED_TAGS = (Tag.PKESK, Tag.SKESK)


class SignatureState(StrEnum):
    VALID = "valid"  # signed by one of the sender's keys on file
    BAD = "bad"  # signed, but not validly by any key on file
    UNCHECKED = "unchecked"  # signed, but the layering stops pysequoia from checking it
    NONE = "none"  # not signed


@dataclass(frozen=True)
class Opened:
    content: bytes
    encrypted: bool
    signature: SignatureState
    signer: str = ""  # VALID: the certificate's fingerprint; BAD/UNCHECKED: the issuer named


def _certs(keys: Sequence[str]) -> list[pysequoia.Cert]:
    certs = []
    for key in keys:
        try:
            certs.append(pysequoia.Cert.from_bytes(key.encode()))
        except RuntimeError:
            continue  # a damaged key on file cannot vouch for anything
    return certs


def is_encrypted(message: bytes) -> bool:
    try:
        packets = list(PacketPile.from_bytes(message))
        return bool(packets) and packets[0].tag in _ENCRYPTED_TAGS
    except RuntimeError:  # damaged, or a packet tag pysequoia has no name for
        return False


def open_message(
    message: bytes,
    *,
    secret_key: str,
    sender_keys: Sequence[str],
    max_inflated: int = MAX_INFLATED_BYTES,
) -> Opened:
    """Decrypt (if encrypted) and verify one armoured OpenPGP message.

    Raises `DecryptionFailed` when an encrypted message is not for `secret_key`, is damaged,
    or inflates past `max_inflated` octets (`seipd.InflatedTooLarge`), and ValueError when
    `message` is no OpenPGP message at all.
    """
    if is_encrypted(message):
        return _decrypt(
            message, secret_key=secret_key, sender_keys=sender_keys, max_inflated=max_inflated
        )
    return _verify(message, sender_keys=sender_keys)


def _decrypt(
    message: bytes, *, secret_key: str, sender_keys: Sequence[str], max_inflated: int
) -> Opened:
    try:
        decryptor = pysequoia.Tsk.from_bytes(secret_key.encode()).decryptor()
    except RuntimeError:
        msg = "secret_key holds no usable (unprotected) secret encryption key"
        raise ValueError(msg) from None
    certs = _certs(sender_keys)
    # First, and before pysequoia sees it: Sequoia inflates compressed data without a bound.
    inner = unwrap(message, secret_key=secret_key, limit=max_inflated)
    if inner is not None:
        return _read_inner(inner, certs)
    issuers: list[str] = []  # Sequoia asks for the signers' certificates: [] if unsigned

    def store(key_ids: Sequence[str]) -> list[pysequoia.Cert]:
        issuers.extend(key_ids)
        return certs

    try:
        result = pysequoia.decrypt(message, decryptor=decryptor, store=store)
    except (RuntimeError, OSError) as exc:  # OSError: what Sequoia streams, it fails as I/O
        return _unchecked(message, str(exc), issuers, decryptor)
    signer = result.valid_sigs[0].certificate.upper() if result.valid_sigs else ""
    state = SignatureState.VALID if signer else SignatureState.NONE
    return Opened(result.bytes or b"", encrypted=True, signature=state, signer=signer)


def _read_inner(inner: bytes, certs: list[pysequoia.Cert]) -> Opened:
    """The packets `unwrap` decrypted, uncompressed: a signed message for Sequoia to verify,
    or one literal data packet."""
    try:
        packets = split_packets(inner)
        literals = [literal_data(p.body) for p in packets if p.tag == LITERAL]
    except PacketError:
        msg = "The decrypted message is not made of OpenPGP packets."
        raise DecryptionFailed(msg) from None
    tags = {p.tag for p in packets}
    if COMPRESSED in tags:  # compressed within the signed message: Sequoia would inflate it
        msg = "The decrypted message is compressed in a way Lockstep does not read."
        raise DecryptionFailed(msg)
    content = literals[0] if literals else b""
    if not tags & {ONE_PASS_SIGNATURE, SIGNATURE}:
        if len(packets) != 1 or not literals:
            msg = "The decrypted message holds no single literal message."
            raise DecryptionFailed(msg)
        return Opened(content, encrypted=True, signature=SignatureState.NONE)
    issuers: list[str] = []

    def store(key_ids: Sequence[str]) -> list[pysequoia.Cert]:
        issuers.extend(key_ids)
        return certs

    try:
        result = pysequoia.verify(inner, store=store)
    except (RuntimeError, OSError):  # no valid signature, or not one signed message
        claimed = issuers[0].upper() if issuers else ""  # named, not proven
        return Opened(content, encrypted=True, signature=SignatureState.BAD, signer=claimed)
    signer = result.valid_sigs[0].certificate.upper() if result.valid_sigs else ""
    state = SignatureState.VALID if signer else SignatureState.BAD
    return Opened(result.bytes or b"", encrypted=True, signature=state, signer=signer)


def _unchecked(
    message: bytes, error: str, issuers: list[str], decryptor: pysequoia.PyDecryptor
) -> Opened:
    """A shape `unwrap` does not decrypt: what pysequoia's refusal `error` leaves us."""
    if _NO_VALID in error:
        state = SignatureState.BAD if issuers else SignatureState.NONE
    elif _UNEXPECTED in error:
        state = SignatureState.UNCHECKED if issuers else SignatureState.NONE
    else:
        msg = "The message could not be decrypted with the list key (wrong key, or damaged)."
        raise DecryptionFailed(msg)
    content = _decrypt_only(message, decryptor)
    claimed = issuers[0].upper() if issuers else ""  # named, not proven
    return Opened(content, encrypted=True, signature=state, signer=claimed)


def _decrypt_only(message: bytes, decryptor: pysequoia.PyDecryptor) -> bytes:
    try:
        return pysequoia.decrypt(message, decryptor=decryptor).bytes or b""
    except (RuntimeError, OSError):
        msg = "The message could not be decrypted with the list key (wrong key, or damaged)."
        raise DecryptionFailed(msg) from None


def _verify(message: bytes, *, sender_keys: Sequence[str]) -> Opened:
    certs = _certs(sender_keys)
    try:
        result = pysequoia.verify(message, store=lambda _ids: certs)
    except RuntimeError as exc:
        if _NO_VALID in str(exc):
            return Opened(b"", encrypted=False, signature=SignatureState.BAD)
        msg = "Not a readable OpenPGP message."
        raise ValueError(msg) from None
    signer = result.valid_sigs[0].certificate.upper() if result.valid_sigs else ""
    state = SignatureState.VALID if signer else SignatureState.BAD
    return Opened(result.bytes or b"", encrypted=False, signature=state, signer=signer)
