"""The mail a case sends: each post to the other participants, and the embargo reminders.

Every message of a case goes out as its list would send it (`case_mail`): the channel's
subject tag, threading and list headers that bring replies back to the case's address, the
case page as signature, and confidential (encrypted, or a notice) while the case is
embargoed. Builders return a `MailSpec`; `fan_out` queues one copy per recipient in the
caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from lockstep.cases.mail_queries import mail_recipients
from lockstep.cases.models import Case, Post
from lockstep.core.links import case_url
from lockstep.embargo.reminders import Kind, hours_left
from lockstep.mailgw.addresses import case_address
from lockstep.mailgw.outbound.outbox import UNVERIFIED_NOTE, MailSpec, fan_out


def when_text(value: datetime) -> str:
    """A moment as participants read it in posts and mail."""
    return f"{value:%Y-%m-%d %H:%M} UTC"


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


def case_mail(case: Case, *, subject: str, text: str) -> MailSpec:
    """A message of the case's list: the channel's subject tag, list headers, the case page
    as signature and read link, and confidential unless the case is public."""
    tag = case.channel.subject_tag if case.channel and case.channel.subject_tag else ""
    return MailSpec(
        subject=f"{tag} {subject}".strip(),
        body=f"{text}\n\n-- \n{case_url(case.pk)}\n",
        headers=list_headers(case),
        case_id=case.pk,
        confidential=case.is_embargoed,
        read_url=case_url(case.pk),
    )


# The reporter reads every post on their tracking page but these; a reply by mail is a new
# post, which the reporter reads: the copy says so.
PARTICIPANTS_ONLY_NOTE = (
    "[Participants only: the reporter does not see this post. A reply by mail becomes a post "
    "the reporter reads; to keep it from them, answer in the case room and tick "
    '"participants only".]'
)


def post_mail(case: Case, post: Post) -> MailSpec:
    """A post as mail: who wrote it, its text, and how many files wait in the case room."""
    attached = post.attachments.count()
    files = f"\n\n({attached} attachment(s) in the case room.)" if attached else ""
    mark = f"{UNVERIFIED_NOTE}\n\n" if post.unverified_sender else ""
    if post.participants_only:
        mark += f"{PARTICIPANTS_ONLY_NOTE}\n\n"
    return case_mail(
        case,
        subject=case.title,
        text=f"{mark}{post.author_label} wrote:\n\n{post.body}{files}",
    )


def announce_post(case: Case, post: Post, *, author_id: int | None) -> None:
    """Mail the post to every other participant: encrypted to their key, or a notice."""
    fan_out(post_mail(case, post), mail_recipients(case, except_user_id=author_id))


def reminder_text(case: Case, kind: Kind, *, now: datetime) -> str:
    assert case.disclosure_at is not None  # noqa: S101 - callers check
    if kind == Kind.T_0:
        return (
            f'The embargo on "{case.title}" ends now ({when_text(case.disclosure_at)}). '
            "Publish your fixed packages and advisories. Exploits shared in this case must be "
            "made public within 7 days."
        )
    left = hours_left(case.disclosure_at, now=now)
    return (
        f'Reminder: "{case.title}" becomes public at {when_text(case.disclosure_at)}, in about '
        f'{left} hour{"s" if left != 1 else ""}. Your organisation has not reported "fix '
        f'ready" yet: set your status in the case room, {case_url(case.pk)}'
    )


def reminder_mail(case: Case, kind: Kind, *, now: datetime) -> MailSpec:
    return case_mail(
        case, subject=f"Reminder: {case.title}", text=reminder_text(case, kind, now=now)
    )
