"""Second factors: who must have one, and whether this session proved one recently.

Policy. With `LOCKSTEP_REQUIRE_SECOND_FACTOR` on (production's default), an account needs a
second factor (TOTP or WebAuthn) when it can see embargoed material: an operator, or a member
of any organisation. Membership, not a case, is the test on purpose: an organisation is added
to a case under embargo at any moment, and its members read it at once, so a second factor
first demanded then would leave that case behind a password alone.

Re-authentication. The weightiest acts (confirming a breach, releasing early, an extension
beyond policy, creating an API token) need a second factor proven in this session within
`ACCOUNT_REAUTHENTICATION_TIMEOUT` seconds: at sign-in or on allauth's re-authentication
page. An account without a second factor (where none is required) re-enters its password.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.flows.reauthentication import suspend_request
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse

from lockstep.core.errors import PermissionDenied
from lockstep.orgs.models import Membership

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseRedirect

    from lockstep.accounts.models import User


class SecondFactorRequired(PermissionDenied):
    code = "second_factor_required"

    def __init__(self) -> None:
        super().__init__(
            "This account must have a second factor on this instance: add one at /2fa/ first."
        )


class ReauthenticationRequired(PermissionDenied):
    code = "reauthentication_required"

    def __init__(self) -> None:
        super().__init__(
            "This act needs a second factor proven in the last minutes: sign in again "
            "(/reauthenticate/) in this session, or use an API token with the needed scope."
        )


SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
MFA_METHOD = "mfa"
PASSWORD_METHOD = "password"  # noqa: S105 - the name of a sign-in method


def has_second_factor(user: User) -> bool:
    return bool(Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists())


def needs_second_factor(user: User) -> bool:
    """Whether this instance requires `user` to have a second factor (see the module's text)."""
    if not settings.LOCKSTEP_REQUIRE_SECOND_FACTOR:
        return False
    return user.is_staff or Membership.objects.filter(user_id=user.pk).exists()


def proven_since(records: list[dict[str, object]], *, method: str, since: float) -> bool:
    """Pure: whether the session's authentication records hold `method` at or after `since`."""
    for record in records:
        at = record.get("at")
        if record.get("method") == method and isinstance(at, int | float) and at >= since:
            return True
    return False


def recently_proven(request: HttpRequest, user: User) -> bool:
    """A second factor (or, for an account without one, the password) within the timeout."""
    method = MFA_METHOD if has_second_factor(user) else PASSWORD_METHOD
    since = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    return proven_since(get_authentication_records(request, user), method=method, since=since)


def reauthenticate(request: HttpRequest, user: User) -> HttpResponseRedirect:
    """Keep this request (a POST's form too) and send the person to prove themselves; allauth
    replays the request once they have."""
    page = "mfa_reauthenticate" if has_second_factor(user) else "account_reauthenticate"
    answer: HttpResponseRedirect = suspend_request(request, reverse(page))
    return answer


def check_second_factor_kept(user: User) -> None:
    """Raise SecondFactorRequired for an account that needs a second factor and has none."""
    if needs_second_factor(user) and not has_second_factor(user):
        raise SecondFactorRequired
