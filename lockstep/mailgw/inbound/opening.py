"""Opening a received message: decrypt with the list key, check the sender's signature.

The shapes understood, as mail clients send them:

- PGP/MIME encrypted (RFC 3156 section 4), whose inside is either signed in the same
  OpenPGP message (section 6.2, GnuPG and most clients) or a multipart/signed entity
  (section 6.1);
- PGP/MIME signed, not encrypted (section 5);
- inline OpenPGP in a text part: an armoured encrypted message, or a clear-signed text;
- plain mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from lockstep.core.errors import ValidationError
from lockstep.mailgw.crypto.base import DecryptionFailed
from lockstep.mailgw.crypto.reading import Opened, SignatureState, open_message
from lockstep.mailgw.inbound.letter import (
    Attachment,
    Body,
    clean_text,
    has_cut_headers,
    inline_pgp,
    parse,
    payload_bytes,
    read_body,
)
from lockstep.mailgw.outbound.pgpmime import NotPgpMime, verify_signed


class Undecryptable(ValidationError):
    code = "undecryptable"


@dataclass(frozen=True)
class Content:
    text: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    subject: str = ""  # a protected Subject from inside the encryption, if any
    encrypted: bool = False
    signature: SignatureState = SignatureState.NONE
    signer: str = ""


def _signed_part(raw: bytes, sender_keys: Sequence[str]) -> tuple[SignatureState, bytes]:
    """For multipart/signed bytes: the state, and the signed entity's bytes.

    `verify_signed` parses `raw` again, without `parse`'s limits: a message whose headers
    `parse` had to cut is not checked (its signature counts as bad), and one the standard
    library's parser chokes on is not valid."""
    message = parse(raw)
    parts = list(message.iter_parts())
    inner = bytes(parts[0]) if parts else b""
    if has_cut_headers(message):
        return SignatureState.BAD, inner
    for key in sender_keys:
        try:
            if verify_signed(raw, public_key=key):
                return SignatureState.VALID, inner
        except (NotPgpMime, ValueError, RecursionError):
            continue
    return SignatureState.BAD, inner


def _from_entity(raw: bytes, opened: Opened, sender_keys: Sequence[str]) -> Content:
    """The decrypted inside of PGP/MIME mail: a MIME entity, perhaps itself signed."""
    entity = parse(raw)
    state, signer = opened.signature, opened.signer
    if entity.get_content_type() == "multipart/signed":
        state, inner = _signed_part(raw, sender_keys)
        signer = ""
        entity = parse(inner)
    body = read_body(entity)
    return Content(
        body.text,
        body.attachments,
        subject=body.subject,
        encrypted=opened.encrypted,
        signature=state,
        signer=signer,
    )


def _inline(body: Body, *, secret_key: str, keys: Sequence[str]) -> Content:
    found = inline_pgp(body.text.encode("utf-8", "replace"))
    if found is None:
        return Content(body.text, body.attachments)
    kind, block = found
    try:
        opened = open_message(block, secret_key=secret_key, sender_keys=keys)
    except DecryptionFailed as exc:
        raise Undecryptable(exc.message) from None
    except ValueError:
        if kind == "message":
            raise Undecryptable("The inline OpenPGP message is damaged.") from None
        return Content(body.text, body.attachments, signature=SignatureState.BAD)
    text = clean_text(opened.content.decode("utf-8", "replace")) if opened.content else body.text
    if opened.encrypted and text.lstrip().lower().startswith("content-type:"):
        return _from_entity(opened.content, opened, keys)  # a MIME entity sent inline
    return Content(
        text,
        body.attachments,
        encrypted=opened.encrypted,
        signature=opened.signature,
        signer=opened.signer,
    )


def open_mail(
    raw: bytes, message: EmailMessage, *, secret_key: str, sender_keys: Sequence[str]
) -> Content:
    """Decrypt and verify `message` (parsed from `raw`). Raises `Undecryptable` for encrypted
    mail the list key cannot open (not to us, damaged, or not the shape it claims)."""
    kind = message.get_content_type()
    if kind == "multipart/encrypted":
        try:
            opened = open_message(
                _pgp_data(message), secret_key=secret_key, sender_keys=sender_keys
            )
        except DecryptionFailed as exc:
            raise Undecryptable(exc.message) from None
        except ValueError:
            raise Undecryptable("The encrypted part is not an OpenPGP message.") from None
        if not opened.encrypted:
            raise Undecryptable("The encrypted part is not encrypted.")
        return _from_entity(opened.content, opened, sender_keys)
    if kind == "multipart/signed":
        state, inner = _signed_part(raw, sender_keys)
        body = read_body(parse(inner))
        return Content(body.text, body.attachments, signature=state)
    return _inline(read_body(message), secret_key=secret_key, keys=sender_keys)


def _pgp_data(message: EmailMessage) -> bytes:
    """The encrypted data of RFC 3156 section 4 mail; `Undecryptable` for another shape."""
    parts = list(message.iter_parts())
    kinds = [part.get_content_type() for part in parts]
    if kinds != ["application/pgp-encrypted", "application/octet-stream"]:
        msg = "PGP/MIME encrypted mail has a version part and a data part (RFC 3156)."
        raise Undecryptable(msg)
    return payload_bytes(parts[1])
