"""The envelope headers of an outgoing copy, written straight to bytes."""

from __future__ import annotations

from email import policy
from email.utils import format_datetime

from lockstep.mailgw.models import OutboundMessage

_MAX_SIMPLE = 900  # an ASCII header shorter than this needs no folding (the limit is 998)


def header_lines(row: OutboundMessage, *, subject: str) -> list[tuple[str, str]]:
    """Name and value of each envelope header, in the order they are written."""
    lines = [
        ("From", row.from_address),
        ("To", row.to_address),
        ("Subject", subject),
        ("Date", format_datetime(row.created_at)),
        ("Message-ID", row.message_id),
    ]
    lines += [(str(name), str(value)) for name, value in row.headers.items()]
    return lines


def encode_header(name: str, value: str) -> bytes:
    """One header field, CRLF-terminated: as it is when short and ASCII, otherwise folded
    and RFC 2047-encoded by the standard library. Line breaks in a value never pass."""
    value = " ".join(value.splitlines())
    if value.isascii() and len(name) + len(value) < _MAX_SIMPLE:
        return f"{name}: {value}\r\n".encode("ascii")
    return policy.SMTP.fold_binary(name, value)


def header_block(row: OutboundMessage, *, subject: str) -> bytes:
    return b"".join(
        encode_header(name, value) for name, value in header_lines(row, subject=subject)
    )
