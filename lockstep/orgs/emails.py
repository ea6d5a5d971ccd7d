"""The mail organisations send: the invitation to join one."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from lockstep.mailgw.outbound.outbox import MailSpec
from lockstep.orgs.models import Organization


def invitation(
    org: Organization, *, role_label: str, invited_by: str, url: str, expires_at: datetime
) -> MailSpec:
    """`invited_by`: the inviting administrator's address ("" for Lockstep's own command line).
    Nothing embargoed: clear text. The link is the invitee's key, so it goes to the invited
    address alone and nobody else ever sees it (not the administrator who sent it)."""
    instance = settings.LOCKSTEP_INSTANCE_NAME
    who = invited_by or f"An operator of {instance}"
    body = (
        f"{who} invites you to join {org.name} on {instance}, where vulnerabilities are "
        f"disclosed in coordination, as {role_label.lower()}.\n\n"
        f"Accept the invitation here (keep this link to yourself):\n{url}\n\n"
        f"The link works once, until {expires_at:%Y-%m-%d %H:%M} UTC. If you did not expect "
        "this invitation, ignore this message: nothing happens unless you follow the link.\n"
    )
    return MailSpec(
        subject=f"Invitation to join {org.name} on {instance}",
        body=body,
        headers={"Auto-Submitted": "auto-generated"},
        confidential=False,
    )
