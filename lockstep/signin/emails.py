"""The mail signing in sends: the lockout notice to an account's owner, and allauth's own
mail (passwords, addresses), which allauth renders from its templates (`web/templates/
account/email/`) and Lockstep queues through the outbox like any other."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from lockstep.accounts.models import User
from lockstep.core.links import absolute
from lockstep.mailgw.outbound.outbox import MailSpec
from lockstep.mailgw.outbound.templates import render_mail

AUTO = {"Auto-Submitted": "auto-generated"}


def lockout_mail(user: User, *, client: str, at: datetime) -> MailSpec:
    """Sign-ins to the account are refused for a while after too many wrong passwords."""
    subject, body = render_mail(
        "signin-lockout",
        {
            "name": user.name,
            "email": user.email,
            "instance": settings.LOCKSTEP_INSTANCE_NAME,
            "client": client,
            "at": f"{at:%Y-%m-%d %H:%M} UTC",
            "reset_url": absolute(reverse("account_reset_password")),
            "security_url": absolute(reverse("web:security")),
        },
    )
    return MailSpec(subject=subject, body=body, headers=dict(AUTO), confidential=False)


def account_mail(subject: str, body: str) -> MailSpec:
    """A message allauth rendered (its templates, its words): nothing confidential."""
    return MailSpec(subject=subject, body=body, headers=dict(AUTO), confidential=False)
