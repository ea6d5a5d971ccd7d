"""Reading what comes back to a bounce address: a delivery status notification, or not.

A DSN (RFC 3464) is a multipart/report with report-type=delivery-status whose
message/delivery-status part holds one block of fields about the message, then one block per
recipient: `Final-Recipient`, `Action` (failed, delayed, delivered, relayed, expanded),
`Status` (an RFC 3463 code such as 5.1.1) and, often, `Diagnostic-Code` (what the remote
server said). Only "failed" means the copy will not arrive. Postfix also sends "delayed"
warnings, and a vacation responder answers the envelope sender too (RFC 3834): neither is a
failure, and holding the copy for them would invite a coordinator to send it a second time.

Mail without a delivery report (qmail, old Exim, some gateways) is read as a failure only
when its subject or text says so. Pure functions over a parsed message: no ORM, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from lockstep.mailgw.inbound.letter import clean_text, payload_bytes

SUMMARY_MAX = 500
_FIELD_MAX = 400
_MAX_BLOCKS = 100
_STATUS_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
_ACTION_WORDS = {
    "delayed": "delivery delayed",
    "delivered": "delivered",
    "relayed": "relayed without a further report",
    "expanded": "delivered and forwarded",
}
# What bounces without a report say (RFC 3463 class 5 codes, and the usual phrases).
_FAILURE = re.compile(
    r"\b5\.\d{1,3}\.\d{1,3}\b|undeliver|delivery (?:has )?failed|failure notice"
    r"|could ?n[o']t be delivered|returned to sender|returned mail|permanent(?: fatal)? error"
    r"|failed permanently"
    r"|user unknown|no such user|mailbox unavailable|does not exist|address rejected",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a DSN."""

    recipient: str  # Final-Recipient's address, without its "rfc822;" type
    action: str  # lower case: failed | delayed | delivered | relayed | expanded
    status: str = ""  # e.g. "5.1.1"
    diagnostic: str = ""  # e.g. "smtp; 550 5.1.1 <x@example.org>: ... User unknown"

    @property
    def summary(self) -> str:
        return " ".join(part for part in (self.status, self.diagnostic) if part)


@dataclass(frozen=True)
class Bounce:
    """What a message to a bounce address says about the copy."""

    failed: bool  # the copy will not arrive: hold it
    summary: str  # what to record: "5.1.1 smtp; 550 ..." or "delivery delayed (4.4.1 ...)"


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return clean_text(" ".join(str(value or "").split()))[:_FIELD_MAX]


def _blocks(part: Message) -> list[Message]:
    """The field blocks of a delivery-status part. The standard library splits
    message/delivery-status into blocks itself; message/global-delivery-status (RFC 6533,
    UTF-8) it reads as a message: the first block as its headers, the others as its body."""
    payload = part.get_payload()
    found = payload if isinstance(payload, list) else []
    blocks = [block for block in found if isinstance(block, Message)][:_MAX_BLOCKS]
    if part.get_content_type() == "message/delivery-status" or len(blocks) != 1:
        return blocks
    inner = blocks[0]
    text = payload_bytes(inner).decode("utf-8", "replace").replace("\r\n", "\n")
    chunks = [chunk for chunk in re.split(r"\n[ \t]*\n", text) if chunk.strip()]
    parser = HeaderParser(policy=compat32)
    rest = [parser.parsestr(chunk.strip("\n") + "\n") for chunk in chunks[: _MAX_BLOCKS - 1]]
    return [inner, *rest]


def _recipient(block: Message) -> RecipientStatus | None:
    action = _field(block, "Action").lower()
    if not action:
        return None  # the per-message block, or a block that says nothing
    final = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
    return RecipientStatus(
        recipient=final.partition(";")[2].strip() if ";" in final else final,
        action=action,
        status=_field(block, "Status"),
        diagnostic=_field(block, "Diagnostic-Code"),
    )


def _status_part(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() in _STATUS_PARTS:
            return part
    return None


def read_dsn(message: Message) -> tuple[RecipientStatus, ...]:
    """The per-recipient statuses of the DSN `message` is, or () if it is none."""
    if message.get_content_type() != "multipart/report":
        return ()
    if str(message.get_param("report-type", "")).lower() not in {
        "delivery-status",
        "global-delivery-status",
    }:
        return ()
    part = _status_part(message)
    if part is None:
        return ()
    found = (_recipient(block) for block in _blocks(part))
    return tuple(status for status in found if status is not None)


def looks_like_failure(subject: str, text: str) -> bool:
    """Whether mail without a delivery report says that a delivery failed."""
    return bool(_FAILURE.search(subject) or _FAILURE.search(text))


def first_lines(text: str) -> str:
    """The lines of a bounce worth keeping: those that say what failed, else the first ones."""
    lines = [line.strip() for line in text.splitlines() if line.strip(" \t#-=*")]
    telling = [line for line in lines if _FAILURE.search(line)]
    return " ".join(" ".join(telling or lines).split())[:SUMMARY_MAX]


def read_bounce(message: Message, *, subject: str, text: str) -> Bounce:
    """What `message`, sent to a copy's bounce address, says: read from its DSN if it has
    one (a failure if any recipient failed); otherwise guessed from its words."""
    statuses = read_dsn(message)
    if statuses:
        failed = next((s for s in statuses if s.action == "failed"), None)
        if failed is not None:
            return Bounce(failed=True, summary=failed.summary[:SUMMARY_MAX])
        first = statuses[0]
        said = _ACTION_WORDS.get(first.action, f"action {first.action}")
        summary = f"{said} ({first.summary})" if first.summary else said
        return Bounce(failed=False, summary=summary[:SUMMARY_MAX])
    if message.get_content_type() == "multipart/report":
        kind = str(message.get_param("report-type", "")) or "unknown"
        return Bounce(failed=False, summary=f"a report ({kind[:50]}) that states no failure")
    if looks_like_failure(subject, text):
        summary = first_lines(text) or subject or "The receiving server reported a failure."
        return Bounce(failed=True, summary=summary[:SUMMARY_MAX])
    said = first_lines(text)[:200] or subject[:200]
    return Bounce(failed=False, summary=f"not a delivery failure: {said}")
