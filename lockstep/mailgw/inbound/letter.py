"""Reading a received message: the headers rules look at, its text and its attachments.

Nothing here trusts the input. A message the standard library cannot make sense of raises
`Unreadable`; every header value is cut to a sane length; every text is decoded with
replacement characters rather than failing, and carries no NUL or lone surrogate (which no
database column takes).

The standard library's header parser is slow on long headers (worse than linear in places),
can exhaust the recursion limit on nested comments, and its tree walks recurse once per
level of MIME nesting. So `parse` cuts every header to `_HEADER_SOURCE_MAX` characters before
anything reads it, reads a header it cannot parse as empty, and refuses a message with more
than `_MAX_PARSED_PARTS` parts or nested deeper than `_MAX_DEPTH` levels.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from typing import Any

from typing_extensions import override

from lockstep.core.errors import ValidationError

_HEADER_MAX = 300
_HEADER_SOURCE_MAX = 2048  # what the parser sees of one header, unfolded
_ADDRESS_MAX = 254  # RFC 5321's limit, and the e-mail columns'
_CONTENT_TYPE_MAX = 100  # the attachment column's
_PGP_BLOCKS = (
    ("message", re.compile(rb"-----BEGIN PGP MESSAGE-----\r?\n"), b"-----END PGP MESSAGE-----"),
    (
        "signed",
        re.compile(rb"-----BEGIN PGP SIGNED MESSAGE-----\r?\n"),
        b"-----END PGP SIGNATURE-----",
    ),
)
_MAX_PARTS = 200  # leaves read as text or attachments
_MAX_PARSED_PARTS = 1000  # entities the parser builds before it gives up
_MAX_DEPTH = 128  # levels of nesting (multiparts, attached messages)
# Python codecs that are no mail charset and fail (or warn) even with errors="replace".
_NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Unreadable(ValidationError):
    code = "unreadable_mail"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Headers:
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    message_id: str = ""
    auto_submitted: str = ""
    precedence: str = ""
    x_loop: tuple[str, ...] = ()
    autoreply: bool = False  # X-Autoreply / X-Autorespond present


@dataclass(frozen=True)
class Body:
    text: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    subject: str = ""  # a protected Subject inside encrypted mail, if there is one


class _Policy(EmailPolicy):
    """policy.default, but each header is cut before it is parsed, a header the parser fails
    on reads as empty, and parsed headers are written back as they came (never refolded)."""

    @override
    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, value[:_HEADER_SOURCE_MAX]

    @override
    def header_fetch_parse(self, name: str, value: str) -> Any:
        try:
            return super().header_fetch_parse(name, value)
        except Exception:  # noqa: BLE001 - RecursionError on nested comments, and others
            return super().header_fetch_parse(name, "")


_POLICY = _Policy(refold_source="none")


class _TooManyParts(Exception):
    pass


def _depth(message: Message) -> int:
    deepest, todo = 0, [(message, 0)]
    while todo:  # not recursive: the depth is what is being checked
        part, depth = todo.pop()
        deepest = max(deepest, depth)
        if part.is_multipart():
            todo.extend((c, depth + 1) for c in part.get_payload() if isinstance(c, Message))
    return deepest


def parse(raw: bytes) -> EmailMessage:
    built = 0

    def new_entity(policy: EmailPolicy = _POLICY) -> EmailMessage:
        nonlocal built
        built += 1
        if built > _MAX_PARSED_PARTS + 1:  # the parser also makes one to try the factory
            raise _TooManyParts
        return EmailMessage(policy=policy)

    try:
        message = BytesParser(new_entity, policy=_POLICY).parsebytes(raw)
    except _TooManyParts:
        msg = f"The message has more than {_MAX_PARSED_PARTS} MIME parts."
        raise Unreadable(msg) from None
    except Exception as exc:  # noqa: BLE001 - the parser's failures are not one class
        msg = f"The message cannot be parsed: {type(exc).__name__}"
        raise Unreadable(msg) from None
    if not isinstance(message, EmailMessage):  # pragma: no cover - new_entity's class
        raise Unreadable("The message cannot be parsed.")
    if _depth(message) > _MAX_DEPTH:
        msg = f"The message is nested more than {_MAX_DEPTH} levels deep."
        raise Unreadable(msg)
    return message


def clean_text(text: str) -> str:
    """`text` with NULs and lone surrogates (no database column takes them) as U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def has_cut_headers(message: Message) -> bool:
    """Whether `parse` cut a header of `message` or of one of its parts (see `_Policy`)."""
    return any(
        len(value) >= _HEADER_SOURCE_MAX for part in message.walk() for _, value in part.raw_items()
    )


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header must not stop the rest
        return ""
    text = " ".join(str(value or "").split())
    return clean_text(text[:_HEADER_MAX])


def read_headers(message: Message) -> Headers:
    sender = _header(message, "From")
    try:
        pairs = getaddresses([sender])
    except Exception:  # noqa: BLE001
        pairs = []
    name, address = pairs[0] if pairs else ("", "")
    loops = tuple(  # as written: an address needs no parsing, and there may be thousands
        clean_text(" ".join(str(value).split())[:_HEADER_MAX])
        for key, value in message.raw_items()
        if key.lower() == "x-loop"
    )
    address = clean_text(address.strip().lower())
    return Headers(
        from_address=address if "@" in address and len(address) <= _ADDRESS_MAX else "",
        from_name=clean_text(name.strip()[:200]),
        subject=_header(message, "Subject"),
        message_id=_header(message, "Message-ID")[:250],
        auto_submitted=_header(message, "Auto-Submitted").lower(),
        precedence=_header(message, "Precedence").lower(),
        x_loop=loops,
        autoreply=bool(_header(message, "X-Autoreply") or _header(message, "X-Autorespond")),
    )


def payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return b""
    return payload if isinstance(payload, bytes) else b""


def decode_text(data: bytes, charset: str) -> str:
    """`data` as text in `charset` (UTF-8 if that is unknown or no charset), always storable."""
    try:
        codec = codecs.lookup(charset).name
    except (LookupError, ValueError):  # unknown, or not a name at all (a NUL in it)
        codec = "utf-8"
    if codec in _NOT_CHARSETS:
        codec = "utf-8"
    try:
        text = data.decode(codec, errors="replace")
    except (LookupError, ValueError):  # a codec that is not for text (rot13, zlib, ...)
        text = data.decode("utf-8", errors="replace")
    return clean_text(text)


def _text_of(part: Message) -> str:
    return decode_text(payload_bytes(part), part.get_content_charset() or "utf-8")


def _filename(part: Message, number: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    return clean_text(str(name or f"part-{number}")[:255])


def read_body(entity: Message) -> Body:
    """The first plain-text part is the text; every other leaf with a body is an attachment."""
    text: str | None = None
    attachments: list[Attachment] = []
    leaves = [part for part in entity.walk() if not part.is_multipart()][:_MAX_PARTS]
    for number, part in enumerate(leaves, start=1):
        kind = part.get_content_type()
        disposition = str(part.get("Content-Disposition", "")).lower()
        if text is None and kind == "text/plain" and "attachment" not in disposition:
            text = _text_of(part)
            continue
        if kind == "application/pgp-signature":
            continue  # a detached signature: checked, not kept
        content = payload_bytes(part)
        if content:
            stored_kind = kind if len(kind) <= _CONTENT_TYPE_MAX else "application/octet-stream"
            attachments.append(Attachment(_filename(part, number), stored_kind, content))
    if text is None:
        html = next((p for p in leaves if p.get_content_type() == "text/html"), None)
        text = _text_of(html) if html is not None else ""
    return Body(text=text, attachments=tuple(attachments), subject=_header(entity, "Subject"))


def inline_pgp(text: bytes) -> tuple[str, bytes] | None:
    """("message", block) or ("signed", block) for inline OpenPGP in a text, else None.

    The block runs from the first BEGIN line to the first END line after it. Found with two
    linear scans: a lazy regex across the text would retry from every BEGIN line (quadratic
    in a text of many BEGIN lines and no END line)."""
    for kind, begin, end in _PGP_BLOCKS:
        if (start := begin.search(text)) is None:
            continue
        stop = text.find(end, start.end())
        if stop >= 0:
            return kind, text[start.start() : stop + len(end)]
    return None
