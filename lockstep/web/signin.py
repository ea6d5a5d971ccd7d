"""Signing in (allauth's page, answering 429 once failures are being refused, with a button
for each single sign-on provider) and the "Security" page: one's sessions, second factors,
password and API tokens."""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView
from allauth.core.internal.ratelimit import parse_rates
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from requests import RequestException
from typing_extensions import override

from lockstep.accounts.queries import access_user_by_id, instance_has_users
from lockstep.accounts.sessions import sessions_of
from lockstep.accounts.tokens import list_tokens_for
from lockstep.core.actor import from_request
from lockstep.signin.actions import do_end_session, do_end_sessions
from lockstep.signin.second_factor import has_second_factor, needs_second_factor
from lockstep.signin.sso import form_action_origins
from lockstep.web.errors import domain_errors

REFUSED = "too_many_login_attempts"


def refusal_seconds() -> int:
    """How long a refused sign-in should wait: the longest window of the failure limits."""
    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS.get("login_failed"))
    return max((int(rate.duration) for rate in rates), default=60)


def sso_providers(request: HttpRequest) -> list[Any]:
    """The single sign-on providers configured (LOCKSTEP_OIDC_PROVIDERS), as allauth's."""
    return list(get_social_adapter(request).list_providers(request))


def let_forms_reach_providers(request: HttpRequest, response: HttpResponseBase) -> None:
    """A sign-in form posts to Lockstep, which answers with a redirect to the provider: the
    page's Content-Security-Policy (`form-action`) must let the browser follow it there."""
    origins = form_action_origins(p.app.settings for p in sso_providers(request))
    if origins:
        # django-csp reads this attribute (its `csp_update` decorator sets it the same way).
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]  # noqa: SLF001


class SigninView(LoginView):
    """allauth's sign-in page; a refusal for too many failures is a 429 with Retry-After."""

    @override
    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context: dict[str, object] = super().get_context_data(**kwargs)
        context["first_run"] = not instance_has_users()
        context["sso_providers"] = [
            {"name": provider.name, "url": provider.get_login_url(self.request)}
            for provider in sso_providers(self.request)
        ]
        return context

    @override
    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().render_to_response(context, **kwargs)
        let_forms_reach_providers(self.request, response)
        return response

    @override
    def form_invalid(self, form: forms.Form) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)
        codes = {error.code for errors in form.errors.as_data().values() for error in errors}
        if REFUSED in codes:
            response.status_code = 429
            response["Retry-After"] = str(refusal_seconds())
        return response


def sso_login(request: HttpRequest, provider_id: str) -> HttpResponseBase:
    """allauth's start of a single sign-on (a POST from the sign-in page's button, or its own
    "Continue" page): a provider that cannot be reached gets a page, not a server error."""
    try:
        response: HttpResponseBase = oidc_views.login(request, provider_id)
    except RequestException:
        context = {
            "explanation": "The identity provider cannot be reached just now. Try again "
            "later, or log in with your e-mail address and password."
        }
        return render(request, "socialaccount/refused.html", context, status=502)
    let_forms_reach_providers(request, response)
    return response


class EndSessionForm(forms.Form):
    session = forms.IntegerField(min_value=1, required=False)
    others = forms.BooleanField(required=False)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@domain_errors
def security(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    user = access_user_by_id(actor, actor.user_id)
    current = request.session.session_key
    if request.method == "POST":
        form = EndSessionForm(request.POST)
        if form.is_valid() and form.cleaned_data["others"]:
            ended = do_end_sessions(user, keep=current, actor=actor, reason="ended by its owner")
            messages.success(request, f"{ended} other session(s) ended.")
        elif form.is_valid() and form.cleaned_data["session"]:
            do_end_session(user, session_id=form.cleaned_data["session"], actor=actor)
            messages.success(request, "Session ended.")
        return redirect("web:security")
    context = {
        "sessions": list(sessions_of(user.pk)),
        "current_key": current,
        "tokens": list_tokens_for(actor),
        "has_second_factor": has_second_factor(user),
        "needs_second_factor": needs_second_factor(user),
        "idle_hours": settings.LOCKSTEP_SESSION_IDLE_SECONDS // 3600,
        "max_days": settings.LOCKSTEP_SESSION_MAX_SECONDS // 86400,
    }
    return render(request, "web/security.html", context)
