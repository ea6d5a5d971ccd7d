"""django-allauth's adapters, bent to Lockstep's rules.

* Nobody signs up: accounts come from operators and invitations.
* A password is set through `do_set_password` (validated, audited).
* Account mail (password reset, "your password changed", …) goes through Lockstep's outbox
  like every other message: stored first, retried, visible on /outbox/. Its links use
  `LOCKSTEP_BASE_URL`, never the request's Host header.
* The client address is the one Lockstep trusts everywhere (`LOCKSTEP_TRUSTED_PROXIES`).
* An account whose sign-ins are being refused for too many failures: its owner is told by
  mail, at most once an hour.
* Single sign-on (OpenID Connect) signs in only an existing, active account whose address is
  the provider's verified address (lockstep.signin.sso), and only through providers configured
  by environment; everything else gets a page that says why, and an audit event.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.db import transaction
from django.forms import ValidationError
from django.http import HttpRequest
from django.shortcuts import render
from django.urls import reverse
from typing_extensions import override

from lockstep.accounts.actions import do_set_password
from lockstep.accounts.models import User
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import RateLimited
from lockstep.core.links import absolute
from lockstep.mailgw.outbound.outbox import Recipient, fan_out
from lockstep.ops.client import client_address
from lockstep.ops.ratelimit import check_rate
from lockstep.signin.actions import (
    do_connect_sso_identity,
    do_note_sign_in_refused,
    do_note_sso_refused,
)
from lockstep.signin.emails import account_mail, lockout_mail
from lockstep.signin.middleware import SIGNED_IN_AT
from lockstep.signin.sso import EXPLANATIONS, SsoRefused, admit

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    @override
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    @override
    def set_password(self, user: Any, password: str) -> None:
        actor = Actor.for_user(user)
        do_set_password(user, password=password, actor=actor)

    @override
    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Not within the re-authentication timeout of signing in: a person made to add a
        second factor right after logging in is not asked for the password again."""
        signed_in = self.request.session.get(SIGNED_IN_AT)
        timeout = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
        if isinstance(signed_in, int | float) and time.time() - signed_in < timeout:
            return False
        return bool(super().is_reauthentication_required(app=app, **kwargs))

    @override
    def get_client_ip(self, request: HttpRequest) -> str:
        return client_address(request)

    @override
    def get_reset_password_from_key_url(self, key: str) -> str:
        # allauth's own way to put its opaque key into the path (uidb36-key).
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return absolute(path.replace("UID-KEY", quote(key)))

    @override
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context = {
            **context,
            "email": email,
            "instance_name": settings.LOCKSTEP_INSTANCE_NAME,
            "base_url": absolute("/"),
        }
        message = self.render_mail(template_prefix, email, context)
        spec = account_mail(str(message.subject), str(message.body))
        with transaction.atomic():
            fan_out(spec, [Recipient(email)])

    @override
    def send_notification_mail(
        self,
        template_prefix: str,
        user: Any,
        context: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> None:
        # Lockstep's accounts have their address on the user, not always an EmailAddress row.
        super().send_notification_mail(template_prefix, user, context, email or user.email)

    @override
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            self._tell_owner_of_lockout(request, str(credentials.get("email") or ""))
            raise

    def _tell_owner_of_lockout(self, request: HttpRequest, email: str) -> None:
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            return
        now = clock.now()
        try:
            check_rate(
                f"signin:lockout-mail:{user.pk}",
                limit=1,
                window_seconds=settings.LOCKSTEP_LOCKOUT_MAIL_SECONDS,
                now=now,
            )
        except RateLimited:
            return
        client = client_address(request)
        with transaction.atomic():
            fan_out(lockout_mail(user, client=client, at=now), [Recipient(user.email)])
            do_note_sign_in_refused(user, client=client)


class MFAAdapter(DefaultMFAAdapter):
    @override
    def get_totp_issuer(self) -> str:
        return str(settings.LOCKSTEP_INSTANCE_NAME)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    @override
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    @override
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[Any]:
        """The providers in the settings (LOCKSTEP_OIDC_PROVIDERS) alone: a SocialApp row in
        the database, which no page of Lockstep makes, is not one."""
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        return [app for app in apps if app.pk is None]

    @override
    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        """Sign in an existing account by the provider's verified address, connecting the
        identity at its first use; refuse anything else with a page (lockstep.signin.sso)."""
        account, provider = sociallogin.account, sociallogin.provider
        connected = sociallogin.user if sociallogin.is_existing else None
        client = client_address(request)
        try:
            admission = admit(
                process=str(sociallogin.state.get("process") or ""),
                provider_id=account.provider,
                issuer=str(provider.app.settings.get("server_url") or ""),
                extra_data=account.extra_data or {},
                connected=connected if isinstance(connected, User) else None,
            )
        except SsoRefused as refused:
            do_note_sso_refused(
                refused.user,
                provider=account.provider,
                subject=account.uid,
                reason=refused.reason.value,
                client=client,
            )
            context = {"provider_name": provider.name, "explanation": EXPLANATIONS[refused.reason]}
            page = render(request, "socialaccount/refused.html", context, status=403)
            raise ImmediateHttpResponse(page) from None
        if admission.connect:
            do_connect_sso_identity(admission.user, account=account, client=client)
            sociallogin.user = admission.user
            self.send_notification_mail(
                "socialaccount/email/account_connected",
                admission.user,
                context={"account": account, "provider": provider.name},
            )

    @override
    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: BaseException | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        """allauth shows its error page; the operator gets the reason in the log."""
        logger.warning(
            "single sign-on through %s failed: %s %s", provider.sub_id, error, exception or ""
        )
