"""Reading inbound OpenPGP: decrypt with the list key and check the sender's signature.

Like signing.py, this sits next to the `OpenPGP` adapter and talks to pysequoia directly
until the Protocol grows these methods. Key material comes in as armour; results are values.

What pysequoia 0.1.35 can and cannot tell us, and what we make of it:

- An encrypted message signed inside the encryption and not compressed (Sequoia's own
  output, `gpg --compress-algo none -se`): decrypted and verified in one pass.
- An encrypted message whose inside is compressed (GnuPG's default for `gpg -se`), or not
  signed at all: pysequoia's verifier refuses any other layering ("Unexpected message
  structure", or "no valid signatures" for an unsigned one). We then decrypt again without
  verification. Whether a signature was inside is known from the issuers Sequoia asked
  certificates for: if it named any, the signature is `UNCHECKED` (present, not verified),
  otherwise `NONE`.
- A signed or clear-signed message that is not encrypted: verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import pysequoia
from pysequoia.packet import PacketPile, Tag

from lockstep.mailgw.crypto.base import DecryptionFailed

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


def open_message(message: bytes, *, secret_key: str, sender_keys: Sequence[str]) -> Opened:
    """Decrypt (if encrypted) and verify one armoured OpenPGP message.

    Raises `DecryptionFailed` when an encrypted message is not for `secret_key` or is damaged,
    and ValueError when `message` is no OpenPGP message at all.
    """
    if is_encrypted(message):
        return _decrypt(message, secret_key=secret_key, sender_keys=sender_keys)
    return _verify(message, sender_keys=sender_keys)


def _decrypt(message: bytes, *, secret_key: str, sender_keys: Sequence[str]) -> Opened:
    try:
        decryptor = pysequoia.Tsk.from_bytes(secret_key.encode()).decryptor()
    except RuntimeError:
        msg = "secret_key holds no usable (unprotected) secret encryption key"
        raise ValueError(msg) from None
    issuers: list[str] = []  # Sequoia asks for the signers' certificates: [] if unsigned
    certs = _certs(sender_keys)

    def store(key_ids: Sequence[str]) -> list[pysequoia.Cert]:
        issuers.extend(key_ids)
        return certs

    try:
        result = pysequoia.decrypt(message, decryptor=decryptor, store=store)
    except RuntimeError as exc:
        if _NO_VALID in str(exc):
            state = SignatureState.BAD if issuers else SignatureState.NONE
        elif _UNEXPECTED in str(exc):
            state = SignatureState.UNCHECKED if issuers else SignatureState.NONE
        else:
            msg = "The message could not be decrypted with the list key (wrong key, or damaged)."
            raise DecryptionFailed(msg) from None
        content = _decrypt_only(message, decryptor)
        claimed = issuers[0].upper() if issuers else ""  # named, not proven
        return Opened(content, encrypted=True, signature=state, signer=claimed)
    signer = result.valid_sigs[0].certificate.upper() if result.valid_sigs else ""
    state = SignatureState.VALID if signer else SignatureState.NONE
    return Opened(result.bytes or b"", encrypted=True, signature=state, signer=signer)


def _decrypt_only(message: bytes, decryptor: pysequoia.PyDecryptor) -> bytes:
    try:
        return pysequoia.decrypt(message, decryptor=decryptor).bytes or b""
    except RuntimeError:
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
