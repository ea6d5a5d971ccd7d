"""Lists: a channel's mail settings, posting to a public list, the public archive, the list key."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lockstep.accounts.actions import do_set_plain_mail
from lockstep.accounts.queries import access_user_by_id
from lockstep.channels.actions import do_set_channel_mail
from lockstep.channels.models import Channel, ChannelKind, PublicPost
from lockstep.channels.public import do_post_public
from lockstep.channels.queries import (
    access_channel_by_slug,
    access_public_list,
    archive_threads,
    thread_of,
)
from lockstep.core.actor import from_request
from lockstep.core.errors import LockstepError, NotFound
from lockstep.mailgw.outbound.protect import list_public_key
from lockstep.web.errors import domain_errors
from lockstep.web.paging import page_number

ARCHIVE_THREADS = 15


@login_required
@require_POST
@domain_errors
def channel_mail(request: HttpRequest, slug: str) -> HttpResponse:
    actor = from_request(request)
    channel = access_channel_by_slug(actor, slug)
    relays = None
    if actor.is_privileged and channel.kind == ChannelKind.PUBLIC:
        relays = [line for line in request.POST.get("relay_to", "").split() if line]
    try:
        do_set_channel_mail(
            channel,
            subject_tag=request.POST.get("subject_tag", ""),
            allows_plain_mail=request.POST.get("allows_plain_mail") == "on",
            accepts_unsigned_mail=request.POST.get("accepts_unsigned_mail") == "on",
            relay_to=relays,
            actor=actor,
        )
    except LockstepError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Mail settings saved.")
    return redirect("web:channel", slug=channel.slug)


@login_required
@require_POST
@domain_errors
def post_public(request: HttpRequest, slug: str) -> HttpResponse:
    actor = from_request(request)
    channel = access_channel_by_slug(actor, slug)
    try:
        post = do_post_public(
            channel,
            subject=request.POST.get("subject", ""),
            body=request.POST.get("body", ""),
            actor=actor,
        )
    except LockstepError as exc:
        messages.error(request, exc.message)
        return redirect("web:channel", slug=channel.slug)
    messages.success(request, "Published.")
    return redirect("web:public-post", slug=channel.slug, post_id=post.pk)


def _public_channel(slug: str) -> Channel:
    try:
        return access_public_list(slug)
    except NotFound:
        raise Http404("No such public list.") from None


@require_GET
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    """A public list's archive, open to everyone (no login): its threads, the most recently
    active first, each post under the one it answers (imported mail as well)."""
    channel = _public_channel(slug)
    page = page_number(request, per_page=ARCHIVE_THREADS)
    threads, more = archive_threads(channel, page=page, per_page=ARCHIVE_THREADS)
    context = {"channel": channel, "threads": threads, "page": page, "more": more}
    return render(request, "web/lists/archive.html", context)


@require_GET
def public_post(request: HttpRequest, slug: str, post_id: int) -> HttpResponse:
    channel = _public_channel(slug)
    post = PublicPost.objects.filter(channel=channel, pk=post_id).first()
    if post is None:
        raise Http404("No such post.")
    context = {"channel": channel, "post": post, "thread": thread_of(post)}
    return render(request, "web/lists/post.html", context)


@require_GET
def list_key(_request: HttpRequest) -> HttpResponse:
    """The list key's public half: import it to verify Lockstep's mail and write to it."""
    return HttpResponse(list_public_key(), content_type="application/pgp-keys; charset=us-ascii")


@login_required
@require_POST
@domain_errors
def mail_settings(request: HttpRequest) -> HttpResponse:
    actor = from_request(request)
    user = access_user_by_id(actor, actor.user_id)
    plain = request.POST.get("plain_mail") == "on"
    do_set_plain_mail(user, plain=plain, actor=actor)
    messages.success(request, "Mail settings saved.")
    return redirect("web:keys")
