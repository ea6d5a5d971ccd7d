"""An organisation's page: its members and keys for everyone in it; for its administrators
(and operators) also the forms to invite, change roles, remove members and revoke pending
invitations. Other members see the same lists read-only; a write they try is a 403, and
an outsider's request for any of it a 404."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lockstep.cases.actions.members import do_remove_member
from lockstep.core import clock
from lockstep.core.actor import Actor, from_request
from lockstep.core.errors import Conflict, RateLimited, ValidationError
from lockstep.orgs.actions import do_change_member_role, require_admin
from lockstep.orgs.invitations import check_invitation_rate, do_invite_member, do_revoke_invitation
from lockstep.orgs.models import Organization, Role
from lockstep.orgs.queries import (
    access_invitation_by_id,
    access_membership,
    access_org_by_slug,
    is_org_admin,
    list_pending_invitations,
    org_with_members,
)
from lockstep.web.errors import domain_errors


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


def _page(
    request: HttpRequest, actor: Actor, org: Organization, form: InviteForm, status: int = 200
) -> HttpResponse:
    admin = is_org_admin(actor, org)
    context = {
        "org": org_with_members(org),
        "is_admin": admin,
        "invitations": list_pending_invitations(org, now=clock.now()) if admin else [],
        "form": form,
        "roles": Role.choices,
    }
    return render(request, "web/org_detail.html", context, status=status)


@login_required
@require_GET
@domain_errors
def org_detail(request: HttpRequest, slug: str) -> HttpResponse:
    actor = from_request(request)
    return _page(request, actor, access_org_by_slug(actor, slug), InviteForm())


@login_required
@require_POST
@domain_errors
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    actor = from_request(request)
    org = access_org_by_slug(actor, slug)
    require_admin(actor, org)  # before the rate limit: only administrators spend it
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _page(request, actor, org, form, status=400)
    try:
        check_invitation_rate(org, now=clock.now())
        sent = do_invite_member(
            org, email=form.cleaned_data["email"], role=Role(form.cleaned_data["role"]), actor=actor
        )
    except RateLimited as exc:
        form.add_error("email", f"{exc.message} Try again in {exc.retry_after} seconds.")
        return _page(request, actor, org, form, status=429)
    except (ValidationError, Conflict) as exc:
        form.add_error("email", exc.message)
        return _page(request, actor, org, form, status=400)
    messages.success(request, f"Invitation sent to {sent.invitation.email}.")
    return redirect("web:org", slug=org.slug)


@login_required
@require_POST
@domain_errors
def change_role(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    actor = from_request(request)
    org = access_org_by_slug(actor, slug)
    membership = access_membership(org, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return redirect("web:org", slug=org.slug)
    role = Role(form.cleaned_data["role"])
    try:
        do_change_member_role(membership, role=role, actor=actor)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.user.email} is now {role.label.lower()}.")
    return redirect("web:org", slug=org.slug)


@login_required
@require_POST
@domain_errors
def remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    actor = from_request(request)
    org = access_org_by_slug(actor, slug)
    membership = access_membership(org, user_id)
    try:
        removal = do_remove_member(membership, actor=actor)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("web:org", slug=org.slug)
    if removal.user_id != actor.user_id:
        messages.success(request, f"{removal.email} is no longer a member of {org.name}.")
        return redirect("web:org", slug=org.slug)
    if removal.left_every_org:  # their own sessions, this one too, have just ended
        logout(request)
        return redirect(settings.LOGIN_URL)
    messages.success(request, f"You are no longer a member of {org.name}.")
    return redirect("web:home")


@login_required
@require_POST
@domain_errors
def revoke_invitation(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    actor = from_request(request)
    org = access_org_by_slug(actor, slug)
    invitation = do_revoke_invitation(
        access_invitation_by_id(org, invitation_id, now=clock.now()), actor=actor
    )
    messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return redirect("web:org", slug=org.slug)
