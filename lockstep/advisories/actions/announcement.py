"""Telling people an advisory is public: the post to the public list, and the notices in the
case (mailed to every participant)."""

from __future__ import annotations

from lockstep.advisories.emails import export_problems_notice, publication_notice
from lockstep.advisories.models import Advisory
from lockstep.advisories.queries import public_channel
from lockstep.cases.actions.posts import announce
from lockstep.cases.models import Case
from lockstep.channels.models import PublicPost
from lockstep.channels.public import do_post_public
from lockstep.core.actor import Actor


def post_to_list(advisory: Advisory, *, actor: Actor) -> PublicPost | None:
    """The advisory's post on the public list (none when no list is chosen)."""
    channel = public_channel()
    if channel is None:
        return None
    # Lockstep itself posts (the actor who triggered it is in the case's audit trail).
    post = do_post_public(
        channel,
        subject=advisory.post_subject,
        body=advisory.post_body,
        actor=Actor.system("publication") if not actor.is_system else actor,
    )
    advisory.public_post = post
    advisory.save(update_fields=["public_post"])
    return post


def announce_publication(case: Case, advisory: Advisory, *, reason: str, actor: Actor) -> None:
    announce(case, publication_notice(case, advisory, reason=reason), actor=actor)


def announce_export_problems(case: Case, problems: tuple[str, ...], *, actor: Actor) -> None:
    if problems:
        announce(case, export_problems_notice(problems), actor=actor)
