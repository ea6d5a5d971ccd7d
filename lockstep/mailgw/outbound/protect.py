"""PGP copies: signed with the instance's list key, encrypted to the recipient's own key."""

from __future__ import annotations

from email.message import EmailMessage
from functools import cache, lru_cache

from django.conf import settings

from lockstep.mailgw.crypto.base import get_openpgp
from lockstep.mailgw.crypto.signing import public_half
from lockstep.mailgw.models import OutboundMessage
from lockstep.mailgw.outbound.headers import header_block
from lockstep.mailgw.outbound.listkey import (
    ListKeyMissing,
    key_path,
    list_key_use,
    write_new_list_key,
)
from lockstep.mailgw.outbound.pgpmime import canonical_entity, encrypted_entity, signed_entity


@cache
def list_secret_key() -> str:
    """The instance's signing key: `LOCKSTEP_LIST_KEY_FILE`, made (mode 0600) on first use.

    Never made again over an instance that has used one (see `listkey`): that takes the
    operator's word (`--new-list-key`).
    """
    path = key_path()
    if path.exists():
        return path.read_text(encoding="ascii")
    if settings.LOCKSTEP_LIST_KEY_GUARD:
        evidence = list_key_use()
        if evidence is not None and not path.exists():  # not made by another process meanwhile
            raise ListKeyMissing(path, evidence)
    return write_new_list_key(path)


ENCRYPTED_SUBJECT = "Encrypted message"


def outer_subject(row: OutboundMessage) -> str:
    """The Subject travels in clear, so it names no detail: only the case number."""
    return f"{ENCRYPTED_SUBJECT} (case {row.case_id})" if row.case_id else ENCRYPTED_SUBJECT


def render_pgp(row: OutboundMessage) -> bytes:
    """Sign with the list key, encrypt to the recipient; the real Subject goes inside."""
    entity = encrypted_entity(
        _inner_entity(row.subject, row.body),
        recipient_keys=[row.recipient_key],
        signing_key=list_secret_key(),
        openpgp=get_openpgp(),
    )
    return header_block(row, subject=outer_subject(row)) + b"MIME-Version: 1.0\r\n" + entity


def render_signed(row: OutboundMessage) -> bytes:
    """Public mail in clear, signed with the list key (PGP/MIME, RFC 3156 section 5)."""
    inner = EmailMessage()
    inner.set_content(row.body)
    entity = signed_entity(canonical_entity(inner), signing_key=list_secret_key())
    return header_block(row, subject=row.subject) + b"MIME-Version: 1.0\r\n" + entity


@lru_cache(maxsize=32)
def _inner_entity(subject: str, body: str) -> bytes:
    """The part every member's copy of one post shares, made once per post: each copy is
    still signed on its own and encrypted to its own recipient."""
    inner = EmailMessage()
    inner.set_content(f"Subject: {subject}\n\n{body}")
    return canonical_entity(inner)


def list_public_key() -> str:
    """The public half of the list key: what members import to verify Lockstep's mail."""
    return public_half(list_secret_key())
