"""Signing in (allauth's page, answering 429 once failures are being refused) and the
"Security" page: one's sessions, second factors, password and API tokens."""

from __future__ import annotations

from allauth.account.views import LoginView
from allauth.core.internal.ratelimit import parse_rates
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from typing_extensions import override

from lockstep.accounts.queries import access_user_by_id, instance_has_users
from lockstep.accounts.sessions import sessions_of
from lockstep.accounts.tokens import list_tokens_for
from lockstep.core.actor import from_request
from lockstep.signin.actions import do_end_session, do_end_sessions
from lockstep.signin.second_factor import has_second_factor, needs_second_factor
from lockstep.web.errors import domain_errors

REFUSED = "too_many_login_attempts"


def refusal_seconds() -> int:
    """How long a refused sign-in should wait: the longest window of the failure limits."""
    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS.get("login_failed"))
    return max((int(rate.duration) for rate in rates), default=60)


class SigninView(LoginView):
    """allauth's sign-in page; a refusal for too many failures is a 429 with Retry-After."""

    @override
    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context: dict[str, object] = super().get_context_data(**kwargs)
        context["first_run"] = not instance_has_users()
        return context

    @override
    def form_invalid(self, form: forms.Form) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)
        codes = {error.code for errors in form.errors.as_data().values() for error in errors}
        if REFUSED in codes:
            response.status_code = 429
            response["Retry-After"] = str(refusal_seconds())
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
