"""The mail organisations send: the invitation to join one."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from lockstep.mailgw.outbound.outbox import MailSpec
from lockstep.mailgw.outbound.templates import render_mail
from lockstep.orgs.models import Organization


def invitation(
    org: Organization, *, role_label: str, invited_by: str, url: str, expires_at: datetime
) -> MailSpec:
    """`invited_by`: the inviting administrator's address ("" for Lockstep's own command line).
    Nothing embargoed: clear text. The link is the invitee's key, so it goes to the invited
    address alone and nobody else ever sees it (not the administrator who sent it)."""
    subject, body = render_mail(
        "org-invitation",
        {
            "org": org.name,
            "instance": settings.LOCKSTEP_INSTANCE_NAME,
            "invited_by": invited_by,
            "role": role_label.lower(),
            "url": url,
            "expires_at": f"{expires_at:%Y-%m-%d %H:%M} UTC",
        },
    )
    return MailSpec(
        subject=subject,
        body=body,
        headers={"Auto-Submitted": "auto-generated"},
        confidential=False,
    )
