"""A fake OpenPGP adapter: same contract and errors as the real one, no cryptography.

It is deterministic and fast, for tests that care about what Lockstep does with keys, not
about OpenPGP itself. Its "encryption" is base64: it must never be configured in production.

The fake key format is JSON between armour lines:

    -----BEGIN FAKE PGP PUBLIC KEY-----
    {"fingerprint": "<40 or 64 hex digits>", "user_ids": ["Alice <alice@example.org>"],
     "created_at": "2024-01-01T00:00:00+00:00", "expires_at": null, "can_encrypt": true,
     "can_sign": true, "revoked": false, "encryption_expires_at": null}
    -----END FAKE PGP PUBLIC KEY-----

Only "fingerprint" is required: missing dates are null (creation unknown, never expires),
missing booleans are as shown, missing user_ids is []. Dates are ISO 8601 with a UTC offset.
A JSON list holds several keys (refused, as the real adapter refuses a keyring).
`-----BEGIN FAKE PGP PRIVATE KEY-----` is a secret key (refused). `make_fake_key` writes
public keys for tests; `generate_key` writes a key pair.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lockstep.core import clock
from lockstep.mailgw.crypto.base import (
    DecryptionFailed,
    KeyInfo,
    RejectReason,
    extract_public_block,
    reject,
)

LABEL = "FAKE PGP"
ALGORITHM = "Fake"
GENERATED_AT = datetime(2020, 1, 1, tzinfo=UTC)  # generate_key's keys are all "made" then
_FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")


def _armour(kind: str, payload: object) -> str:
    body = json.dumps(payload, sort_keys=True)
    return f"-----BEGIN {LABEL} {kind}-----\n{body}\n-----END {LABEL} {kind}-----\n"


def _body(armored: str, kind: str) -> Any:  # noqa: ANN401 - JSON of unknown shape
    """The JSON inside the one `kind` block, or None if there is no such readable block."""
    escaped = re.escape(f"{LABEL} {kind}")
    found = re.search(rf"-----BEGIN {escaped}-----(.*?)-----END {escaped}-----", armored, re.DOTALL)
    try:
        return json.loads(found.group(1)) if found else None
    except json.JSONDecodeError:
        return None


def _when(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    return None if value is None else clock.require_aware(datetime.fromisoformat(value), name=name)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def make_fake_key(  # noqa: PLR0913 - one keyword per field of the format
    fingerprint: str,
    *,
    user_ids: Sequence[str] = (),
    created_at: datetime | None = GENERATED_AT,
    expires_at: datetime | None = None,
    can_encrypt: bool = True,
    can_sign: bool = True,
    revoked: bool = False,
    encryption_expires_at: datetime | None = None,
) -> str:
    """Armour a fake public key; the inverse of `FakeOpenPGP.inspect_public_key`."""
    return _armour(
        "PUBLIC KEY",
        {
            "fingerprint": fingerprint,
            "user_ids": list(user_ids),
            "created_at": _iso(created_at),
            "expires_at": _iso(expires_at),
            "can_encrypt": can_encrypt,
            "can_sign": can_sign,
            "revoked": revoked,
            "encryption_expires_at": _iso(encryption_expires_at),
        },
    )


def _read(armored: str, *, now: datetime) -> KeyInfo:
    data = _body(extract_public_block(armored, label=LABEL), "PUBLIC KEY")
    if isinstance(data, list):
        raise reject(RejectReason.MULTIPLE_KEYS, count=len(data))
    if not isinstance(data, dict) or not isinstance(data.get("user_ids", []), list):
        raise reject(RejectReason.UNREADABLE)
    try:
        fingerprint = str(data["fingerprint"]).upper()
        user_ids = tuple(str(uid) for uid in data.get("user_ids", []))
        created_at = _when(data, "created_at")
        expires_at = _when(data, "expires_at")
        encryption_expires_at = _when(data, "encryption_expires_at")
    except (TypeError, KeyError, ValueError):
        raise reject(RejectReason.UNREADABLE) from None
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise reject(RejectReason.UNREADABLE)
    if data.get("revoked", False):
        raise reject(RejectReason.REVOKED, fingerprint=fingerprint)
    if expires_at is not None and expires_at <= now:
        raise reject(RejectReason.EXPIRED, fingerprint=fingerprint, when=expires_at)
    if not data.get("can_encrypt", True):
        raise reject(RejectReason.NO_ENCRYPTION_KEY, fingerprint=fingerprint)
    if encryption_expires_at is not None and encryption_expires_at <= now:
        raise reject(
            RejectReason.ENCRYPTION_KEY_EXPIRED, fingerprint=fingerprint, when=encryption_expires_at
        )
    return KeyInfo(
        fingerprint=fingerprint,
        user_ids=user_ids,
        created_at=created_at,
        expires_at=expires_at,
        can_encrypt=True,
        can_sign=bool(data.get("can_sign", True)),
        algorithm=ALGORITHM,
        armored=make_fake_key(
            fingerprint,
            user_ids=user_ids,
            created_at=created_at,
            expires_at=expires_at,
            can_sign=bool(data.get("can_sign", True)),
            encryption_expires_at=encryption_expires_at,
        ),
    )


class FakeOpenPGP:
    """Deterministic stand-in for `SequoiaOpenPGP`. The same user ID gives the same key."""

    def inspect_public_key(self, armored: str, *, now: datetime) -> KeyInfo:
        return _read(armored, now=clock.require_aware(now, name="now"))

    def generate_key(self, user_id: str) -> tuple[str, str]:
        if not user_id.strip():
            msg = "user_id must not be empty"
            raise ValueError(msg)
        fingerprint = hashlib.sha256(user_id.encode()).hexdigest()[:40].upper()
        public = make_fake_key(fingerprint, user_ids=[user_id])
        return public, _armour("PRIVATE KEY", {"fingerprint": fingerprint})

    def encrypt(self, plaintext: bytes, *, recipients: Sequence[str]) -> str:
        if not recipients:
            msg = "encrypt needs at least one recipient"
            raise ValueError(msg)
        now = clock.now()
        to = [_read(key, now=now).fingerprint for key in recipients]
        payload = {"to": to, "data": base64.b64encode(plaintext).decode("ascii")}
        return _armour("MESSAGE", {"NOT ENCRYPTED": "fake OpenPGP, for tests only", **payload})

    def decrypt(self, armored_message: str, *, secret_key: str) -> bytes:
        secret = _body(secret_key, "PRIVATE KEY")
        if not isinstance(secret, dict) or "fingerprint" not in secret:
            msg = "secret_key holds no usable (unprotected) secret encryption key"
            raise ValueError(msg)
        message = _body(armored_message, "MESSAGE")
        if not isinstance(message, dict) or "data" not in message:
            msg = "The message is not encrypted."
            raise DecryptionFailed(msg)
        if secret["fingerprint"] not in message.get("to", []):
            msg = "The message could not be decrypted with this key (wrong key, or damaged)."
            raise DecryptionFailed(msg)
        try:
            return base64.b64decode(str(message["data"]), validate=True)
        except binascii.Error:
            msg = "The message could not be decrypted with this key (wrong key, or damaged)."
            raise DecryptionFailed(msg) from None
