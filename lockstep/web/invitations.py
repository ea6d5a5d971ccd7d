"""The page an invitation's link opens (no login needed to see it).

Nobody has an account for the invited address yet: the page asks for a name and a password,
makes the account, joins the organisation and logs the person in. Someone has: they must be
logged in with that address (the page sends them to log in and back), then accept with a
button. A used, revoked, expired or unknown link gets one page, "no longer valid" (404).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from typing_extensions import override

from lockstep.accounts.models import User
from lockstep.accounts.queries import account_exists
from lockstep.core import clock
from lockstep.core.actor import from_request
from lockstep.core.errors import Conflict, NotFound, ValidationError
from lockstep.orgs.invitations import NewAccount, do_accept_invitation
from lockstep.orgs.models import Invitation, Role
from lockstep.orgs.queries import access_invitation_by_token
from lockstep.web.errors import domain_errors


class NewAccountForm(forms.Form):
    display_name = forms.CharField(
        label="Your name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    @override
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned


def _render(
    request: HttpRequest, template: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The token is in this page's address: other sites get no Referer, while the page's own
    # form still sends a real Origin (with no-referrer a browser posts `Origin: null`, which
    # Django's CSRF check refuses).
    response["Referrer-Policy"] = "same-origin"
    return response


def _invalid(request: HttpRequest) -> HttpResponse:
    return _render(request, "web/invitations/invalid.html", {}, status=404)


@never_cache
@require_http_methods(["GET", "POST"])
@domain_errors
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """A link found spent, here or by the action (used a moment ago), gets the one page."""
    try:
        return _answer(request, token)
    except NotFound:
        return _invalid(request)


def _answer(request: HttpRequest, token: str) -> HttpResponse:
    found = access_invitation_by_token(token, now=clock.now())
    context = {"invitation": found, "role": Role(found.role).label.lower()}
    if account_exists(found.email):
        return _existing_account(request, found, context)
    return _new_account(request, found, context)


def _existing_account(
    request: HttpRequest, found: Invitation, context: dict[str, object]
) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        query = urlencode({"next": request.path})
        context["login_url"] = f"{resolve_url(settings.LOGIN_URL)}?{query}"
        return _render(request, "web/invitations/log_in.html", context)
    if user.email.lower() != found.email.lower():
        return _render(request, "web/invitations/wrong_account.html", context, status=403)
    if request.method != "POST":
        return _render(request, "web/invitations/accept.html", context)
    try:
        membership = do_accept_invitation(found, actor=from_request(request))
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("web:home")
    messages.success(request, f"You are now a member of {membership.org.name}.")
    return redirect("web:org", slug=membership.org.slug)


def _new_account(
    request: HttpRequest, found: Invitation, context: dict[str, object]
) -> HttpResponse:
    form = NewAccountForm(request.POST or None)
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        account = NewAccount(form.cleaned_data["display_name"], form.cleaned_data["password"])
        try:
            membership = do_accept_invitation(
                found, actor=from_request(request), new_account=account
            )
        except (ValidationError, Conflict) as exc:
            form.add_error("password" if exc.field == "password" else None, exc.message)
        else:
            # The account's first session, made by the configured backend so that it holds.
            login(request, membership.user, backend=settings.AUTHENTICATION_BACKENDS[0])
            messages.success(request, f"Welcome: you are now a member of {membership.org.name}.")
            return redirect("web:home")
    status = 400 if form.errors else 200
    return _render(request, "web/invitations/new_account.html", context, status=status)
