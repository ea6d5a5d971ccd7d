"""The mail intake sends: the acknowledgement to a reporter who wrote in by mail."""

from __future__ import annotations

from django.conf import settings

from lockstep.core.links import tracking_url
from lockstep.intake.models import Report
from lockstep.mailgw.outbound.outbox import MailSpec


def report_received(report: Report, *, token: str, in_reply_to: str, encrypted: bool) -> MailSpec:
    """Tell the reporter the report arrived. The tracking link opens the report, so only a
    reporter who wrote in clear text gets it; `in_reply_to` threads it under their message."""
    follow = (
        "Because you wrote encrypted, this reply carries no link to your report; the "
        "maintainers will answer you directly.\n"
        if encrypted
        else f"Follow it and talk to the maintainers here (keep this link to yourself: it "
        f"opens your report):\n{tracking_url(token)}\n"
    )
    body = (
        f"Thank you. Your report to the {report.project.name} maintainers was received on "
        f"{report.submitted_at:%Y-%m-%d %H:%M} UTC.\n\n{follow}"
    )
    thread = {"In-Reply-To": in_reply_to} if in_reply_to else {}
    return MailSpec(
        subject=f"Report received: {report.project.name}",
        body=body,
        headers={**thread, "Auto-Submitted": "auto-replied", "X-Loop": settings.LOCKSTEP_MAIL_FROM},
        confidential=False,
    )
