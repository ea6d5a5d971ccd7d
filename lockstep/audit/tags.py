"""Audit tags, `"<domain>:<subject>:<verb-past>"`, grouped by domain."""

from __future__ import annotations

from enum import StrEnum


class AccountTag(StrEnum):
    USER_CREATED = "account:user:created"
    PASSWORD_CHANGED = "account:password:changed"  # noqa: S105 - a tag, not a password
    KEY_ADDED = "account:key:added"
    KEY_REMOVED = "account:key:removed"
    TOKEN_CREATED = "account:token:created"  # noqa: S105 - a tag, not a token
    TOKEN_REVOKED = "account:token:revoked"  # noqa: S105 - a tag, not a token
    MAIL_PREFERENCE_CHANGED = "account:mail:changed"
    SIGNED_IN = "account:signin:succeeded"
    SIGNED_OUT = "account:signin:signed-out"
    SIGNIN_REFUSED = "account:signin:refused"  # too many failures: the owner was told
    SECOND_FACTOR_ADDED = "account:second-factor:added"
    SECOND_FACTOR_REMOVED = "account:second-factor:removed"
    RECOVERY_CODES_RESET = "account:second-factor:recovery-codes-reset"
    SESSIONS_ENDED = "account:sessions:ended"
    SSO_CONNECTED = "account:sso:connected"  # an identity provider's identity, at first use
    SSO_REFUSED = "account:sso:refused"  # a single sign-on that signed nobody in
    DEACTIVATED = "account:user:deactivated"
    REACTIVATED = "account:user:reactivated"


class OrgTag(StrEnum):
    CREATED = "org:organization:created"
    MEMBER_ADDED = "org:member:added"
    MEMBER_ROLE_CHANGED = "org:member:role-changed"
    MEMBER_REMOVED = "org:member:removed"
    INVITATION_SENT = "org:invitation:sent"
    INVITATION_REVOKED = "org:invitation:revoked"
    INVITATION_ACCEPTED = "org:invitation:accepted"
    KEY_ADDED = "org:key:added"
    KEY_REMOVED = "org:key:removed"


class ProjectTag(StrEnum):
    CREATED = "project:project:created"
    PACKAGE_ADDED = "project:package:added"
    PACKAGE_REMOVED = "project:package:removed"
    REDISTRIBUTOR_ADDED = "project:redistributor:added"
    REDISTRIBUTOR_REMOVED = "project:redistributor:removed"
    DIRECT_USE_CONFIRMED = "project:redistribution:none-confirmed"


class ChannelTag(StrEnum):
    CREATED = "channel:channel:created"
    POLICY_CHANGED = "channel:policy:changed"
    MEMBER_ADDED = "channel:member:added"
    MEMBER_REMOVED = "channel:member:removed"
    MAIL_CHANGED = "channel:mail:changed"
    PUBLIC_POSTED = "channel:post:published"
    # A list's earlier archive (an mbox) imported into its public archive: one event per
    # import, with the file's checksum and the counts, written with the first posts.
    ARCHIVE_IMPORTED = "channel:archive:imported"


class CaseTag(StrEnum):
    OPENED = "case:case:opened"
    PARTICIPANT_ADDED = "case:participant:added"
    PARTICIPANT_REMOVED = "case:participant:removed"
    CHANNEL_INVITED = "case:channel:invited"
    DATE_SET = "case:disclosure-date:set"
    # A coordinator set a date inside the list's minimum notice (an actively exploited issue).
    SHORT_EMBARGO_ALLOWED = "case:short-embargo:allowed"
    VULNERABILITY_ADDED = "case:vulnerability:added"
    VULNERABILITY_CHANGED = "case:vulnerability:changed"
    # What it said (title, affected, ...) is kept in the event's data.
    VULNERABILITY_DELETED = "case:vulnerability:deleted"
    STATUS_SET = "case:status:set"
    SEEN = "case:participant:seen"
    POST_ADDED = "case:post:added"
    POST_EDITED = "case:post:edited"  # the old text is kept in the event's data
    DATE_AGREED = "case:disclosure-date:agreed"
    DATE_CONFIRMED = "case:disclosure-date:confirmed"
    EXTENSION_REQUESTED = "case:extension:requested"
    EXTENSION_DECIDED = "case:extension:decided"
    BREACH_REPORTED = "case:breach:reported"
    BREACH_CONFIRMED = "case:breach:confirmed"
    BREACH_DISMISSED = "case:breach:dismissed"
    EARLY_RELEASE_RECORDED = "case:early-release:recorded"
    REMINDER_SENT = "case:reminder:sent"
    PUBLISHED = "case:case:published"
    REPORTER_POSTED = "case:public-post:confirmed"
    ADVISORY_DRAFTED = "case:advisory-draft:changed"


class ReportTag(StrEnum):
    SUBMITTED = "report:report:submitted"
    MESSAGE_ADDED = "report:message:added"
    ACCEPTED = "report:report:accepted"
    DECLINED = "report:report:declined"
    DUPLICATE = "report:report:marked-duplicate"
    SPAM = "report:report:marked-spam"
    # The batched mail of news to the reporter went (or, with nothing new, was dropped).
    NEWS_MAILED = "report:news:mailed"


class MailTag(StrEnum):
    RETRIED = "mail:outbound:retried"
    RETRIED_NOW = "mail:outbound:retried-now"  # a waiting copy attempted before its time
    DROPPED = "mail:outbound:dropped"
    CANCELLED = "mail:outbound:cancelled"  # its recipient left, or their account was closed
    BOUNCED = "mail:outbound:bounced"  # a delivery failure report held the copy
    RELEASED = "mail:inbound:released"
    DISCARDED = "mail:inbound:discarded"
    LIST_KEY_MADE = "mail:list-key:made"


class InstanceTag(StrEnum):
    RESTORED = "instance:backup:restored"


class CveTag(StrEnum):
    RESERVED = "cve:id:reserved"
    ASSIGNED = "cve:id:assigned"
    RECORD_HELD = "cve:record:held"
    PUBLISHED = "cve:record:published"
    REJECTED = "cve:id:rejected"
    RECORD_UPDATED = "cve:record:updated"
    PUBLISH_FAILED = "cve:record:failed"


AuditTag = (
    AccountTag
    | OrgTag
    | ProjectTag
    | ChannelTag
    | CaseTag
    | ReportTag
    | MailTag
    | CveTag
    | InstanceTag
)
