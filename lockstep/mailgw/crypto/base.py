"""The OpenPGP adapter contract: what callers may ask, what they get back, and how keys are refused.

`get_openpgp()` returns the implementation named by the `LOCKSTEP_OPENPGP_BACKEND` setting:
`lockstep.mailgw.crypto.openpgp.SequoiaOpenPGP` (real, the default) or
`lockstep.mailgw.crypto.fake.FakeOpenPGP` (deterministic, for tests that do not need real crypto).
Adapters never touch the ORM: key material comes in as text and goes out as values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, cast

from django.conf import settings
from django.utils.module_loading import import_string

from lockstep.core.errors import ValidationError

DEFAULT_BACKEND = "lockstep.mailgw.crypto.openpgp.SequoiaOpenPGP"

# Real keys are a few KiB; a key with many third-party signatures can be larger, and
# `gpg --export-options export-minimal` trims it. The cap bounds parsing work on pasted input.
MAX_KEY_BYTES = 64 * 1024


@dataclass(frozen=True)
class KeyInfo:
    """What Lockstep keeps about an accepted public key."""

    fingerprint: str  # upper-case hex, no spaces (40 digits for v4 keys, 64 for v6)
    user_ids: tuple[str, ...]
    created_at: datetime | None  # aware UTC
    expires_at: datetime | None  # aware UTC; None means the key does not expire
    can_encrypt: bool  # has an encryption-capable key that is valid at the `now` it was checked
    can_sign: bool  # has a signing-capable key that is valid at that `now`
    algorithm: str  # primary key algorithm, e.g. "EdDSA (Ed25519)", "RSA 3072"; "" if unknown
    armored: str  # the public certificate, re-armoured by the adapter; never secret material


class RejectReason(StrEnum):
    """Why a key was refused: stable, for callers and tests; the message is for people."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_ARMOR = "not_armor"
    NOT_PUBLIC_KEY = "not_public_key"
    UNREADABLE = "unreadable"
    SECRET_KEY = "secret_key"  # noqa: S105 - a reason code, not a credential
    MULTIPLE_KEYS = "multiple_keys"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NO_VALID_SELF_SIGNATURE = "no_valid_self_signature"
    NO_ENCRYPTION_KEY = "no_encryption_key"
    ENCRYPTION_KEY_EXPIRED = "encryption_key_expired"
    ENCRYPTION_KEY_REVOKED = "encryption_key_revoked"


_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
_COPY_AGAIN = f"Copy the whole block again, from {_BEGIN} to -----END PGP PUBLIC KEY BLOCK-----."
_MESSAGES: dict[RejectReason, str] = {
    RejectReason.EMPTY: f"No key was given. Paste your OpenPGP public key; it begins with {_BEGIN}",
    RejectReason.TOO_LARGE: (
        "The key is too large ({size} bytes; the limit is {limit} bytes). Export it without "
        "third-party signatures: gpg --armor --export-options export-minimal --export YOUR-EMAIL"
    ),
    RejectReason.NOT_ARMOR: (
        "This is not an ASCII-armoured OpenPGP public key. Paste the output of "
        f"gpg --armor --export YOUR-EMAIL; it begins with {_BEGIN}"
    ),
    RejectReason.NOT_PUBLIC_KEY: (
        "This is {kind}, not a public key. Paste the output of gpg --armor --export YOUR-EMAIL."
    ),
    RejectReason.UNREADABLE: f"The key block could not be read: it is damaged or incomplete. "
    f"{_COPY_AGAIN}",
    RejectReason.SECRET_KEY: (
        "This is a PRIVATE key: upload only the public key (gpg --armor --export YOUR-EMAIL). "
        "Nothing was stored. Consider this private key compromised if it was shared, "
        "and replace it."
    ),
    RejectReason.MULTIPLE_KEYS: "The block holds {count} keys; upload one key at a time.",
    RejectReason.REVOKED: "The key {fingerprint} has been revoked by its owner. "
    "Upload a current key.",
    RejectReason.EXPIRED: (
        "The key {fingerprint} expired on {when}. Extend it (gpg --quick-set-expire "
        "{fingerprint} 1y, then the same with '*' for its subkeys) and upload it again."
    ),
    RejectReason.NO_VALID_SELF_SIGNATURE: (
        "The key {fingerprint} has no self-signature that is valid now: it may be damaged, "
        "dated in the future, or signed only with an algorithm that is no longer accepted "
        "(such as SHA-1). Refresh it with a current OpenPGP tool and upload it again."
    ),
    RejectReason.NO_ENCRYPTION_KEY: (
        "The key {fingerprint} has no usable encryption subkey (it may be a signing-only key), "
        "so mail to you could not be encrypted. Add one (gpg --quick-add-key {fingerprint} "
        "cv25519 encr) and upload the key again."
    ),
    RejectReason.ENCRYPTION_KEY_EXPIRED: (
        "The encryption subkey of {fingerprint} expired on {when}. Extend it "
        "(gpg --quick-set-expire {fingerprint} 1y '*') and upload the key again."
    ),
    RejectReason.ENCRYPTION_KEY_REVOKED: (
        "The encryption subkey of {fingerprint} has been revoked. Add a new one "
        "(gpg --quick-add-key {fingerprint} cv25519 encr) and upload the key again."
    ),
}

# What to call an armour block that is not a key; any other kind is "other OpenPGP data".
_ARMOR_KINDS = {
    "MESSAGE": "an OpenPGP message",
    "SIGNED MESSAGE": "a signed OpenPGP message",
    "SIGNATURE": "an OpenPGP signature",
}


class KeyRejected(ValidationError):
    """A pasted public key cannot be used. The message never repeats the input."""

    code = "bad_key"

    def __init__(
        self, message: str, *, reason: RejectReason, field: str | None = "armored"
    ) -> None:
        super().__init__(message, field=field)
        self.reason = reason


class DecryptionFailed(ValidationError):
    """A message could not be decrypted with the given key, or was not encrypted at all."""

    code = "undecryptable"


def reject(  # noqa: PLR0913 - one keyword per message placeholder
    reason: RejectReason,
    *,
    fingerprint: str = "",
    when: datetime | None = None,
    count: int = 0,
    size: int = 0,
    kind: str = "",
) -> KeyRejected:
    """Build the rejection for `reason`; every adapter words the same reason the same way."""
    message = _MESSAGES[reason].format(
        fingerprint=fingerprint,
        when=f"{when:%Y-%m-%d %H:%M} UTC" if when is not None else "",
        count=count,
        size=size,
        limit=MAX_KEY_BYTES,
        kind=_ARMOR_KINDS.get(kind, "other OpenPGP data"),
    )
    return KeyRejected(message, reason=reason)


def extract_public_block(armored: str, *, label: str = "PGP") -> str:
    """Return the one `-----BEGIN <label> PUBLIC KEY…-----` block in `armored`, or raise.

    The checks every adapter shares, before any parsing: empty, too large, a private key,
    not armour at all, armour of another kind, more than one key block, no END line.
    Text around the block (a greeting, a signature line) is allowed, as gpg allows it.
    """
    size = len(armored.encode())
    if size > MAX_KEY_BYTES:
        raise reject(RejectReason.TOO_LARGE, size=size)
    text = armored.replace("\r\n", "\n").strip()
    if not text:
        raise reject(RejectReason.EMPTY)
    escaped = re.escape(label)
    kinds = re.findall(rf"^-----BEGIN {escaped} ([A-Z0-9 ]+)-----[ \t]*$", text, re.MULTILINE)
    if any("PRIVATE" in kind or "SECRET" in kind for kind in kinds):
        raise reject(RejectReason.SECRET_KEY)
    if not kinds:
        raise reject(RejectReason.NOT_ARMOR)
    others = [kind for kind in kinds if not kind.startswith("PUBLIC KEY")]
    if others:
        raise reject(RejectReason.NOT_PUBLIC_KEY, kind=others[0])
    if len(kinds) > 1:
        raise reject(RejectReason.MULTIPLE_KEYS, count=len(kinds))
    kind = re.escape(kinds[0])
    block = re.search(
        rf"^-----BEGIN {escaped} {kind}-----.*?^-----END {escaped} {kind}-----[ \t]*$",
        text,
        re.MULTILINE | re.DOTALL,
    )
    if block is None:
        raise reject(RejectReason.UNREADABLE)
    return block.group(0) + "\n"


class OpenPGP(Protocol):
    """Inspect, generate, encrypt to and decrypt with OpenPGP keys (RFC 4880 / RFC 9580)."""

    def inspect_public_key(self, armored: str, *, now: datetime) -> KeyInfo:
        """Check a pasted public key at `now` (aware); raise `KeyRejected` if it is unusable.

        A key is accepted only if it can receive encrypted mail at `now`, so `can_encrypt`
        is True on every KeyInfo returned.
        """
        ...

    def generate_key(self, user_id: str) -> tuple[str, str]:
        """Make a new key for `user_id`; return (public armour, secret armour)."""
        ...

    def encrypt(self, plaintext: bytes, *, recipients: Sequence[str]) -> str:
        """Encrypt `plaintext` to every armoured public key in `recipients`; ASCII armour out.

        Raises `KeyRejected` if a recipient cannot receive encrypted mail now.
        """
        ...

    def decrypt(self, armored_message: str, *, secret_key: str) -> bytes:
        """Decrypt an armoured message with an armoured secret key (without a passphrase).

        Raises `DecryptionFailed` if the message is not for this key, is damaged, or is not
        encrypted at all (a signed or literal message is refused, never passed through).
        Signatures inside the message are not verified here.
        """
        ...


@functools.cache
def _backend(dotted_path: str) -> OpenPGP:
    return cast("OpenPGP", import_string(dotted_path)())


def get_openpgp() -> OpenPGP:
    """The implementation chosen by `settings.LOCKSTEP_OPENPGP_BACKEND`, one instance per path."""
    return _backend(getattr(settings, "LOCKSTEP_OPENPGP_BACKEND", DEFAULT_BACKEND))
