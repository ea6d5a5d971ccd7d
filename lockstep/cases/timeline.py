"""The case timeline in words: one sentence per audit event, never its raw tag.

A case's timeline holds the case's own events (`CaseTag`) and those of its CVE IDs (`CveTag`,
cve/actions/common.py). Each has a sentence here, with the event's facts filled in where the
event records them; tests/unit/cases/test_timeline.py fails on a tag without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import CaseTag, CveTag
from lockstep.cases.models import ReminderKind, RequestState, Status

# What the actor did, as a verb phrase; {name} takes the event's data (dates as "… UTC").
SENTENCES: dict[str, str] = {
    CaseTag.OPENED: "opened the case",
    CaseTag.PARTICIPANT_ADDED: "added {org} to the case",
    CaseTag.PARTICIPANT_REMOVED: "removed {org} from the case",
    CaseTag.CHANNEL_INVITED: "invited every member of {channel}",
    CaseTag.DATE_SET: "set the disclosure date to {to}",
    CaseTag.SHORT_EMBARGO_ALLOWED: "allowed a short embargo, until {to}: {short_reason}",
    CaseTag.VULNERABILITY_ADDED: "added the vulnerability “{title}”",
    CaseTag.VULNERABILITY_CHANGED: "changed the vulnerability “{title}”",
    CaseTag.VULNERABILITY_DELETED: "deleted the vulnerability “{title}”",
    CaseTag.STATUS_SET: "said for {org}: {status}",
    CaseTag.SEEN: "looked at the case for the first time",
    CaseTag.POST_ADDED: "wrote a post",
    CaseTag.POST_EDITED: "edited a post",
    CaseTag.DATE_AGREED: "agreed to the disclosure date {disclosure_at} for {org}",
    CaseTag.DATE_CONFIRMED: "declared the disclosure date {disclosure_at} agreed",
    CaseTag.EXTENSION_REQUESTED: "asked to move the disclosure date to {requested}",
    CaseTag.EXTENSION_DECIDED: "decided an extension request: {outcome}",
    CaseTag.BREACH_REPORTED: "reported that the issue may be public already",
    CaseTag.BREACH_CONFIRMED: "confirmed that the issue is public: the embargo is broken",
    CaseTag.BREACH_DISMISSED: "dismissed a report that the issue is public",
    CaseTag.EARLY_RELEASE_RECORDED: "recorded an early release of version {version}",
    CaseTag.REMINDER_SENT: "sent the reminder {kind}",
    CaseTag.PUBLISHED: "published the advisory {advisory}",
    CaseTag.REPORTER_POSTED: "recorded the reporter's post to the public list",
    CaseTag.ADVISORY_DRAFTED: "edited the advisory draft",
    CveTag.RESERVED: "reserved {cve_id}",
    CveTag.ASSIGNED: "gave {cve_id} to a vulnerability",
    CveTag.RECORD_HELD: "prepared the {cve_id} record, to be published at the date",
    CveTag.PUBLISHED: "published the {cve_id} record",
    CveTag.REJECTED: "rejected {cve_id}",
    CveTag.RECORD_UPDATED: "updated the {cve_id} record",
    CveTag.PUBLISH_FAILED: "could not publish the {cve_id} record yet (it will try again)",
}

# Said when an event lacks a fact its sentence names (an event written by an older version).
PLAIN: dict[str, str] = {
    CaseTag.PARTICIPANT_ADDED: "added an organisation to the case",
    CaseTag.PARTICIPANT_REMOVED: "removed an organisation from the case",
    CaseTag.CHANNEL_INVITED: "invited every member of the list",
    CaseTag.DATE_SET: "set the disclosure date",
    CaseTag.SHORT_EMBARGO_ALLOWED: "allowed a short embargo",
    CaseTag.VULNERABILITY_ADDED: "added a vulnerability",
    CaseTag.VULNERABILITY_CHANGED: "changed a vulnerability",
    CaseTag.VULNERABILITY_DELETED: "deleted a vulnerability",
    CaseTag.STATUS_SET: "set a status",
    CaseTag.DATE_AGREED: "agreed to the disclosure date",
    CaseTag.DATE_CONFIRMED: "declared the disclosure date agreed",
    CaseTag.EXTENSION_REQUESTED: "asked to move the disclosure date",
    CaseTag.EXTENSION_DECIDED: "decided an extension request",
    CaseTag.EARLY_RELEASE_RECORDED: "recorded an early release",
    CaseTag.REMINDER_SENT: "sent a reminder",
    CaseTag.PUBLISHED: "published the advisory",
    CveTag.RESERVED: "reserved a CVE ID",
    CveTag.ASSIGNED: "gave a CVE ID to a vulnerability",
    CveTag.RECORD_HELD: "prepared a CVE record, to be published at the date",
    CveTag.PUBLISHED: "published a CVE record",
    CveTag.REJECTED: "rejected a CVE ID",
    CveTag.RECORD_UPDATED: "updated a CVE record",
    CveTag.PUBLISH_FAILED: "could not publish a CVE record yet (it will try again)",
}
UNKNOWN = "made a change"
_DATES = ("to", "disclosure_at", "requested")
_CHOICES: dict[str, dict[str, str]] = {
    "status": {value: f"“{label}”" for value, label in Status.choices},
    "outcome": {value: str(label).lower() for value, label in RequestState.choices},
    "kind": {value: f"“{str(label).lower()}”" for value, label in ReminderKind.choices},
}


def _when(raw: object) -> object:
    if not isinstance(raw, str):
        return raw
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _facts(data: Mapping[str, Any]) -> dict[str, object]:
    facts: dict[str, object] = {k: v for k, v in data.items() if v not in (None, "")}
    for key in _DATES:
        if key in facts:
            facts[key] = _when(facts[key])
    for key, labels in _CHOICES.items():
        if key in facts:
            facts[key] = labels.get(str(facts[key]), facts[key])
    return facts


def sentence(tag: str, data: Mapping[str, Any] | None) -> str:
    """What happened, for people: the tag's sentence with the event's facts."""
    template = SENTENCES.get(tag)
    if template is None:
        return UNKNOWN
    try:
        return template.format_map(_facts(data or {}))
    except (KeyError, ValueError, IndexError):
        return PLAIN[tag]


def who(event: AuditEvent) -> str:
    """The actor as people know them: Lockstep's own acts carry the instance's name."""
    if event.actor_kind == "system":
        return str(settings.LOCKSTEP_INSTANCE_NAME)
    return event.actor_label


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str
    text: str


def describe(events: Iterable[AuditEvent]) -> list[TimelineEntry]:
    """The page ends each sentence with a full stop: a reason given may carry its own."""
    return [TimelineEntry(e.at, who(e), sentence(e.tag, e.data).rstrip(".")) for e in events]
