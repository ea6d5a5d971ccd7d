"""Reading a received message: the headers rules look at, its text and its attachments.

Nothing here trusts the input. A message the standard library cannot make sense of raises
`Unreadable`; every header value is cut to a sane length; every text is decoded with
replacement characters rather than failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from lockstep.core.errors import ValidationError

_HEADER_MAX = 300
_PGP_MESSAGE = re.compile(
    rb"-----BEGIN PGP MESSAGE-----\r?\n.*?-----END PGP MESSAGE-----", re.DOTALL
)
_PGP_SIGNED = re.compile(
    rb"-----BEGIN PGP SIGNED MESSAGE-----\r?\n.*?-----END PGP SIGNATURE-----", re.DOTALL
)
_MAX_PARTS = 200


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


def parse(raw: bytes) -> EmailMessage:
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # noqa: BLE001 - the parser's failures are not one class
        msg = f"The message cannot be parsed: {type(exc).__name__}"
        raise Unreadable(msg) from None
    if not isinstance(message, EmailMessage):  # pragma: no cover - policy.default's class
        raise Unreadable("The message cannot be parsed.")
    return message


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header must not stop the rest
        return ""
    text = " ".join(str(value or "").split())
    return text[:_HEADER_MAX]


def read_headers(message: Message) -> Headers:
    sender = _header(message, "From")
    try:
        pairs = getaddresses([sender])
    except Exception:  # noqa: BLE001
        pairs = []
    name, address = pairs[0] if pairs else ("", "")
    try:
        loops = tuple(str(v)[:_HEADER_MAX] for v in message.get_all("X-Loop") or [])
    except Exception:  # noqa: BLE001
        loops = ()
    return Headers(
        from_address=address.strip().lower()[:320] if "@" in address else "",
        from_name=name.strip()[:200],
        subject=_header(message, "Subject"),
        message_id=_header(message, "Message-ID")[:250],
        auto_submitted=_header(message, "Auto-Submitted").lower(),
        precedence=_header(message, "Precedence").lower(),
        x_loop=loops,
        autoreply=bool(message.get("X-Autoreply") or message.get("X-Autorespond")),
    )


def payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return b""
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: Message) -> str:
    charset = part.get_content_charset() or "utf-8"
    data = payload_bytes(part)
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def _filename(part: Message, number: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    return str(name or f"part-{number}")[:255]


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
            attachments.append(Attachment(_filename(part, number), kind, content))
    if text is None:
        html = next((p for p in leaves if p.get_content_type() == "text/html"), None)
        text = _text_of(html) if html is not None else ""
    return Body(text=text, attachments=tuple(attachments), subject=_header(entity, "Subject"))


def inline_pgp(text: bytes) -> tuple[str, bytes] | None:
    """("message", block) or ("signed", block) for inline OpenPGP in a text, else None."""
    if found := _PGP_MESSAGE.search(text):
        return "message", found.group(0)
    if found := _PGP_SIGNED.search(text):
        return "signed", found.group(0)
    return None
