"""What publication tells people: the participants (a post in the case, mailed to each), and
the reporter who is to post the details to the public list (their tracking page and mail)."""

from __future__ import annotations

from lockstep.advisories.models import Advisory
from lockstep.cases.models import Case, EndReason
from lockstep.mailgw.outbound.outbox import MailSpec

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


def reporter_post_request_text(advisory: Advisory) -> str:
    """The reporter is to post the details: the text, ready to send, and the deadline."""
    return (
        f"The embargo is over and the advisory is public: {advisory.snapshot['url']}\n\n"
        "Please post the full details to the public list now (the text below is ready to "
        "send), then confirm on your tracking page. If you have not confirmed by "
        f"{advisory.reporter_post_due_at:%Y-%m-%d %H:%M} UTC, Lockstep posts it for you.\n\n"
        f"Subject: {advisory.post_subject}\n\n{advisory.post_body}"
    )


def reporter_post_request(advisory: Advisory) -> MailSpec:
    """The same request by mail (public by now: the advisory is out)."""
    return MailSpec(
        subject=f"Please post: {advisory.post_subject}",
        body=reporter_post_request_text(advisory),
        confidential=False,
    )
