"""The mail a reporter gets: the receipt of their report, and news of it (the maintainers'
replies and decision, posts in its case; batched by `intake.news`).

The tracking link opens the report. So it travels only where it cannot disclose more than
the reporter already did: in clear text to a reporter who wrote in clear text (by mail) or
gave no key (the web form says so), encrypted to a reporter who gave a key, and never to a
reporter who wrote encrypted by mail without a key on file. The link is known only at the
receipt (only its hash is stored), so news points back to the receipt and the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from lockstep.core.links import tracking_url
from lockstep.intake.models import Report
from lockstep.mailgw.outbound.outbox import MailSpec
from lockstep.mailgw.outbound.templates import render_mail


@dataclass(frozen=True)
class NewsItem:
    """One thing the reporter has not been mailed yet: a message, a decision, a post."""

    who: str
    at: datetime
    text: str

    @property
    def when(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} UTC"


def _facts(report: Report) -> dict[str, object]:
    return {
        "project": report.project.name,
        "title": report.title,
        "received": f"{report.submitted_at:%Y-%m-%d %H:%M} UTC",
        "news_minutes": settings.LOCKSTEP_REPORTER_NEWS_MINUTES,
    }


def _headers(*, in_reply_to: str | None) -> dict[str, str]:
    """A receipt of mail answers it (RFC 3834 auto-replied, threaded under it); the rest of
    the reporter's mail is auto-generated. X-Loop keeps a reporter's robot from answering."""
    if in_reply_to is None:
        return {"Auto-Submitted": "auto-generated", "X-Loop": settings.LOCKSTEP_MAIL_FROM}
    thread = {"In-Reply-To": in_reply_to} if in_reply_to else {}
    return {**thread, "Auto-Submitted": "auto-replied", "X-Loop": settings.LOCKSTEP_MAIL_FROM}


def report_received(  # noqa: PLR0913 - what the receipt says, each named
    report: Report,
    *,
    token: str,
    link: bool,
    encrypted: bool = False,
    in_reply_to: str | None = None,
    tells_news: bool = False,
) -> MailSpec:
    """The receipt. `link`: it carries the tracking link; `encrypted`: it goes to the
    reporter's key only (PGP); `in_reply_to`: the Message-ID of the report by mail it answers
    ("" when that had none; None for a report from the web form or the API); `tells_news`:
    the reporter will be mailed news of the report (they gave an address)."""
    subject, body = render_mail(
        "report-received",
        {
            **_facts(report),
            "link": link,
            "tracking_url": tracking_url(token) if link else "",
            "encrypted": encrypted,
            "news_minutes": settings.LOCKSTEP_REPORTER_NEWS_MINUTES if tells_news else 0,
        },
    )
    return MailSpec(
        subject=subject,
        body=body,
        headers=_headers(in_reply_to=in_reply_to),
        confidential=encrypted,
    )


NEWS_ITEMS_MAX = 20


def report_news(report: Report, items: Sequence[NewsItem]) -> MailSpec:
    """News, in full: for a reporter with a key only (confidential, so never in clear)."""
    shown = list(items[-NEWS_ITEMS_MAX:])
    subject, body = render_mail(
        "report-news", {**_facts(report), "items": shown, "more": len(items) - len(shown)}
    )
    return MailSpec(
        subject=subject, body=body, headers=_headers(in_reply_to=None), confidential=True
    )


def report_news_notice(report: Report) -> MailSpec:
    """News, without any of it: for a reporter without a key. Names the project, as the
    receipt does, and nothing of the report."""
    subject, body = render_mail("report-news-notice", _facts(report))
    return MailSpec(
        subject=subject, body=body, headers=_headers(in_reply_to=None), confidential=False
    )
