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
    signer: str = ""  # the key the signature names (proven only when valid)
    # For a case: "own" (the sender's own reply address), "other" (issued to someone else)
    # or "shared" (the case's old shared address); "" elsewhere.
    reply_address: str = ""
    unsigned_allowed: bool = False  # the list posts members' unsigned mail, marked as such


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


def wrong_address(facts: Facts) -> Verdict | None:
    """Each member replies to the case address issued to them; any other use is suspect."""
    if facts.reply_address == "other":
        reason = (
            f"Sent by {facts.from_address or 'an unknown sender'} to the case address issued "
            "to another member; only that member may write to it."
        )
        return Verdict(Action.HOLD, "wrong-address", reason)
    if facts.reply_address == "shared":
        reason = (
            "Sent to the case's old shared address, which everyone who ever had a copy knows; "
            "reply to a newer message (each member now has an address of their own)."
        )
        return Verdict(Action.HOLD, "wrong-address", reason)
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


def _speaks_for_someone(facts: Facts) -> bool:
    """Mail that Lockstep would attribute to a member: a post in a case or on a list."""
    return facts.destination in ("case", "channel")


def bad_signature(facts: Facts) -> Verdict | None:
    if facts.signature == "bad" and _speaks_for_someone(facts):
        named = f" (it names key {facts.signer})" if facts.signer else ""
        reason = (
            f"Signed, but not validly by any key on file for "
            f"{facts.from_address or 'the sender'}{named}."
        )
        return Verdict(Action.HOLD, "bad-signature", reason)
    return None


def unverified(facts: Facts) -> Verdict | None:
    """A post needs proof of its sender: a valid signature by a key on file for them."""
    if not _speaks_for_someone(facts) or facts.signature == "valid" or facts.unsigned_allowed:
        return None
    who = facts.from_address or "the sender"
    if facts.signature == "unchecked":
        missing = f"Its signature (key {facts.signer or 'unnamed'}) could not be checked"
    else:
        missing = "It is not signed"
    reason = (
        f"{missing}, so nothing proves it comes from {who}. Mail becomes a post only when "
        f"signed with a key on file for the sender (My keys)."
    )
    return Verdict(Action.HOLD, "unverified", reason)


ENVELOPE_RULES: tuple[Rule, ...] = (loop, too_large, auto_reply, missing_tag)
CONTENT_RULES: tuple[Rule, ...] = (
    undecryptable,
    unknown_sender,
    wrong_address,
    bad_signature,
    unverified,
)


def decide(rules: Sequence[Rule], facts: Facts) -> Verdict:
    for rule in rules:
        verdict = rule(facts)
        if verdict is not None:
            return verdict
    return ACCEPT
