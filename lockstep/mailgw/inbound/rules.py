"""The rule chain: named rules, each looking at the facts of one message and deciding.

Pure functions over `Facts`; the first rule with an opinion wins, and a message no rule
objects to is accepted. Envelope rules run while the sender waits (their reason goes back as
the SMTP reply); content rules run in the task, after decryption.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


class Action(StrEnum):
    ACCEPT = "accept"
    HOLD = "hold"  # kept for a coordinator to release or discard
    REJECT = "reject"  # refused, with the reason (an SMTP error while the sender waits)
    DISCARD = "discard"  # taken and dropped quietly (loops, auto-replies)


@dataclass(frozen=True)
class Verdict:
    action: Action
    rule: str = ""
    reason: str = ""
    smtp: str = "250 2.0.0 OK"  # the reply while the sender waits


ACCEPT = Verdict(Action.ACCEPT)


@dataclass(frozen=True)
class Facts:
    """What the rules may look at. `destination` is "report", "case", "channel" or "bounce"."""

    destination: str
    size: int = 0
    max_size: int = 0
    own_addresses: frozenset[str] = frozenset()
    from_address: str = ""
    subject: str = ""
    x_loop: tuple[str, ...] = ()
    auto_submitted: str = ""
    precedence: str = ""
    autoreply: bool = False
    sender_is_member: bool = False  # of the case's participants, or the channel
    required_tag: str = ""  # a subject tag the destination requires, e.g. "[vs]"
    # Content stage only:
    undecryptable: str = ""  # why the list key could not open it
    signature: str = "none"  # valid | bad | unchecked | none


Rule = Callable[[Facts], Verdict | None]


def loop(facts: Facts) -> Verdict | None:
    ours = facts.own_addresses
    if facts.from_address in ours or any(mark.strip().lower() in ours for mark in facts.x_loop):
        return Verdict(Action.DISCARD, "loop", "Sent by Lockstep itself (a mail loop).")
    return None


def _amount(size: int) -> str:
    """A byte count as people read it: "30 MiB", "1.5 MiB", "500 KiB", "100 bytes"."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{round(size / scale, 1):g} {unit}"
    return f"{size} bytes"


def too_large(facts: Facts) -> Verdict | None:
    if facts.max_size and facts.size > facts.max_size:
        reason = f"The message is larger than the limit of {_amount(facts.max_size)}."
        return Verdict(Action.REJECT, "too-large", reason, f"552 5.3.4 {reason}")
    return None


def auto_reply(facts: Facts) -> Verdict | None:
    if facts.destination == "bounce":
        return None  # bounces are automatic by nature: that is what the address is for
    automatic = facts.auto_submitted not in ("", "no")
    if automatic or facts.autoreply or facts.precedence in _AUTO_PRECEDENCE:
        reason = "An automatic reply (RFC 3834 Auto-Submitted, Precedence or X-Autoreply)."
        return Verdict(Action.DISCARD, "auto-reply", reason)
    return None


def unknown_sender(facts: Facts) -> Verdict | None:
    if facts.destination in ("case", "channel") and not facts.sender_is_member:
        reason = (
            f"{facts.from_address or 'The sender'} is not a participant here; "
            "held for the coordinator."
        )
        return Verdict(Action.HOLD, "unknown-sender", reason)
    return None


def missing_tag(facts: Facts) -> Verdict | None:
    tag = facts.required_tag
    if tag and tag.lower() not in facts.subject.lower():
        reason = f"Missing the {tag} tag in the subject."
        return Verdict(Action.REJECT, "missing-tag", reason, f"550 5.7.1 Missing the {tag} tag")
    return None


def undecryptable(facts: Facts) -> Verdict | None:
    if facts.undecryptable:
        return Verdict(Action.HOLD, "undecryptable", facts.undecryptable)
    return None


def bad_signature(facts: Facts) -> Verdict | None:
    if facts.signature == "bad":
        reason = "Signed, but not validly by any key on file for the sender."
        return Verdict(Action.HOLD, "bad-signature", reason)
    return None


ENVELOPE_RULES: tuple[Rule, ...] = (loop, too_large, auto_reply, missing_tag)
CONTENT_RULES: tuple[Rule, ...] = (undecryptable, bad_signature, unknown_sender)


def decide(rules: Sequence[Rule], facts: Facts) -> Verdict:
    for rule in rules:
        verdict = rule(facts)
        if verdict is not None:
            return verdict
    return ACCEPT
