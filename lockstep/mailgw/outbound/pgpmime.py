"""PGP/MIME messages (RFC 3156): signed, and signed-then-encrypted (section 6.1).

The shapes built here::

    multipart/signed; micalg=pgp-sha512; protocol="application/pgp-signature"
    ├── the inner entity (Content-* headers and body; the bytes that are signed)
    └── application/pgp-signature  (ASCII-armoured detached signature, "signature.asc")

    multipart/encrypted; protocol="application/pgp-encrypted"
    ├── application/pgp-encrypted  ("Version: 1")
    └── application/octet-stream   ("encrypted.asc": the multipart/signed entity, encrypted)

What is signed is the inner entity in canonical form: CRLF line endings, and every leaf part
in a 7-bit transfer encoding (RFC 3156 section 3: 8-bit text, trailing white space and
lines starting with "From " are quoted-printable encoded, other 8-bit data base64), so that
no relay can change the bytes. Only the inner entity's Content-* headers are kept in it;
envelope headers (From, To, Subject, ...) go on the outer message through
`copy_envelope_headers`, which the caller chooses to call.

The multipart bodies are written byte by byte and then parsed, so the `EmailMessage` that is
returned serialises back (with any line ending) to the same canonical bytes.
"""

from __future__ import annotations

import base64
import copy
import io
import quopri
import re
import secrets
from collections.abc import Iterable, Sequence
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.parser import BytesParser

from lockstep.core.errors import ValidationError
from lockstep.mailgw.crypto import signing
from lockstep.mailgw.crypto.base import OpenPGP

ENVELOPE_HEADERS = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
)
SIGNED_PREAMBLE = "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)"
ENCRYPTED_PREAMBLE = "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)"
_MAX_7BIT_LINE = 76  # quoted-printable's own limit; longer "7bit" lines get re-encoded
_CRLF = policy.SMTP  # policy.default with "\r\n" line endings


class NotPgpMime(ValidationError):
    """The message is not the PGP/MIME shape that was asked for (RFC 3156)."""

    code = "not_pgp_mime"


def copy_envelope_headers(
    src: Message, dst: Message, names: Iterable[str] = ENVELOPE_HEADERS
) -> None:
    """Copy every occurrence of each header in `names` from `src` to `dst`, replacing any."""
    for name in names:
        values = src.get_all(name) or []
        if values:
            del dst[name]
        for value in values:
            dst[name] = value


def build_signed(inner: EmailMessage, *, signing_key: str) -> EmailMessage:
    """`inner` as a multipart/signed message, signed by the unprotected `signing_key`."""
    return _parse(b"MIME-Version: 1.0\r\n" + _signed_entity(inner, signing_key=signing_key))


def build_encrypted(
    inner: EmailMessage, *, recipient_keys: Sequence[str], signing_key: str, openpgp: OpenPGP
) -> EmailMessage:
    """`inner` signed by `signing_key`, then encrypted to every key in `recipient_keys`.

    Raises `KeyRejected` if a recipient key cannot receive encrypted mail now.
    """
    entity = encrypted_entity(
        canonical_entity(inner),
        recipient_keys=recipient_keys,
        signing_key=signing_key,
        openpgp=openpgp,
    )
    return _parse(b"MIME-Version: 1.0\r\n" + entity)


def encrypted_entity(
    content: bytes, *, recipient_keys: Sequence[str], signing_key: str, openpgp: OpenPGP
) -> bytes:
    """The multipart/encrypted entity (its Content-Type header, a blank line, the body) over
    `content`, an entity from `canonical_entity`: signed, then encrypted. Bytes, not an
    `EmailMessage`: a fan-out builds one per recipient, and parsing costs more than crypto."""
    ciphertext = openpgp.encrypt(
        _signed_over(content, signing_key=signing_key), recipients=recipient_keys
    )
    control = _part(
        [
            "Content-Type: application/pgp-encrypted",
            _description("PGP/MIME version identification"),
        ],
        b"Version: 1\r\n",
    )
    data = _part(
        [
            'Content-Type: application/octet-stream; name="encrypted.asc"',
            _description("OpenPGP encrypted message"),
            'Content-Disposition: inline; filename="encrypted.asc"',
        ],
        _to_crlf(ciphertext.encode("ascii")),
    )
    return _multipart(
        "encrypted", ['protocol="application/pgp-encrypted"'], ENCRYPTED_PREAMBLE, [control, data]
    )


def decrypt_entity(message: EmailMessage | bytes, *, secret_key: str, openpgp: OpenPGP) -> bytes:
    """The decrypted inner entity of a multipart/encrypted message, as bytes.

    Raises `NotPgpMime` for another shape and `DecryptionFailed` if `secret_key` cannot
    decrypt it. Signatures are not checked here (see `verify_signed`).
    """
    msg = _as_message(message)
    if not _is(msg, "multipart/encrypted", "application/pgp-encrypted"):
        raise NotPgpMime('Not a multipart/encrypted; protocol="application/pgp-encrypted" message.')
    parts = list(msg.iter_parts())
    kinds = [part.get_content_type() for part in parts]
    if kinds != ["application/pgp-encrypted", "application/octet-stream"]:
        raise NotPgpMime("A PGP/MIME encrypted message has a control part and a data part.")
    if b"Version: 1" not in _payload(parts[0]).splitlines():
        raise NotPgpMime("The PGP/MIME control part does not say Version: 1.")
    return openpgp.decrypt(_payload(parts[1]).decode("ascii", "replace"), secret_key=secret_key)


def open_encrypted(
    message: EmailMessage | bytes, *, secret_key: str, openpgp: OpenPGP
) -> EmailMessage:
    """The decrypted inner entity of a multipart/encrypted message (see `decrypt_entity`)."""
    return _parse(decrypt_entity(message, secret_key=secret_key, openpgp=openpgp))


def verify_signed(message: EmailMessage | bytes, *, public_key: str) -> bool:
    """Whether a multipart/signed message carries a valid signature by `public_key`.

    The signed part is taken byte for byte from the message in canonical form (CRLF), so
    pass the received bytes where you have them: an `EmailMessage` is serialised first, and
    the standard library may refold headers of mail it did not build. False if the signature
    is bad, by another key, or its hash does not match `micalg`; raises `NotPgpMime` if the
    message is not multipart/signed with protocol "application/pgp-signature".
    """
    raw = _to_crlf(message if isinstance(message, bytes) else _serialise(message))
    msg = _parse(raw)
    if not _is(msg, "multipart/signed", "application/pgp-signature"):
        raise NotPgpMime('Not a multipart/signed; protocol="application/pgp-signature" message.')
    parts = list(msg.iter_parts())
    if [p.get_content_type() for p in parts][1:] != ["application/pgp-signature"]:
        raise NotPgpMime("A PGP/MIME signed message has a signed part and a signature part.")
    signature = _payload(parts[1]).decode("ascii", "replace")
    try:
        if signing.micalg(signature) != str(msg.get_param("micalg", "")).lower():
            return False
    except ValueError:
        return False
    signed = _first_part_bytes(raw, str(msg.get_boundary()))
    return signing.verify_detached(signed, signature, public_key=public_key)


# -- building ------------------------------------------------------------------------------


def _signed_entity(inner: EmailMessage, *, signing_key: str) -> bytes:
    """The multipart/signed entity over `inner`, as canonical bytes (no MIME-Version)."""
    return _signed_over(canonical_entity(inner), signing_key=signing_key)


def signed_entity(content: bytes, *, signing_key: str) -> bytes:
    """The multipart/signed entity (Content-Type header, blank line, body) over `content`,
    an entity from `canonical_entity`."""
    return _signed_over(content, signing_key=signing_key)


def _signed_over(content: bytes, *, signing_key: str) -> bytes:
    signature = signing.sign_detached(content, secret_key=signing_key)
    signature_part = _part(
        [
            'Content-Type: application/pgp-signature; name="signature.asc"',
            _description("OpenPGP digital signature"),
            'Content-Disposition: attachment; filename="signature.asc"',
        ],
        _to_crlf(signature.encode("ascii")),
    )
    params = [f"micalg={signing.micalg(signature)}", 'protocol="application/pgp-signature"']
    return _multipart("signed", params, SIGNED_PREAMBLE, [content, signature_part])


def canonical_entity(inner: EmailMessage) -> bytes:
    """`inner`'s Content-* headers and body, 7-bit safe, CRLF, as the parser will re-read it."""
    entity = copy.deepcopy(inner)
    for name in {key.lower() for key in entity}:
        if not name.startswith("content-"):
            del entity[name]
    if "Content-Type" not in entity:
        entity["Content-Type"] = 'text/plain; charset="us-ascii"'
    for part in entity.walk():
        if not part.is_multipart():
            _make_7bit(part)
    return _serialise(_parse(_serialise(entity)))  # one parse makes later re-serialising exact


def _make_7bit(part: Message) -> None:
    cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if cte in ("base64", "quoted-printable"):
        return
    raw = _payload(part)
    if _is_7bit_safe(raw):
        return
    if part.get_content_maintype() == "text":
        encoded = re.sub(rb"^From ", b"=46rom ", quopri.encodestring(raw), flags=re.MULTILINE)
        cte = "quoted-printable"
    else:
        encoded = base64.encodebytes(raw)
        cte = "base64"
    part.set_payload(encoded.decode("ascii"))
    del part["Content-Transfer-Encoding"]
    part["Content-Transfer-Encoding"] = cte


def _is_7bit_safe(raw: bytes) -> bool:
    text = raw.replace(b"\r\n", b"\n")
    if not text.isascii() or b"\r" in text or b"\0" in text:
        return False
    return all(
        len(line) <= _MAX_7BIT_LINE
        and not line.endswith((b" ", b"\t"))
        and not line.startswith(b"From ")
        for line in text.split(b"\n")
    )


def _description(text: str) -> str:
    return f"Content-Description: {text}"


def _part(headers: list[str], body: bytes) -> bytes:
    return "\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + body


def _multipart(subtype: str, params: list[str], preamble: str, parts: list[bytes]) -> bytes:
    """A multipart entity, one Content-Type parameter per folded line, CRLF throughout."""
    joined = b"".join(parts)
    boundary = _boundary()
    while boundary.encode() in joined:  # pragma: no cover - 144 random bits; never in practice
        boundary = _boundary()
    content_type = ";\r\n ".join([f"Content-Type: multipart/{subtype}", *params])
    head = f'{content_type};\r\n boundary="{boundary}"\r\n\r\n{preamble}\r\n'
    delimiter = f"\r\n--{boundary}\r\n".encode()
    return (
        head.encode("ascii")
        + f"--{boundary}\r\n".encode()
        + delimiter.join(parts)
        + f"\r\n--{boundary}--\r\n".encode()
    )


def _boundary() -> str:
    return f"=_pgpmime_{secrets.token_urlsafe(18)}"


# -- reading -------------------------------------------------------------------------------


def _is(msg: EmailMessage, content_type: str, protocol: str) -> bool:
    return (
        msg.get_content_type() == content_type
        and str(msg.get_param("protocol", "")).lower() == protocol
    )


def _first_part_bytes(raw: bytes, boundary: str) -> bytes:
    """The bytes of the first body part: after the first delimiter line, up to the CRLF
    that precedes the next one (RFC 2046 section 5.1.1; that CRLF belongs to the delimiter)."""
    delimiter = re.compile(rb"\r\n--" + re.escape(boundary.encode()) + rb"[ \t]*\r\n")
    first = delimiter.search(raw)
    second = delimiter.search(raw, first.end()) if first else None
    if first is None or second is None:
        raise NotPgpMime("The multipart/signed body has no complete first part.")
    return raw[first.end() : second.start()]


def _payload(part: Message) -> bytes:
    """A leaf part's body with its transfer encoding undone."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _to_crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


def _serialise(msg: EmailMessage) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_CRLF).flatten(msg)
    return out.getvalue()


def _parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


def _as_message(message: EmailMessage | bytes) -> EmailMessage:
    return _parse(message) if isinstance(message, bytes) else message
