"""The content rules that decide whether mail may speak for a person: pure, table-driven."""

from __future__ import annotations

import pytest

from lockstep.mailgw.inbound.rules import CONTENT_RULES, Action, Facts, decide

MEMBER = {"from_address": "ana@northwind.example", "sender_is_member": True}


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        # A case: only a valid signature, on the sender's own address, makes a post.
        (Facts("case", signature="valid", reply_address="own", **MEMBER), ""),
        (Facts("case", signature="none", reply_address="own", **MEMBER), "unverified"),
        (Facts("case", signature="unchecked", reply_address="own", **MEMBER), "unverified"),
        (Facts("case", signature="bad", reply_address="own", **MEMBER), "bad-signature"),
        (Facts("case", signature="valid", reply_address="other", **MEMBER), "wrong-address"),
        (Facts("case", signature="valid", reply_address="shared", **MEMBER), "wrong-address"),
        (Facts("case", signature="valid", reply_address="own"), "unknown-sender"),
        (Facts("case", undecryptable="not for us", **MEMBER), "undecryptable"),
        # A list that takes unsigned mail: unsigned passes (marked), a bad signature never.
        (Facts("case", reply_address="own", unsigned_allowed=True, **MEMBER), ""),
        (
            Facts("case", signature="bad", reply_address="own", unsigned_allowed=True, **MEMBER),
            "bad-signature",
        ),
        (Facts("case", reply_address="shared", unsigned_allowed=True, **MEMBER), "wrong-address"),
        # A public list: the same proof.
        (Facts("channel", signature="valid", **MEMBER), ""),
        (Facts("channel", signature="none", **MEMBER), "unverified"),
        (Facts("channel", signature="none", unsigned_allowed=True, **MEMBER), ""),
        # A report: anyone may write, signed or not, by a known key or not.
        (Facts("report", signature="none"), ""),
        (Facts("report", signature="bad", signer="ABCD"), ""),
        (Facts("report", signature="unchecked"), ""),
        (Facts("report", undecryptable="damaged"), "undecryptable"),
    ],
)
def test_who_may_speak_for_whom(facts: Facts, rule: str) -> None:
    verdict = decide(CONTENT_RULES, facts)
    assert verdict.rule == rule
    assert verdict.action == (Action.HOLD if rule else Action.ACCEPT)


def test_reasons_say_what_was_missing() -> None:
    unsigned = decide(CONTENT_RULES, Facts("case", reply_address="own", **MEMBER))
    assert "It is not signed" in unsigned.reason
    assert "ana@northwind.example" in unsigned.reason
    unchecked = Facts("case", signature="unchecked", signer="F00D", reply_address="own", **MEMBER)
    assert "key F00D" in decide(CONTENT_RULES, unchecked).reason
    bad = Facts("case", signature="bad", signer="BEEF", reply_address="own", **MEMBER)
    assert "it names key BEEF" in decide(CONTENT_RULES, bad).reason
