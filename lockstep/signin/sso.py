"""Single sign-on by OpenID Connect: whom an identity provider may sign in (nobody new).

allauth's `socialaccount` speaks the protocol: discovery, `state` and PKCE (S256), the code
exchange with the client secret, the ID token's issuer, audience and expiry, the userinfo
request. What the provider's answer is worth is decided here, for
`SocialAccountAdapter.pre_social_login`:

- Nobody signs up. The provider's *verified* address (`email_verified` true) must be the
  address of an existing, active account; anything else is refused, with a page that says why
  and an audit event (`account:sso:refused`), and no account is made.
- The first sign-in connects the provider's identity (its `sub`) to that account, audited
  (`account:sso:connected`) and told to the owner by mail. From then on only that identity signs
  in to the account from that provider, and only while its verified address is the account's: an
  address the provider hands to someone else later (a new `sub`) signs in nobody.
- The answer must hang together: the ID token's issuer is the configured one (allauth holds it
  to the discovery document, this to the configuration), and the userinfo's `sub` is the ID
  token's (OpenID Connect Core 1.0, 5.3.2).
- Only signing in is offered. allauth's "connect" process (a signed-in person adding an
  identity) is refused, so an identity joins an account by the address rule alone.

allauth's own matching by address (`SOCIALACCOUNT_EMAIL_AUTHENTICATION`) stays off: it would
also wipe the password of an account without a verified `EmailAddress` row, which is every
Lockstep account. The second factor stays Lockstep's own: allauth's MFA stage asks an account
that has one for it after the provider, and one that must have one and has none is sent to set
one up (lockstep.signin.middleware), exactly as after a password.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from allauth.socialaccount.models import SocialAccount

from lockstep.accounts.models import User

LOGIN_PROCESS = "login"
SOCIAL_METHOD = "socialaccount"  # allauth's name, in the session's authentication records


class Refusal(StrEnum):
    NOT_OFFERED = "not-offered"
    INCONSISTENT = "inconsistent-answer"
    UNVERIFIED = "unverified-address"
    NO_ACCOUNT = "no-account"
    INACTIVE = "inactive-account"
    OTHER_IDENTITY = "other-identity"
    ADDRESS_DIFFERS = "address-differs"


# What the refusal page says (to the person who just proved the address at their provider).
EXPLANATIONS = {
    Refusal.NOT_OFFERED: "Single sign-on only signs in here; it connects to an account by "
    "itself, the first time its address matches.",
    Refusal.INCONSISTENT: "The identity provider's answer did not hang together (its issuer or "
    "subject did not match), so it was not trusted.",
    Refusal.UNVERIFIED: "The identity provider did not say that it has verified your e-mail "
    "address, so it cannot stand for an account here.",
    Refusal.NO_ACCOUNT: "No account here has the e-mail address your identity provider gave. "
    "Single sign-on does not create accounts: an operator or an invitation does.",
    Refusal.INACTIVE: "The account with this e-mail address is deactivated.",
    Refusal.OTHER_IDENTITY: "The account with this e-mail address is already connected to "
    "another identity at this provider.",
    Refusal.ADDRESS_DIFFERS: "The e-mail address your identity provider gave is no longer the "
    "address of the account this identity is connected to.",
}


class SsoRefused(Exception):
    def __init__(self, reason: Refusal, user: User | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.user = user  # the account the attempt named, if any (for the audit event)


@dataclass(frozen=True)
class Admission:
    user: User
    connect: bool  # the identity is new to the account: connect it first


def method_label(provider_id: str) -> str:
    """How a sign-in through this provider is named in the audit log."""
    return f"oidc:{provider_id}"


def admit(
    *,
    process: str,
    provider_id: str,
    issuer: str,
    extra_data: Mapping[str, object],
    connected: User | None,
) -> Admission:
    """The account a provider's answer signs in to, or SsoRefused (see the module's text).

    `connected` is the account the identity is already connected to, if it is."""
    if process != LOGIN_PROCESS:
        raise SsoRefused(Refusal.NOT_OFFERED, connected)
    address = verified_address(extra_data, issuer=issuer)
    if connected is not None:
        if not connected.is_active:
            raise SsoRefused(Refusal.INACTIVE, connected)
        if connected.email.lower() != address:
            raise SsoRefused(Refusal.ADDRESS_DIFFERS, connected)
        return Admission(connected, connect=False)
    user = User.objects.filter(email__iexact=address).first()
    if user is None:
        raise SsoRefused(Refusal.NO_ACCOUNT)
    if not user.is_active:
        raise SsoRefused(Refusal.INACTIVE, user)
    if SocialAccount.objects.filter(user_id=user.pk, provider=provider_id).exists():
        raise SsoRefused(Refusal.OTHER_IDENTITY, user)
    return Admission(user, connect=True)


def verified_address(extra_data: Mapping[str, object], *, issuer: str) -> str:
    """Pure: the address the provider vouches for, in lower case, or SsoRefused.

    `extra_data` is what allauth keeps of the answer: the ID token's claims and, when it asked,
    the userinfo. The claims are read where allauth reads them (the userinfo first)."""
    id_token = extra_data.get("id_token")
    userinfo = extra_data.get("userinfo")
    if not isinstance(id_token, Mapping) or _issuer(id_token.get("iss")) != _issuer(issuer):
        raise SsoRefused(Refusal.INCONSISTENT)
    claims = userinfo if isinstance(userinfo, Mapping) and userinfo else id_token
    subject = id_token.get("sub")
    if not isinstance(subject, str) or not subject or claims.get("sub") != subject:
        raise SsoRefused(Refusal.INCONSISTENT)
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or not _true(claims.get("email_verified")):
        raise SsoRefused(Refusal.UNVERIFIED)
    return email.strip().lower()


def _issuer(value: object) -> str:
    return value.rstrip("/") if isinstance(value, str) else ""


def _true(value: object) -> bool:
    """`email_verified` is a JSON boolean; a few providers send the string "true" in userinfo.
    Anything else (a missing claim, "false", 1) is not a yes."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def form_action_origins(app_settings: Iterable[Mapping[str, object]]) -> list[str]:
    """Pure: where the sign-in page's forms may lead, beyond Lockstep: each provider's issuer
    origin (and `authorization_origin`, when its authorization endpoint lives elsewhere)."""
    origins: list[str] = []
    for settings in app_settings:
        for url in (settings.get("server_url"), settings.get("authorization_origin")):
            if isinstance(url, str) and url:
                parts = urlsplit(url)
                origin = f"{parts.scheme}://{parts.netloc}"
                if origin not in origins:
                    origins.append(origin)
    return origins
