"""Lockstep's own mail addresses, and which of them a recipient address is.

    security-<project>@<domain>        a project's security contact: mail becomes a report
    case-<id>-<user>-<tag>@<domain>    a case, as issued to one member: their mail becomes a post
    case-<id>-<tag>@<domain>           a case's shared address (older copies): mail is held
    <channel>@<domain>                 a channel's own address
    bounce-<outbox id>-<tag>@<domain>  the envelope sender of each copy (VERP), for bounces

<tag> is an HMAC of the kind and number under the instance's secret key, so nobody outside
can write to a case or forge a bounce by guessing a number. Each member's copies of a case's
mail carry that member's own case address, so an address that leaks (every relay on the way
sees it) or that a removed participant kept speaks only for its member, and only while they
take part.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

_TAG_HEX = 12
_SLUG = r"[a-z0-9][a-z0-9-]{0,63}"
_PATTERNS = (
    ("report", re.compile(rf"security-(?P<value>{_SLUG})")),
    (
        "case",
        re.compile(r"case-(?P<value>[0-9]{1,18})-(?P<member>[0-9]{1,18})-(?P<tag>[0-9a-f]+)"),
    ),
    ("case", re.compile(r"case-(?P<value>[0-9]{1,18})-(?P<tag>[0-9a-f]+)")),
    ("bounce", re.compile(r"bounce-(?P<value>[0-9]{1,18})-(?P<tag>[0-9a-f]+)")),
    ("postmaster", re.compile(r"(?P<value>postmaster|abuse)")),  # RFC 5321 4.5.1, RFC 2142
    ("channel", re.compile(rf"(?P<value>{_SLUG})")),
)


class AddressKind(StrEnum):
    REPORT = "report"
    CASE = "case"
    BOUNCE = "bounce"
    POSTMASTER = "postmaster"  # postmaster@ and abuse@: held for the operators
    CHANNEL = "channel"


@dataclass(frozen=True)
class Address:
    kind: AddressKind
    value: str  # a project or channel slug, or a case or outbox number
    member: int | None = None  # a case address issued to one member: their user id


def _tag(kind: str, value: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:_TAG_HEX]


def _domain() -> str:
    return str(settings.LOCKSTEP_MAIL_DOMAIN).lower()


def report_address(project_slug: str) -> str:
    return f"security-{project_slug}@{_domain()}"


def case_address(case_id: int) -> str:
    return f"case-{case_id}-{_tag('case', str(case_id))}@{_domain()}"


def case_member_address(case_id: int, user_id: int) -> str:
    """The case's address as issued to one member: only their mail to it can become a post."""
    value = f"{case_id}-{user_id}"
    return f"case-{value}-{_tag('case', value)}@{_domain()}"


def bounce_address(outbox_id: int) -> str:
    return f"bounce-{outbox_id}-{_tag('bounce', str(outbox_id))}@{_domain()}"


def channel_address(channel_slug: str) -> str:
    return f"{channel_slug}@{_domain()}"


def parse_address(address: str) -> Address | None:
    """Which of our addresses `address` is, or None (another domain, a bad tag, unknown)."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if domain != _domain() or not local:
        return None
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(local)
        if match is None:
            continue
        value, member = match.group("value"), match.groupdict().get("member")
        signed = f"{value}-{member}" if member is not None else value
        tag = match.groupdict().get("tag")
        if tag is not None and not hmac.compare_digest(tag, _tag(kind, signed)):
            return None
        return Address(AddressKind(kind), value, int(member) if member is not None else None)
    return None
