"""The real OpenPGP adapter, over pysequoia (Python bindings to Sequoia-PGP).

What pysequoia gives directly: parsing (`Cert`, `Tsk`, `PacketPile`), the fingerprint, the
non-revoked user IDs, the primary key's expiry, whether the certificate is revoked, key
generation, and encrypt/decrypt. Sequoia checks self-signatures and its standard policy
(for example, no SHA-1 self-signatures) against the wall clock.

What it does not give: per-subkey capabilities, expiry or revocation, and any way to ask
"valid at time T". So `inspect_public_key` answers the encryption question in two parts:

1. Sequoia chooses: we encrypt an empty message to the certificate and read the recipients
   from the PKESK packets of the result. These are the keys Sequoia accepts for encryption
   (valid binding signature, supported algorithm, not revoked). A failure means "no key".
   Beware: when no encryption key is alive, pysequoia falls back to expired ones, so a
   successful encryption alone does not prove a usable key.
2. We check time: from the certificate's own packets we read each key's newest binding
   signature made at or before `now`, its key flags and its validity period, and keep only
   Sequoia's choices that are encryption-capable and unexpired at `now`.

Signing capability comes from the same packet reading (key flags, expiry, revocation at `now`);
it is not cryptographically checked (a signing subkey's back-signature is not verified).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pysequoia
from pysequoia.packet import KeyFlags, Packet, PacketPile, PublicKeyAlgorithm, SignatureType, Tag

from lockstep.core import clock
from lockstep.mailgw.crypto import keygen
from lockstep.mailgw.crypto.base import (
    DecryptionFailed,
    KeyInfo,
    RejectReason,
    extract_public_block,
    reject,
)

_ALGORITHMS: tuple[tuple[PublicKeyAlgorithm, str], ...] = (
    (PublicKeyAlgorithm.RSAEncryptSign, "RSA"),
    (PublicKeyAlgorithm.RSAEncrypt, "RSA"),
    (PublicKeyAlgorithm.RSASign, "RSA"),
    (PublicKeyAlgorithm.DSA, "DSA"),
    (PublicKeyAlgorithm.ElGamalEncrypt, "ElGamal"),
    (PublicKeyAlgorithm.ElGamalEncryptSign, "ElGamal"),
    (PublicKeyAlgorithm.ECDSA, "ECDSA"),
    (PublicKeyAlgorithm.ECDH, "ECDH"),
    (PublicKeyAlgorithm.EdDSA, "EdDSA"),
    (PublicKeyAlgorithm.Ed25519, "Ed25519"),
    (PublicKeyAlgorithm.Ed448, "Ed448"),
    (PublicKeyAlgorithm.X25519, "X25519"),
    (PublicKeyAlgorithm.X448, "X448"),
    (PublicKeyAlgorithm.MLDSA65_Ed25519, "ML-DSA-65+Ed25519"),
    (PublicKeyAlgorithm.MLDSA87_Ed448, "ML-DSA-87+Ed448"),
    (PublicKeyAlgorithm.MLKEM768_X25519, "ML-KEM-768+X25519"),
    (PublicKeyAlgorithm.MLKEM1024_X448, "ML-KEM-1024+X448"),
    (PublicKeyAlgorithm.SLHDSA128s, "SLH-DSA-128s"),
    (PublicKeyAlgorithm.SLHDSA128f, "SLH-DSA-128f"),
    (PublicKeyAlgorithm.SLHDSA256s, "SLH-DSA-256s"),
)
_SIZED = ("RSA", "DSA", "ElGamal")  # the size is the bit length of the first MPI
_CURVED = ("ECDSA", "ECDH", "EdDSA")  # the curve is named by an OID
_CURVES = {  # OID bytes (RFC 9580 section 9.2) -> name
    "2b06010401da470f01": "Ed25519",
    "2b060104019755010501": "Curve25519",
    "2b6571": "Ed448",
    "2b656f": "X448",
    "2a8648ce3d030107": "NIST P-256",
    "2b81040022": "NIST P-384",
    "2b81040023": "NIST P-521",
    "2b2403030208010107": "brainpoolP256r1",
    "2b240303020801010b": "brainpoolP384r1",
    "2b240303020801010d": "brainpoolP512r1",
    "2b8104000a": "secp256k1",
}
_PRIMARY_SELF_SIGNATURES = (
    SignatureType.DirectKey,
    SignatureType.PositiveCertification,
    SignatureType.CasualCertification,
    SignatureType.PersonaCertification,
    SignatureType.GenericCertification,
)
_REVOCATIONS = (SignatureType.KeyRevocation, SignatureType.SubkeyRevocation)
_ESKS = (Tag.PKESK, Tag.SKESK)  # encrypted session keys
_CONTAINERS = (Tag.SEIP, Tag.AED)  # integrity-protected encrypted data (not legacy SED)


def _describe_algorithm(key: Packet) -> str:
    """ "RSA 3072", "EdDSA (Ed25519)", "Ed25519"; "" for an algorithm we do not name."""
    name = next((label for algo, label in _ALGORITHMS if algo == key.key_algorithm), "")
    body = key.body
    # Key material follows version, creation time, (v3: validity days,) algorithm and
    # (v5, v6: a 4-byte length), RFC 9580 section 5.5.2.
    material = body[{3: 8, 4: 6}.get(body[0], 10) :]
    if name in _SIZED:
        return f"{name} {int.from_bytes(material[:2], 'big')}"
    if name in _CURVED:
        curve = _CURVES.get(material[1 : 1 + material[0]].hex(), "unknown curve")
        return f"{name} ({curve})"
    return name


@dataclass
class _Component:
    """A primary key or subkey, with the self-signatures that bind or revoke it."""

    packet: Packet
    bindings: list[Packet] = field(default_factory=list)
    revocations: list[Packet] = field(default_factory=list)

    def binding_at(self, now: datetime) -> Packet | None:
        """The newest binding signature made at or before `now` and not itself expired."""
        live = [
            sig
            for sig in self.bindings
            if (made := sig.signature_created) is not None
            and made <= now
            and ((ends := sig.signature_expiration_time) is None or ends > now)
        ]
        return max(live, key=lambda sig: sig.signature_created or now, default=None)

    def expires_at(self, binding: Packet) -> datetime | None:
        period = binding.key_validity_period
        created = self.packet.key_created
        if not period or created is None:  # a zero period means "does not expire"
            return None
        return created + period

    def flags_at(self, now: datetime) -> KeyFlags | None:
        """The key's flags if it is bound, unexpired and unrevoked at `now`, else None."""
        binding = self.binding_at(now)
        if binding is None or self.revocations:
            return None
        expires = self.expires_at(binding)
        if expires is not None and expires <= now:
            return None
        return binding.key_flags

    def matches(self, recipient: str) -> bool:
        return recipient in (self.packet.key_id, self.packet.fingerprint)


def _issued_by(signature: Packet, key: Packet) -> bool:
    """Whether `signature` names `key` as its issuer (or names no issuer at all)."""
    return signature.issuer_fingerprint in (None, key.fingerprint) and (
        signature.issuer_key_id in (None, key.key_id)
    )


def _components(packets: Iterable[Packet]) -> list[_Component]:
    """Group self-signatures (issued by the primary key) under the key they concern."""
    found: list[_Component] = []
    primary: _Component | None = None
    current: _Component | None = None
    for packet in packets:
        tag = packet.tag
        if tag == Tag.PublicKey:
            primary = current = _Component(packet)
            found.append(primary)
        elif primary is None or current is None:
            continue  # before the primary key (a marker packet, say): concerns no key
        elif tag == Tag.PublicSubkey:
            current = _Component(packet)
            found.append(current)
        elif tag in (Tag.UserID, Tag.UserAttribute):
            current = primary
        elif tag == Tag.Signature and _issued_by(packet, primary.packet):
            # Third-party certifications are skipped: they say nothing about capabilities.
            kind = packet.signature_type
            if kind in _REVOCATIONS:
                current.revocations.append(packet)
            elif kind in (*_PRIMARY_SELF_SIGNATURES, SignatureType.SubkeyBinding):
                current.bindings.append(packet)
    return found


def _pkesk_recipient(body: bytes) -> str:
    """Key ID (v3 PKESK) or fingerprint (v6 PKESK) of an encrypted session key's recipient."""
    if body[0] == 3:  # noqa: PLR2004 - PKESK version 3: version, 8-byte key ID, ...
        return body[1:9].hex()
    # PKESK version 6: version, length, key version, fingerprint (RFC 9580 section 5.1).
    return body[3 : 2 + body[1]].hex()


def _sequoia_encryption_keys(cert: pysequoia.Cert) -> list[str]:
    """The keys Sequoia would encrypt to now, as key IDs or fingerprints (lower-case hex).

    pysequoia does not expose subkey capabilities, so we ask Sequoia by encrypting an empty
    message and reading who it was encrypted to. Failure means no key is usable.
    """
    try:
        message = pysequoia.encrypt(b"", [cert], armor=False)
    except RuntimeError:
        return []
    return [_pkesk_recipient(p.body) for p in PacketPile.from_bytes(message) if p.tag == Tag.PKESK]


def _encrypts(flags: KeyFlags | None) -> bool:
    return flags is not None and (flags.transport_encryption or flags.storage_encryption)


def _check_encryption(components: list[_Component], cert: pysequoia.Cert, *, now: datetime) -> None:
    """Raise unless some key Sequoia accepts for encryption is live at `now`."""
    chosen = _sequoia_encryption_keys(cert)
    usable = [c for c in components if _encrypts(c.flags_at(now)) and any(map(c.matches, chosen))]
    if usable:
        return
    fingerprint = cert.fingerprint.upper()
    expiries = [
        when
        for c in components
        if not c.revocations
        and (binding := c.binding_at(now)) is not None
        and _encrypts(binding.key_flags)
        and (when := c.expires_at(binding)) is not None
        and when <= now
    ]
    if expiries:
        raise reject(
            RejectReason.ENCRYPTION_KEY_EXPIRED, fingerprint=fingerprint, when=max(expiries)
        )
    if any(c.revocations and _encrypts(b.key_flags) for c in components for b in c.bindings):
        raise reject(RejectReason.ENCRYPTION_KEY_REVOKED, fingerprint=fingerprint)
    raise reject(RejectReason.NO_ENCRYPTION_KEY, fingerprint=fingerprint)


def _is_encrypted(message: bytes) -> bool:
    """Session-key packets followed by one encrypted container, and nothing else.

    pysequoia.decrypt passes a signed or plain literal message through as if it had been
    decrypted, so the inbound pipeline could not tell; we refuse those before decrypting.
    """
    tags = [p.tag for p in PacketPile.from_bytes(message)]
    return len(tags) > 1 and tags[-1] in _CONTAINERS and all(tag in _ESKS for tag in tags[:-1])


def _parse(armored: str) -> tuple[pysequoia.Cert, list[Packet]]:
    """Parse exactly one public certificate, refusing secret material and extra keys."""
    block = extract_public_block(armored).encode()
    try:
        packets: list[Packet] = list(PacketPile.from_bytes(block))
        certs = pysequoia.Cert.split_bytes(block)
    except RuntimeError:
        # Sequoia's message names the parse error only; we do not echo it (or the input).
        raise reject(RejectReason.UNREADABLE) from None
    tags = [p.tag for p in packets]
    if Tag.SecretKey in tags or Tag.SecretSubkey in tags:
        raise reject(RejectReason.SECRET_KEY)
    if len(certs) > 1:
        raise reject(RejectReason.MULTIPLE_KEYS, count=len(certs))
    if not certs:
        raise reject(RejectReason.UNREADABLE)
    return certs[0], packets


def _inspect(armored: str, *, now: datetime) -> tuple[KeyInfo, pysequoia.Cert]:
    info, cert, _ = _inspect_all(armored, now=now)
    return info, cert


def _inspect_all(
    armored: str, *, now: datetime
) -> tuple[KeyInfo, pysequoia.Cert, list[_Component]]:
    cert, packets = _parse(armored)
    fingerprint = cert.fingerprint.upper()
    if cert.is_revoked:
        raise reject(RejectReason.REVOKED, fingerprint=fingerprint)
    try:
        expires_at = cert.expiration
        user_ids = tuple(str(uid) for uid in cert.user_ids)
    except RuntimeError:
        raise reject(RejectReason.NO_VALID_SELF_SIGNATURE, fingerprint=fingerprint) from None
    if expires_at is not None and expires_at <= now:
        raise reject(RejectReason.EXPIRED, fingerprint=fingerprint, when=expires_at)
    components = _components(packets)
    _check_encryption(components, cert, now=now)
    primary = components[0].packet
    info = KeyInfo(
        fingerprint=fingerprint,
        user_ids=user_ids,
        created_at=primary.key_created,
        expires_at=expires_at,
        can_encrypt=True,
        can_sign=any((flags := c.flags_at(now)) is not None and flags.signing for c in components),
        algorithm=_describe_algorithm(primary),
        armored=str(cert),
    )
    return info, cert, components


def _next_change(info: KeyInfo, components: list[_Component], now: datetime) -> datetime | None:
    """The first moment after `now` at which the certificate's validity could change: an
    expiry of the certificate, a key or a binding, or a binding signature taking effect."""
    moments = [info.expires_at]
    for component in components:
        for sig in component.bindings:
            moments += [sig.signature_created, sig.signature_expiration_time]
        if (binding := component.binding_at(now)) is not None:
            moments.append(component.expires_at(binding))
    later = [when for when in moments if when is not None and when > now]
    return min(later, default=None)


_CHECKED_MAX = 4096
# armour -> (certificate, checked at, valid until): the certificate passed `_inspect` at
# "checked at", and nothing in it changes before "valid until" (None: never). Revocation
# cannot change either: the armour is the whole certificate, and a new revocation is a new
# armour. Members receive many posts; this spares re-checking their key for each copy.
_checked: OrderedDict[str, tuple[pysequoia.Cert, datetime, datetime | None]] = OrderedDict()
_checked_lock = threading.Lock()


def _encryption_cert(armored: str, *, now: datetime) -> pysequoia.Cert:
    """The certificate to encrypt to at `now`; raises `KeyRejected` as `_inspect` does."""
    with _checked_lock:
        hit = _checked.get(armored)
    if hit is not None:
        cert, checked_at, valid_until = hit
        if checked_at <= now and (valid_until is None or now < valid_until):
            return cert
    info, cert, components = _inspect_all(armored, now=now)
    with _checked_lock:
        _checked[armored] = (cert, now, _next_change(info, components, now))
        _checked.move_to_end(armored)
        while len(_checked) > _CHECKED_MAX:
            _checked.popitem(last=False)
    return cert


class SequoiaOpenPGP:
    """OpenPGP through pysequoia. Stateless and thread-safe; keys are passed in as armour."""

    def inspect_public_key(self, armored: str, *, now: datetime) -> KeyInfo:
        return _inspect(armored, now=clock.require_aware(now, name="now"))[0]

    def generate_key(self, user_id: str) -> tuple[str, str]:
        """A new Ed25519/Cv25519 v4 key, unprotected, not expiring, that advertises SEIPD v1
        only, so that what Sequoia encrypts to it GnuPG 2.2 can read (see keygen.py)."""
        if not user_id.strip():
            msg = "user_id must not be empty"
            raise ValueError(msg)
        return keygen.generate_key(user_id)

    def encrypt(self, plaintext: bytes, *, recipients: Sequence[str]) -> str:
        if not recipients:
            msg = "encrypt needs at least one recipient"
            raise ValueError(msg)
        # Check each recipient at the wall clock first: pysequoia would otherwise fall back to
        # an expired subkey, and it encrypts to revoked certificates without complaint.
        now = clock.now()
        certs = [_encryption_cert(key, now=now) for key in recipients]
        return pysequoia.encrypt(plaintext, certs).decode("ascii")

    def decrypt(self, armored_message: str, *, secret_key: str) -> bytes:
        try:
            decryptor = pysequoia.Tsk.from_bytes(secret_key.encode()).decryptor()
        except RuntimeError:
            msg = "secret_key holds no usable (unprotected) secret encryption key"
            raise ValueError(msg) from None
        data = armored_message.encode()
        try:
            if not _is_encrypted(data):
                msg = "The message is not encrypted."
                raise DecryptionFailed(msg)
            decrypted = pysequoia.decrypt(data, decryptor=decryptor)
        except RuntimeError:
            msg = "The message could not be decrypted with this key (wrong key, or damaged)."
            raise DecryptionFailed(msg) from None
        return decrypted.bytes or b""  # bytes input always yields content; empty stays empty
