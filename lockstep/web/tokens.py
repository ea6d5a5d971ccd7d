"""The "API tokens" page: list my tokens, create one (shown once), revoke one.

The form asks for the scopes (read is ticked to begin with) and a lifetime (90 days unless
chosen otherwise); whether the scopes go together is the action's to say (accounts/scopes.py).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from lockstep.accounts.models import ApiToken, User
from lockstep.accounts.queries import access_user_by_id
from lockstep.accounts.scopes import DEFAULT_SCOPES, SCOPE_HELP, Scope
from lockstep.accounts.tokens import (
    DEFAULT_LIFETIME_DAYS,
    LIFETIME_CHOICES_DAYS,
    NAME_MAX_LENGTH,
    access_api_token_by_id,
    check_token_creation_rate,
    do_create_api_token,
    do_revoke_api_token,
    list_tokens_for,
)
from lockstep.core import clock
from lockstep.core.actor import Actor, from_request
from lockstep.core.errors import LockstepError, NotFound
from lockstep.signin.second_factor import reauthenticate, recently_proven
from lockstep.web.errors import domain_errors


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        help_text="What the token is for, for example “CI on build01”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=[(scope.value, f"{scope.value}: {SCOPE_HELP[scope]}") for scope in Scope],
        initial=sorted(DEFAULT_SCOPES),
        widget=forms.CheckboxSelectMultiple,
        help_text="Give it only what the script needs. write and publish need read too.",
        error_messages={"required": "Choose at least one scope (read)."},
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        choices=[(days, f"{days} days") for days in LIFETIME_CHOICES_DAYS],
        coerce=int,
        initial=DEFAULT_LIFETIME_DAYS,
        help_text="It stops working then; make a new one to go on.",
    )


class TokenRevokeForm(forms.Form):
    revoke = forms.IntegerField(min_value=1)


def _revoke(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = TokenRevokeForm(request.POST)
    if not form.is_valid():
        raise NotFound("No such API token.")
    token = do_revoke_api_token(
        access_api_token_by_id(actor, form.cleaned_data["revoke"]), actor=actor
    )
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked.")
    return redirect("web:tokens")


def _create(form: TokenCreateForm, user: User, actor: Actor) -> tuple[ApiToken, str] | None:
    """The new token and its plaintext; None, with the refusal on the form, if refused."""
    try:
        check_token_creation_rate(actor, now=clock.now())
        return do_create_api_token(
            user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["expires_in_days"],
            actor=actor,
        )
    except LockstepError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None


@login_required
@never_cache  # the page may hold a plaintext token: no cache may keep it
@require_http_methods(["GET", "POST"])
@domain_errors
def my_tokens(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    user = access_user_by_id(actor, actor.user_id)
    if "revoke" in request.POST:
        return _revoke(request, actor)
    form = TokenCreateForm(request.POST or None)
    created = None
    if form.is_bound and form.is_valid():
        if not recently_proven(request, user):  # a new credential: prove yourself anew
            return reauthenticate(request, user)
        created = _create(form, user, actor)
        if created is not None:
            form = TokenCreateForm()
    context = {"form": form, "tokens": list_tokens_for(actor), "created": created}
    return render(request, "web/tokens.html", context, status=400 if form.errors else 200)
