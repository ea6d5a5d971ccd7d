"""Detached OpenPGP signatures over pysequoia, for PGP/MIME (RFC 3156 section 5).

The `OpenPGP` adapter (base.py) encrypts and decrypts; signing lives here, next to it, until
the Protocol grows `sign`/`verify` methods. These functions take key material as armour and
return values, like the adapter, and never touch the ORM.

A signature is made by the key's signing-capable (sub)key, over the exact bytes given: the
caller canonicalises (CRLF line endings for MIME) before it signs and before it verifies.
"""

from __future__ import annotations

from functools import lru_cache

import pysequoia
from pysequoia.packet import HashAlgorithm

# RFC 3156 section 5 and RFC 9580 section 9.5: the `micalg` name of each hash algorithm.
_MICALG: tuple[tuple[HashAlgorithm, str], ...] = (
    (HashAlgorithm.MD5, "pgp-md5"),
    (HashAlgorithm.SHA1, "pgp-sha1"),
    (HashAlgorithm.RipeMD, "pgp-ripemd160"),
    (HashAlgorithm.SHA224, "pgp-sha224"),
    (HashAlgorithm.SHA256, "pgp-sha256"),
    (HashAlgorithm.SHA384, "pgp-sha384"),
    (HashAlgorithm.SHA512, "pgp-sha512"),
    (HashAlgorithm.SHA3_256, "pgp-sha3-256"),
    (HashAlgorithm.SHA3_512, "pgp-sha3-512"),
)


@lru_cache(maxsize=8)
def _signer(secret_key: str) -> pysequoia.PySigner:
    """Parsed once per key: a fan-out signs every copy with the same list key."""
    try:
        return pysequoia.Tsk.from_bytes(secret_key.encode()).signer()
    except RuntimeError:
        msg = "secret_key holds no usable (unprotected) secret signing key"
        raise ValueError(msg) from None


def sign_detached(data: bytes, *, secret_key: str) -> str:
    """An ASCII-armoured detached signature over `data` by the unprotected `secret_key`."""
    signer = _signer(secret_key)
    return pysequoia.sign(signer, data, mode=pysequoia.SignatureMode.DETACHED).decode("ascii")


def verify_detached(data: bytes, signature: str, *, public_key: str) -> bool:
    """Whether `signature` is a valid signature over `data` by a key of `public_key`.

    False for a signature by another key, over other bytes, damaged, or not a signature at
    all; Sequoia's standard policy applies (for example, SHA-1 signatures are not valid).
    Raises ValueError if `public_key` is not a certificate.
    """
    try:
        cert = pysequoia.Cert.from_bytes(public_key.encode())
    except RuntimeError:
        msg = "public_key is not an OpenPGP certificate"
        raise ValueError(msg) from None
    try:
        sig = pysequoia.Sig.from_bytes(signature.encode())
        result = pysequoia.verify(data, store=lambda _key_ids: [cert], signature=sig)
    except RuntimeError:
        return False
    return len(result.valid_sigs) > 0


def micalg(signature: str) -> str:
    """The RFC 3156 `micalg` parameter for `signature`, e.g. "pgp-sha512".

    Raises ValueError for a block that is not a signature.
    """
    try:
        algorithm = pysequoia.Sig.from_bytes(signature.encode()).hash_algorithm
    except RuntimeError:
        msg = "not an OpenPGP signature"
        raise ValueError(msg) from None
    # Every HashAlgorithm member pysequoia defines is in the table.
    return next(name for known, name in _MICALG if known == algorithm)


def public_half(secret_key: str) -> str:
    """The armoured public certificate of an armoured secret key (no secret material)."""
    try:
        return str(pysequoia.Cert.from_bytes(secret_key.encode()))
    except RuntimeError:
        msg = "not an OpenPGP key"
        raise ValueError(msg) from None
