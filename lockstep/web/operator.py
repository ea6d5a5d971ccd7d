"""Operators' page of accounts: every account, with deactivate and reactivate. It does not
exist for anyone else (404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lockstep.accounts.actions import do_deactivate_user, do_reactivate_user
from lockstep.accounts.queries import access_account_by_id, list_accounts_for
from lockstep.core.actor import from_request
from lockstep.core.errors import Conflict, PermissionDenied
from lockstep.web.errors import domain_errors

SHOWN = 500


@login_required
@require_GET
@domain_errors
def accounts(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    users = list_accounts_for(actor)
    context = {"accounts": users[:SHOWN], "total": users.count(), "me": actor.user_id}
    return render(request, "web/operator/accounts.html", context)


@login_required
@require_POST
@domain_errors
def deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = from_request(request)
    user = access_account_by_id(actor, user_id)
    try:
        do_deactivate_user(user, actor=actor)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{user.email} is deactivated: logged out everywhere.")
    return redirect("web:operator-accounts")


@login_required
@require_POST
@domain_errors
def reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = from_request(request)
    user = access_account_by_id(actor, user_id)
    try:
        do_reactivate_user(user, actor=actor)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{user.email} is active again.")
    return redirect("web:operator-accounts")
