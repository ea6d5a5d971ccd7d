"""Pages of the foundation: home, projects, channels, keys, health (organisations:
web/orgs.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from lockstep.accounts.queries import access_user_by_id
from lockstep.advisories.queries import public_advisories
from lockstep.channels.models import ChannelKind
from lockstep.channels.public import may_post_public
from lockstep.channels.queries import (
    access_channel_by_slug,
    can_manage_channel,
    list_channels_for,
    policy_of,
)
from lockstep.core import clock
from lockstep.core.actor import Actor, from_request
from lockstep.core.errors import LockstepError
from lockstep.embargo.routing import decide_route
from lockstep.mailgw.addresses import channel_address
from lockstep.monitoring.health import health_report
from lockstep.orgs.actions import do_add_user_key
from lockstep.orgs.queries import list_keys_of_user, list_memberships_for
from lockstep.projects.queries import access_project_by_slug, list_projects_for, routing_facts_for
from lockstep.web import securitytxt
from lockstep.web.errors import domain_errors
from lockstep.web.forms import KeyUploadForm


@require_GET
@never_cache
def healthz(_request: HttpRequest) -> JsonResponse:
    status, body = health_report()
    return JsonResponse(body, status=status)


FRONT_PAGE_ADVISORIES = 5


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard for the signed-in; for everyone else the public front page."""
    actor = from_request(request)
    if not actor.is_authenticated:
        return _front_page(request, actor)
    context = {
        "memberships": list_memberships_for(actor),
        "projects": list_projects_for(actor),
        "channels": list_channels_for(actor),
        "keys": list_keys_of_user(actor.user_id),
    }
    return render(request, "web/home.html", context)


def _front_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    """How to report (the form, the contacts, the keys, each project's security.txt), then
    what is public: the latest advisories, the lists' archives, search and the feeds."""
    projects = []
    for project in list_projects_for(actor):
        contacts = securitytxt.project_contacts(project)
        mail = [_contact(uri) for uri in contacts if uri.startswith("mailto:")]
        projects.append({"project": project, "mail": mail, "security_txt": bool(contacts)})
    context = {
        "contacts": [_contact(uri) for uri in securitytxt.instance_contacts()],
        "has_security_txt": bool(securitytxt.instance_contacts()),
        "mail_domain": settings.LOCKSTEP_MAIL_DOMAIN,
        "mail_key": securitytxt.instance_mail_key(),
        "projects": projects,
        "advisories": list(public_advisories(clock.now())[:FRONT_PAGE_ADVISORIES]),
        "lists": list_channels_for(actor).filter(kind=ChannelKind.PUBLIC),
    }
    return render(request, "web/front.html", context)


def _contact(uri: str) -> tuple[str, str]:
    """(link, text) for a security.txt contact: mailto: and https: URIs, or a bare address."""
    if uri.startswith("mailto:"):
        return uri, uri.removeprefix("mailto:")
    if "@" in uri and ":" not in uri:
        return f"mailto:{uri}", uri
    return uri, uri


@login_required
@require_GET
@domain_errors
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_by_slug(from_request(request), slug)
    routes = {
        "private": decide_route(routing_facts_for(project, already_public=False)),
        "public": decide_route(routing_facts_for(project, already_public=True)),
    }
    return render(request, "web/project_detail.html", {"project": project, "routes": routes})


@login_required
@require_GET
@domain_errors
def channel_detail(request: HttpRequest, slug: str) -> HttpResponse:
    actor = from_request(request)
    channel = access_channel_by_slug(actor, slug)
    context = {
        "channel": channel,
        "policy": policy_of(channel),
        "can_manage": can_manage_channel(actor, channel),
        "may_publish": may_post_public(actor, channel),
        "is_operator": actor.is_privileged,
        "list_address": channel_address(channel.slug),
    }
    return render(request, "web/channel_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def my_keys(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    user = access_user_by_id(actor, actor.user_id)
    form = KeyUploadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = do_add_user_key(user, armored=form.cleaned_data["armored"], actor=actor)
        except LockstepError as exc:
            form.add_error("armored", exc.message)
        else:
            messages.success(request, f"Key {key.spaced_fingerprint} added.")
            return redirect("web:keys")
    context = {"form": form, "keys": list_keys_of_user(user.pk), "user_obj": user}
    return render(request, "web/keys.html", context, status=400 if form.errors else 200)


def no_such_page(_request: HttpRequest) -> HttpResponse:
    """A page that a library offers and Lockstep does not (the same 404 as any other)."""
    raise Http404
