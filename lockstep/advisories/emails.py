"""What publication tells people: the participants (a post in the case, mailed to each), and
the reporter who is to post the details to the public list (their tracking page and mail)."""

from __future__ import annotations

from lockstep.advisories.models import Advisory
from lockstep.cases.models import Case, EndReason
from lockstep.mailgw.outbound.outbox import MailSpec
from lockstep.mailgw.outbound.templates import render_mail

EXPLOITS_NOTE = (
    "Exploits and proofs of concept shared in this case must be made public within 7 days "
    "of today (the list's policy)."
)


def publication_notice(case: Case, advisory: Advisory, *, reason: str) -> str:
    """For the participants: the embargo is over (at the date, or early and why)."""
    why = (
        "The embargo is over: the disclosure date has come."
        if case.end_reason == EndReason.DATE
        else f"The embargo is over early: {reason}"
    )
    return (
        f"{why}\n\nThe advisory is public: {advisory.snapshot['url']}\n"
        "Publish your fixed packages and advisories now.\n\n" + EXPLOITS_NOTE
    )


def export_problems_notice(problems: tuple[str, ...]) -> str:
    """For the case's leads: exports that could not be built from the case's data."""
    return (
        "Some machine-readable exports could not be built; the advisory and the post are "
        "public. Fix the data and tell the operator:\n- " + "\n- ".join(problems)
    )


def reporter_post_request(advisory: Advisory) -> MailSpec:
    """The reporter is to post the details: the text, ready to send, and the deadline. Their
    tracking page shows the same text (public by now: the advisory is out)."""
    assert advisory.reporter_post_due_at is not None  # noqa: S101 - set before asking
    subject, body = render_mail(
        "reporter-post-request",
        {
            "advisory_url": advisory.snapshot["url"],
            "due": f"{advisory.reporter_post_due_at:%Y-%m-%d %H:%M} UTC",
            "post_subject": advisory.post_subject,
            "post_body": advisory.post_body,
        },
    )
    return MailSpec(subject=subject, body=body, confidential=False)
