"""The mail to an account's owner when its sign-ins are refused after too many failures."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from lockstep.accounts.models import User
from lockstep.core.links import absolute
from lockstep.mailgw.outbound.outbox import MailSpec


def lockout_mail(user: User, *, client: str, at: datetime) -> MailSpec:
    body = (
        f"Hello {user.name},\n\n"
        f"Sign-ins to your {settings.LOCKSTEP_INSTANCE_NAME} account ({user.email}) are being "
        f"refused for a while: there were too many wrong passwords, the last from {client} "
        f"at {at:%Y-%m-%d %H:%M} UTC.\n\n"
        "If that was you, wait a few minutes and try again, or reset your password:\n"
        f"{absolute(reverse('account_reset_password'))}\n\n"
        "If it was not you, somebody is guessing your password. Your account is safe while "
        "the password is strong and a second factor is set up; check both here:\n"
        f"{absolute(reverse('web:security'))}\n"
    )
    return MailSpec(
        subject=f"Sign-ins to your {settings.LOCKSTEP_INSTANCE_NAME} account were refused",
        body=body,
        headers={"Auto-Submitted": "auto-generated"},
        confidential=False,
    )
