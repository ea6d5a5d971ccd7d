"""The mail a case sends: each post to the other participants, and the embargo reminders.

Every message of a case goes out as its list would send it (`case_mail`): the channel's
subject tag, threading and list headers that bring replies back to the case's address, the
case page as signature (`templates/email/case-signature.txt`), and confidential (encrypted,
or a notice) while the case is embargoed. Each builder renders its templates
(`templates/email/<name>/`) and returns a `MailSpec`; `fan_out` queues one copy per
recipient in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from lockstep.cases.mail_queries import mail_recipients
from lockstep.cases.models import Case, Post
from lockstep.core.links import case_url
from lockstep.embargo.reminders import Kind
from lockstep.embargo.wording import relative
from lockstep.mailgw.addresses import case_address
from lockstep.mailgw.outbound.outbox import UNVERIFIED_NOTE, MailSpec, fan_out
from lockstep.mailgw.outbound.templates import RenderedMail, render_mail


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


def _case_facts(case: Case) -> dict[str, object]:
    return {"title": case.title, "case_url": case_url(case.pk)}


def case_mail(case: Case, rendered: RenderedMail) -> MailSpec:
    """A message of the case's list: the channel's subject tag, list headers, the case page
    as read link, and confidential unless the case is public."""
    tag = case.channel.subject_tag if case.channel and case.channel.subject_tag else ""
    return MailSpec(
        subject=f"{tag} {rendered.subject}".strip(),
        body=rendered.body,
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
    rendered = render_mail(
        "case-post",
        {
            **_case_facts(case),
            "author": post.author_label,
            "body": post.body,
            "attachments": post.attachments.count(),
            "unverified_note": UNVERIFIED_NOTE if post.unverified_sender else "",
            "participants_only_note": PARTICIPANTS_ONLY_NOTE if post.participants_only else "",
        },
    )
    return case_mail(case, rendered)


def announce_post(case: Case, post: Post, *, author_id: int | None) -> None:
    """Mail the post to every other participant: encrypted to their key, or a notice."""
    fan_out(post_mail(case, post), mail_recipients(case, except_user_id=author_id))


def reminder_mail(case: Case, kind: Kind, *, now: datetime) -> MailSpec:
    """Before the date, to the organisations not "fix ready" yet; at it (T-0), to everyone."""
    assert case.disclosure_at is not None  # noqa: S101 - callers check
    rendered = render_mail(
        "embargo-reminder",
        {
            **_case_facts(case),
            "at_date": kind == Kind.T_0,
            "disclosure_at": when_text(case.disclosure_at),
            "left": relative(case.disclosure_at, now=now),
        },
    )
    return case_mail(case, rendered)
