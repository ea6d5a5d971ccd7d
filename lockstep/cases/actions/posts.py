"""Discussion posts and their attachments (patches) in a case, and Lockstep's own posts."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case
from lockstep.cases.emails import announce_post
from lockstep.cases.models import Attachment, Case, Post
from lockstep.cases.queries import CaseAccess
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import ValidationError
from lockstep.core.markdown import render_markdown
from lockstep.core.uploads import UploadedFile, check_uploads, stored_file_fields
from lockstep.orgs.models import Organization

POST_MAX_CHARS = 100_000
ANNOUNCER = "Lockstep"


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
) -> Post:
    """`author_label` names an author who is not the actor (mail released by a coordinator);
    `unverified_sender` marks mail that no signature on file proves; `participants_only`
    keeps the post from the reporter (it is mailed to participants only, as every post is)."""
    text = body.strip()
    if not text:
        raise ValidationError("Write something first.", field="body")
    if len(text) > POST_MAX_CHARS:
        msg = f"A post may be at most {POST_MAX_CHARS} characters."
        raise ValidationError(msg, field="body")
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
    """A post in the case from Lockstep itself, mailed to every participant."""
    add_post(case, body=text, author_id=None, author_org=None, actor=actor, author_label=ANNOUNCER)


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
