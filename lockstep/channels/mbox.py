"""Reading a list's earlier archive from an mbox file. Pure: bytes in, values out, no ORM.

The format is mboxrd, as public-inbox, Mailman and mutt write it: each message starts at a
line "From <sender> <date>", and a line of the message that starts with ">"* and "From " has
one more ">" in the file. `messages` undoes that for every level (Python's `mailbox.mbox`
only turns ">From " back into "From ", and leaves ">>From " alone, which is mboxo's rule), and
reads a gzip-compressed file as well (public-inbox serves `.mbox.gz`).

`envelope` reads only the headers that place a message in the archive and its thread (cheap:
the import reads the whole file this way first); `mail` reads a whole message: the sender's
name and address, the subject, the date (from Date:, else the "From " line) and the text.
The text is the message's text/plain parts, decoded; a message with only HTML gets the text
of its HTML (tags dropped, entities read: the archive shows it as plain text, escaped);
attachments are not imported, and a line at the end of the text names each one.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, cast

from typing_extensions import override

MESSAGE_ID_MAX = 250
SUBJECT_MAX = 300
TEXT_MAX = 200_000  # as a post written here (channels.public.BODY_MAX)
NAME_MAX = 200
ADDRESS_MAX = 254
_ID = re.compile(rb"<[^<>\s]+>")
_ESCAPED_FROM = re.compile(rb"^>(>*From )")
_GZIP = b"\x1f\x8b"
_HEADERS = BytesHeaderParser(policy=policy.compat32)
_MESSAGE = BytesParser(policy=policy.compat32)


class MboxError(ValueError):
    """The file is not an mbox (or cannot be read as one)."""


@dataclass(frozen=True)
class Raw:
    separator: bytes  # the "From " line
    data: bytes  # the message, mboxrd quoting undone


@dataclass(frozen=True)
class Envelope:
    message_id: str
    references: tuple[str, ...]  # References, then In-Reply-To if not among them; oldest first
    in_reply_to: str  # the message it answers: In-Reply-To, else the last of References


@dataclass(frozen=True)
class Mail:
    envelope: Envelope
    subject: str
    sender_name: str
    sender_address: str
    date: datetime | None  # aware (UTC); None when neither Date: nor the "From " line has one
    text: str
    attachments: tuple[str, ...]  # "name (type, size)" of each part left out
    from_html: bool  # the text was read from HTML


def open_mbox(path: Path) -> BinaryIO:
    """The file, decompressed if it is gzip; MboxError if it is not there or not readable.
    The caller closes it."""
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == _GZIP
        handle = gzip.open(path, "rb") if compressed else path.open("rb")  # noqa: SIM115
    except OSError as exc:
        raise MboxError(f"cannot read {path}: {exc.strerror or exc}") from None
    return cast("BinaryIO", handle)


def messages(stream: BinaryIO) -> Iterator[Raw]:
    """Each message of an mboxrd stream; MboxError if the stream does not start as an mbox."""
    separator, lines = b"", list[bytes]()
    try:
        for line in stream:
            if line.startswith(b"From "):
                if separator:
                    yield Raw(separator, _joined(lines))
                separator, lines = line, []
            elif not separator:
                if line.strip():
                    raise MboxError("this is not an mbox file: it does not start with 'From '")
            elif line.startswith(b">"):
                lines.append(_ESCAPED_FROM.sub(rb"\1", line))
            else:
                lines.append(line)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise MboxError(f"the file cannot be read to its end: {exc}") from None
    if separator:
        yield Raw(separator, _joined(lines))


def _joined(lines: list[bytes]) -> bytes:
    """The message without the blank line that separates it from the next one."""
    if lines and not lines[-1].strip():
        lines = lines[:-1]
    return b"".join(lines)


def _ids(value: str | None) -> list[bytes]:
    return _ID.findall(value.encode("utf-8", "surrogateescape")) if value else []


def _message_id(value: str | None, data: bytes) -> str:
    """The message's own id; one made from its bytes when it has none that fits."""
    found = _ids(value)
    if found and len(found[0]) <= MESSAGE_ID_MAX:
        return found[0].decode("utf-8", "replace")
    digest = hashlib.sha256(data).hexdigest()[:32]
    return f"<import-{digest}@lockstep.invalid>"


def _envelope(headers: Message, data: bytes) -> Envelope:
    own = _message_id(headers["Message-ID"], data)
    references = [r.decode("utf-8", "replace") for r in _ids(headers["References"])]
    replied = [r.decode("utf-8", "replace") for r in _ids(headers["In-Reply-To"])]
    chain = [r for r in references if r != own and len(r) <= MESSAGE_ID_MAX]
    answers = next((r for r in replied if r != own and len(r) <= MESSAGE_ID_MAX), "")
    if answers and answers not in chain:
        chain.append(answers)
    return Envelope(own, tuple(dict.fromkeys(chain)), answers or (chain[-1] if chain else ""))


def envelope(raw: Raw) -> Envelope:
    head, _, _ = raw.data.partition(b"\n\n")
    return _envelope(_HEADERS.parsebytes(head), raw.data)


def mail(raw: Raw) -> Mail:
    message = _MESSAGE.parsebytes(raw.data)
    name, address = _sender(message["From"])
    text, attachments, from_html = _text(message)
    subject = " ".join(_header_text(message["Subject"]).split())[:SUBJECT_MAX]
    return Mail(
        envelope=_envelope(message, raw.data),
        subject=subject or "(no subject)",
        sender_name=name[:NAME_MAX],
        sender_address=address[:ADDRESS_MAX],
        date=_date(message["Date"]) or _separator_date(raw.separator),
        text=text,
        attachments=attachments,
        from_html=from_html,
    )


def _header_text(value: object) -> str:
    """A header as text: encoded words decoded; raw 8-bit bytes read as UTF-8."""
    if value is None:
        return ""
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError, AssertionError):
        return text


def _sender(value: object) -> tuple[str, str]:
    text = "" if value is None else str(value)
    pairs = getaddresses([text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")])
    name, address = pairs[0] if pairs else ("", "")
    name = " ".join(_header_text(name).split())
    return name or address.split("@")[0] or "unknown sender", address


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _separator_date(separator: bytes) -> datetime | None:
    """The date at the end of the "From sender Sun Jan  1 00:19:04 2023" line."""
    words = separator.decode("ascii", "replace").split()
    try:
        when = datetime.strptime(" ".join(words[-5:]), "%a %b %d %H:%M:%S %Y")  # noqa: DTZ007
    except ValueError:
        return None
    return when.replace(tzinfo=UTC)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _attachment(part: Message) -> str:
    payload = part.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else 0
    name = _header_text(part.get_filename() or "") or "unnamed"
    return f"{name} ({part.get_content_type()}, {size:,} bytes)"


def _text(message: Message) -> tuple[str, tuple[str, ...], bool]:
    """(text, attachments left out, whether the text came from HTML)."""
    plain, html, attachments = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if part.get_content_disposition() == "attachment" or not kind.startswith("text/"):
            attachments.append(_attachment(part))
        elif kind == "text/html":
            html.append(_decoded(part))
        else:  # text/plain, and text such as an inline text/x-diff
            plain.append(_decoded(part))
    from_html = not any(p.strip() for p in plain) and bool(html)
    text = "\n\n".join(html_text(h) for h in html) if from_html else "\n\n".join(plain)
    text = text.replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:
        text = text[:TEXT_MAX] + f"\n\n[… cut at {TEXT_MAX:,} characters]"
    if attachments:
        text += "\n\n" + "\n".join(f"[attachment not imported: {a}]" for a in attachments)
    return text.strip() or "(The message had no text.)", tuple(attachments), from_html


class _HtmlText(HTMLParser):
    """The text of an HTML part: block elements become line breaks; scripts and styles go."""

    BLOCKS = frozenset(
        {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "pre", "table"}
        | {"ul", "ol", "hr", "section", "h5", "h6"}
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    @override
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    @override
    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    @override
    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    reader = _HtmlText()
    reader.feed(html)
    reader.close()
    lines = (" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
