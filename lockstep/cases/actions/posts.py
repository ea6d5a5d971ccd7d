"""Discussion posts and their attachments (patches) in a case, and Lockstep's own posts."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case
from lockstep.cases.emails import announce_post
from lockstep.cases.models import Attachment, Case, Post
from lockstep.cases.queries import CaseAccess
from lockstep.cases.reporter_news import post_for_reporter
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound, PermissionDenied, ValidationError
from lockstep.core.markdown import render_markdown
from lockstep.core.uploads import UploadedFile, check_uploads, stored_file_fields
from lockstep.orgs.models import Organization

POST_MAX_CHARS = 100_000
ANNOUNCER = "Lockstep"


def _checked_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise ValidationError("Write something first.", field="body")
    if len(text) > POST_MAX_CHARS:
        msg = f"A post may be at most {POST_MAX_CHARS} characters."
        raise ValidationError(msg, field="body")
    return text


def store_attachments(case: Case, post: Post | None, files: Sequence[UploadedFile]) -> None:
    Attachment.objects.bulk_create(
        Attachment(case=case, post=post, **stored_file_fields(upload)) for upload in files
    )


def add_post(  # noqa: PLR0913 - a post's facts, each named
    case: Case,
    *,
    body: str,
    files: Sequence[UploadedFile] = (),
    author_id: int | None,
    author_org: Organization | None,
    actor: Actor,
    author_label: str = "",
    unverified_sender: bool = False,
    participants_only: bool = False,
    tells_reporter: bool = True,
) -> Post:
    """`author_label` names an author who is not the actor (mail released by a coordinator);
    `unverified_sender` marks mail that no signature on file proves; `participants_only`
    keeps the post from the reporter (it is mailed to participants only, as every post is);
    `tells_reporter=False`: the reporter reads it but is not mailed news of it (Lockstep's own
    announcements, the report itself opening its case)."""
    text = _checked_body(body)
    check_uploads(files)
    post = Post.objects.create(
        case=case,
        author_id=author_id,
        author_label=author_label or actor.label,
        author_org=author_org,
        body=text,
        body_html=render_markdown(text),
        unverified_sender=unverified_sender,
        participants_only=participants_only,
        created_at=clock.now(),
    )
    store_attachments(case, post, files)
    announce_post(case, post, author_id=author_id)
    if tells_reporter and not participants_only:
        post_for_reporter(post, actor=actor)
    record_case(
        CaseTag.POST_ADDED,
        case,
        actor=actor,
        data={
            "post": post.pk,
            "attachments": [f.filename for f in files],
            "unverified_sender": unverified_sender,
            "participants_only": participants_only,
        },
    )
    return post


def announce(case: Case, text: str, *, actor: Actor) -> None:
    """A post in the case from Lockstep itself, mailed to every participant. The reporter
    reads it on the tracking page; it is not news mailed to them (their news is people's
    words: the maintainers', the participants')."""
    add_post(
        case,
        body=text,
        author_id=None,
        author_org=None,
        actor=actor,
        author_label=ANNOUNCER,
        tells_reporter=False,
    )


@transaction.atomic
def do_add_post(
    access: CaseAccess,
    *,
    body: str,
    files: Sequence[UploadedFile] = (),
    participants_only: bool = False,
    actor: Actor,
) -> Post:
    """A participant writes in the case; the post is signed with their organisation. The
    reporter reads it on their tracking page unless it is `participants_only`."""
    org = access.seats[0].org if len(access.seats) == 1 else None
    return add_post(
        access.case,
        body=body,
        files=files,
        author_id=actor.user_id,
        author_org=org,
        actor=actor,
        participants_only=participants_only,
    )


@transaction.atomic
def do_edit_post(access: CaseAccess, post_id: int, *, body: str, actor: Actor) -> Post:
    """The author corrects their own post. The old text is kept in the audit event, and the
    post shows "edited" with the time.

    An edit is not mailed again: every participant already has the post, and a second copy
    of a whole post for a typo is noise (and, under embargo, one more encrypted copy of the
    details). A correction that everyone must read belongs in a new post, which is mailed.
    Attachments and "participants only" do not change.
    """
    post = (
        Post.objects.select_for_update()
        .filter(case=access.case, pk=post_id, author_id__isnull=False)
        .first()
    )
    if post is None:
        raise NotFound("No such post.")
    if actor.user_id is None or post.author_id != actor.user_id:
        raise PermissionDenied("Only its author can edit a post.")
    text = _checked_body(body)
    if text == post.body:
        return post
    old = post.body
    post.body, post.body_html, post.edited_at = text, render_markdown(text), clock.now()
    post.save(update_fields=["body", "body_html", "edited_at"])
    record_case(
        CaseTag.POST_EDITED, access.case, actor=actor, data={"post": post.pk, "old_body": old}
    )
    return post
