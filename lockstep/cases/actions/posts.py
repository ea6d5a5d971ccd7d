"""Discussion posts and their attachments (patches) in a case."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case
from lockstep.cases.mail_queries import mail_recipients
from lockstep.cases.models import Attachment, Case, Post
from lockstep.cases.queries import CaseAccess
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import ValidationError
from lockstep.core.markdown import render_markdown
from lockstep.mailgw.addresses import case_address
from lockstep.mailgw.outbound.outbox import UNVERIFIED_NOTE, MailSpec, fan_out
from lockstep.orgs.models import Organization

POST_MAX_CHARS = 100_000


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


def check_uploads(files: Sequence[UploadedFile], *, field: str = "attachments") -> None:
    """Refuse too many or too large files before anything is written."""
    limit = settings.LOCKSTEP_MAX_ATTACHMENT_BYTES
    count = settings.LOCKSTEP_MAX_ATTACHMENTS
    if len(files) > count:
        msg = f"At most {count} files at once."
        raise ValidationError(msg, field=field)
    for upload in files:
        if len(upload.content) > limit:
            msg = f"{upload.filename} is larger than the limit of {limit // 1024} KiB."
            raise ValidationError(msg, field=field)


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
    return "".join(ch for ch in base if ch.isprintable() and ch not in '"\\;')[:255]


def stored_file_fields(upload: UploadedFile) -> dict[str, object]:
    """The `StoredFile` fields for an upload: a safe name, size, digest, and the bytes."""
    return {
        "filename": _safe_name(upload.filename),
        "content_type": upload.content_type or "application/octet-stream",
        "size": len(upload.content),
        "sha256": hashlib.sha256(upload.content).hexdigest(),
        "content": upload.content,
        "created_at": clock.now(),
    }


def store_attachments(case: Case, post: Post | None, files: Sequence[UploadedFile]) -> None:
    Attachment.objects.bulk_create(
        Attachment(case=case, post=post, **stored_file_fields(upload)) for upload in files
    )


def list_headers(case: Case) -> dict[str, str]:
    """Threading per case, and list headers: replies go to the case's own address."""
    domain = settings.LOCKSTEP_MAIL_DOMAIN
    thread = f"<case-{case.pk}@{domain}>"
    reply = case_address(case.pk)
    list_name = case.channel.slug if case.channel else f"case-{case.pk}"
    return {
        "In-Reply-To": thread,
        "References": thread,
        "Reply-To": reply,
        "List-Id": f"<{list_name}.{domain}>",
        "List-Post": f"<mailto:{reply}>",
        "X-Loop": settings.LOCKSTEP_MAIL_FROM,
    }


def announce_post(case: Case, post: Post, *, author_id: int | None) -> None:
    """Mail the post to every other participant: encrypted to their key, or a notice."""
    attached = post.attachments.count()
    files = f"\n\n({attached} attachment(s) in the case room.)" if attached else ""
    mark = f"{UNVERIFIED_NOTE}\n\n" if post.unverified_sender else ""
    spec = case_mail(
        case,
        subject=case.title,
        text=f"{mark}{post.author_label} wrote:\n\n{post.body}{files}",
    )
    fan_out(spec, mail_recipients(case, except_user_id=author_id))


def case_mail(case: Case, *, subject: str, text: str) -> MailSpec:
    """A message of the case's list: the channel's subject tag, list headers, the case page
    as signature and read link, and confidential unless the case is public."""
    tag = case.channel.subject_tag if case.channel and case.channel.subject_tag else ""
    return MailSpec(
        subject=f"{tag} {subject}".strip(),
        body=f"{text}\n\n-- \n{case_url(case)}\n",
        headers=list_headers(case),
        case_id=case.pk,
        confidential=case.is_embargoed,
        read_url=case_url(case),
    )


def case_url(case: Case) -> str:
    return f"{settings.LOCKSTEP_BASE_URL}/cases/{case.pk}/"


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
) -> Post:
    """`author_label` names an author who is not the actor (mail released by a coordinator);
    `unverified_sender` marks mail that no signature on file proves."""
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
        },
    )
    return post


@transaction.atomic
def do_add_post(
    access: CaseAccess,
    *,
    body: str,
    files: Sequence[UploadedFile] = (),
    actor: Actor,
) -> Post:
    """A participant writes in the case; the post is signed with their organisation."""
    org = access.seats[0].org if len(access.seats) == 1 else None
    return add_post(
        access.case, body=body, files=files, author_id=actor.user_id, author_org=org, actor=actor
    )
