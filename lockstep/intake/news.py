"""News of a report, mailed to its reporter: the maintainers' replies, their decision, and
posts in its case that the reporter reads.

Composed into the action that makes the news, inside its transaction, so the mail is queued
with the change or not at all. A chatty case must not flood the reporter: after one mail, the
next waits until `LOCKSTEP_REPORTER_NEWS_MINUTES` have passed, and then carries everything
new by then (`news_due_at` marks it; the `mail_reporter_news` task sends it). What is new is
counted by the newest message and post already mailed (`news_message_id`, `news_post_id`).

A reporter with a key reads the news itself, encrypted; one without gets a notice that names
nothing of the report (`intake.emails`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max

from lockstep.cases.models import Post
from lockstep.cases.queries import list_reporter_posts
from lockstep.core.actor import Actor
from lockstep.core.txn import on_commit_enqueue
from lockstep.intake.emails import NewsItem, report_news, report_news_notice
from lockstep.intake.models import MessageKind, Report, ReportMessage
from lockstep.mailgw.models import InboundMessage
from lockstep.mailgw.outbound.outbox import Recipient, fan_out
from lockstep.orgs.queries import list_keys_of_user

NEWS_TASK = "lockstep.intake.tasks.mail_reporter_news"
_WHO: dict[str, str] = {MessageKind.MAINTAINER: "The maintainers", MessageKind.SYSTEM: "Lockstep"}


def window() -> timedelta:
    return timedelta(minutes=settings.LOCKSTEP_REPORTER_NEWS_MINUTES)


def next_mail_at(last_mailed: datetime | None, *, window: timedelta) -> datetime | None:
    """Pure: the earliest moment the next news mail may go; None: at once."""
    return None if last_mailed is None else last_mailed + window


def reporter_key_of(report: Report) -> str:
    """The key the reporter gave with the report, else the newest usable key of the account
    that sent it (a signed report by mail, a signed-in reporter); "" if none."""
    if report.reporter_key:
        return report.reporter_key
    key = (
        list_keys_of_user(report.submitted_by_id)
        .filter(can_encrypt=True)
        .order_by("-added_at")
        .first()
    )
    return key.armored if key else ""


def reporter_recipient(report: Report) -> Recipient | None:
    """Where news of the report goes, with the key it is encrypted to. None: nowhere, for a
    report without an address, and for a reporter who wrote encrypted by mail and has no key
    on file (their receipt said the maintainers would answer directly: they hold no link to
    read news at, and a notice in clear would undo their care)."""
    if not report.reporter_email:
        return None
    key = reporter_key_of(report)
    if not key and InboundMessage.objects.filter(report_id=report.pk, encrypted=True).exists():
        return None
    return Recipient(report.reporter_email, key=key)


def _from_message(message: ReportMessage) -> NewsItem:
    return NewsItem(
        who=_WHO.get(message.kind, "Lockstep"), at=message.created_at, text=message.body
    )


def _from_post(post: Post) -> NewsItem:
    who = post.author_org.name if post.author_org else post.author_label
    return NewsItem(who=who, at=post.created_at, text=post.body)


def news_of(report: Report) -> list[NewsItem]:
    """What the reporter has not been mailed yet, oldest first: messages but their own, and
    the posts they read in the case but their own."""
    messages = report.messages.filter(pk__gt=report.news_message_id).exclude(
        kind=MessageKind.REPORTER
    )
    items = [_from_message(m) for m in messages]
    if report.case is not None:
        own = Actor.reporter(report.pk).label
        posts = (
            list_reporter_posts(report.case)
            .filter(pk__gt=report.news_post_id)
            .exclude(author_id__isnull=True, author_org__isnull=True, author_label=own)
            .select_related("author_org")
        )
        items += [_from_post(p) for p in posts]
    return sorted(items, key=lambda item: item.at)


def mark_all_mailed(report: Report) -> None:
    """Move the cursors past every message and post there is (unsaved)."""
    newest = report.messages.aggregate(newest=Max("pk"))["newest"]
    report.news_message_id = max(report.news_message_id, newest or 0)
    if report.case_id is not None:
        post = Post.objects.filter(case_id=report.case_id).aggregate(newest=Max("pk"))["newest"]
        report.news_post_id = max(report.news_post_id, post or 0)


def send_news(report: Report, recipient: Recipient, *, now: datetime) -> bool:
    """Mail what is new now (`report` is locked); False when nothing is."""
    items = news_of(report)
    if items:
        spec = report_news(report, items) if recipient.key else report_news_notice(report)
        fan_out(spec, [recipient])
        report.news_mailed_at = now
    mark_all_mailed(report)
    report.news_due_at = None
    report.save(update_fields=["news_mailed_at", "news_due_at", "news_message_id", "news_post_id"])
    return bool(items)


def tell_reporter(report: Report, *, now: datetime) -> None:
    """There is news on `report`: mail the reporter now, or, within the window after the last
    mail, once it ends (one batched mail however much happens meanwhile)."""
    recipient = reporter_recipient(report)
    if recipient is None:
        return
    locked = (
        Report.objects.select_for_update(of=("self",))
        .select_related("project", "case")
        .get(pk=report.pk)
    )
    span = window()
    if locked.news_due_at is not None and now < locked.news_due_at + span:
        return  # a batched mail is on its way (a due time long past is a lost task: go on)
    due = next_mail_at(locked.news_mailed_at, window=span)
    if due is not None and due > now:
        locked.news_due_at = due
        locked.save(update_fields=["news_due_at"])
        on_commit_enqueue(NEWS_TASK, locked.pk, run_after=due)
        return
    send_news(locked, recipient, now=now)


def tell_reporter_of_post(post: Post, *, actor: Actor, now: datetime) -> None:
    """A post the reporter reads (not participants only) was added to a case: news for the
    reporter of the report the case came from, unless they wrote it."""
    if actor.is_reporter:
        return
    report = Report.objects.filter(case_id=post.case_id).first()
    if report is not None:
        tell_reporter(report, now=now)
