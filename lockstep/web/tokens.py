"""The "API tokens" page: list my tokens, create one (shown once), revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from lockstep.accounts.queries import access_user_by_id
from lockstep.accounts.tokens import (
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
from lockstep.web.errors import domain_errors


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        help_text="What the token is for, for example “CI on build01”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
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
        try:
            check_token_creation_rate(actor, now=clock.now())
            created = do_create_api_token(user, name=form.cleaned_data["name"], actor=actor)
        except LockstepError as exc:
            form.add_error("name", exc.message)
        else:
            form = TokenCreateForm()
    context = {"form": form, "tokens": list_tokens_for(actor), "created": created}
    return render(request, "web/tokens.html", context, status=400 if form.errors else 200)
