"""The reporter's batched news mail, sent when its window ends (`intake.news`). Idempotent:
the action sends only while the report says a mail is due."""

from __future__ import annotations

from django_tasks import task

from lockstep.core.actor import Actor
from lockstep.intake.actions import do_mail_reporter_news

NEWS_CLOCK = Actor.system("reporter-news")


@task()
def mail_reporter_news(report_id: int) -> bool:
    return do_mail_reporter_news(report_id, actor=NEWS_CLOCK)
