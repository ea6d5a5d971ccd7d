"""The case timeline in words: every tag that can reach a case's timeline has a sentence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import CaseTag, CveTag
from lockstep.cases.timeline import PLAIN, SENTENCES, UNKNOWN, describe, sentence

# A case's timeline is its audit events with object_type "case": the case actions
# (cases/actions/common.record_case) and those of its CVE IDs (cve/actions/common.audit_cve).
TIMELINE_TAGS = [*CaseTag, *CveTag]


@pytest.mark.parametrize("tag", TIMELINE_TAGS, ids=str)
def test_every_timeline_tag_has_a_sentence(tag: str) -> None:
    assert tag in SENTENCES
    said = sentence(tag, {})
    assert ":" not in said.split(" ", 1)[0]  # never the raw "case:case:opened"
    assert tag not in said
    assert said


def test_no_sentence_for_a_tag_that_does_not_exist() -> None:
    assert set(SENTENCES) <= {str(tag) for tag in TIMELINE_TAGS}
    assert set(PLAIN) <= set(SENTENCES)


@pytest.mark.parametrize("tag", [t for t, said in SENTENCES.items() if "{" in said], ids=str)
def test_every_sentence_with_facts_has_a_plain_one_without(tag: str) -> None:
    assert "{" not in PLAIN[tag]
    assert sentence("case:no-such:thing", {}) == UNKNOWN


def test_sentences_carry_the_events_facts() -> None:
    assert (
        sentence(CaseTag.DATE_SET, {"to": "2026-12-01T14:00:00Z"})
        == "set the disclosure date to 2026-12-01 14:00 UTC"
    )
    assert sentence(CaseTag.STATUS_SET, {"org": "northwind", "status": "fix_ready"}) == (
        "said for northwind: “Fix ready”"
    )
    assert sentence(CaseTag.EXTENSION_DECIDED, {"outcome": "partially_granted"}) == (
        "decided an extension request: granted up to the policy's maximum"
    )
    assert sentence(CaseTag.REMINDER_SENT, {"kind": "t-24h", "to": 3}) == (
        "sent the reminder “24 hours before the date”"
    )
    assert sentence(CveTag.RESERVED, {"cve_id": "CVE-2026-50000"}) == "reserved CVE-2026-50000"
    said = sentence(CaseTag.DATE_SET, {"to": "not a date"})
    assert said == "set the disclosure date to not a date"


def test_an_event_missing_a_fact_gets_the_plain_sentence() -> None:
    assert sentence(CaseTag.DATE_SET, {}) == "set the disclosure date"
    assert sentence(CaseTag.DATE_SET, {"to": None}) == "set the disclosure date"
    assert sentence(CaseTag.VULNERABILITY_CHANGED, {}) == "changed a vulnerability"
    assert sentence(CveTag.REJECTED, None) == "rejected a CVE ID"


def test_lockstep_itself_is_named_by_the_instance() -> None:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    events = [
        AuditEvent(at=at, actor_kind="system", actor_label="system:embargo-clock", tag="x"),
        AuditEvent(at=at, actor_kind="user", actor_label="ana@example.org", tag=CaseTag.OPENED),
        AuditEvent(
            at=at,
            actor_kind="user",
            actor_label="olga@example.org",
            tag=CaseTag.SHORT_EMBARGO_ALLOWED,
            data={"to": "2026-11-25T15:00:00Z", "short_reason": "Exploited."},
        ),
    ]
    first, second, third = describe(events)
    assert third.text == "allowed a short embargo, until 2026-11-25 15:00 UTC: Exploited"
    assert (first.who, first.text) == ("Lockstep", UNKNOWN)
    assert (second.who, second.text) == ("ana@example.org", "opened the case")
