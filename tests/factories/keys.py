"""Real OpenPGP keys for tests, generated once per process (cv25519 is quick)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP


@dataclass(frozen=True)
class KeyPair:
    public: str
    secret: str


@cache
def key_pair(user_id: str) -> KeyPair:
    public, secret = SequoiaOpenPGP().generate_key(user_id)
    return KeyPair(public=public, secret=secret)
