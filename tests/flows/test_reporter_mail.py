"""The reporter hears back: a receipt for a report from the web form or the API, then news of
it (replies, the decision, posts in its case), encrypted to their key or as a notice that
names nothing, at most one mail per window per report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import ReportTag
from lockstep.cases.actions.posts import announce, do_add_post
from lockstep.cases.models import Post
from lockstep.cases.queries import access_case_by_id
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.intake.actions import (
    Acceptance,
    ReportInput,
    Submitted,
    do_accept_report,
    do_add_report_message,
    do_add_reporter_post,
    do_decline_report,
    do_mail_reporter_news,
    do_mark_duplicate,
    do_submit_report,
)
from lockstep.intake.models import Report
from lockstep.intake.news import NEWS_TASK, tell_reporter_of_post
from lockstep.intake.tasks import mail_reporter_news
from lockstep.mailgw.models import OutboundMessage, Protection
from lockstep.orgs.actions import do_add_user_key
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, CaseWorld, build_case_world
from tests.factories.keys import KeyPair

pytestmark = pytest.mark.django_db

RAE = "rae@research.example"
TITLE = "Use after free in quokka_parse()"
SECRET_REPLY = "We reproduced it: the second free is in parse_header()."


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world(accept=False)


def _mail_to(address: str = RAE) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(to_address=address).order_by("id"))


def _submit(world: CaseWorld, *, key: str = "") -> Submitted:
    return do_submit_report(
        world.project,
        ReportInput(title=TITLE, description="d", reporter_email=RAE, reporter_key=key),
        actor=Actor.anonymous(),
    )


def test_the_web_form_mails_a_receipt_with_the_link(world: CaseWorld, client: Client) -> None:
    sent = client.post(
        "/projects/libquokka/report/",
        {"title": TITLE, "description": "d", "reporter_email": RAE},
    )
    token_path = sent["Location"]
    (receipt,) = _mail_to()
    assert receipt.subject == "Report received: libquokka"
    assert f"https://lockstep.example.org{token_path}" in receipt.body
    assert "at most one mail every 15 minutes" in receipt.body
    assert receipt.protection == Protection.PLAIN  # the form says so next to the address
    assert receipt.headers["Auto-Submitted"] == "auto-generated"
    assert TITLE not in receipt.subject + receipt.body
    # Without an address, nothing is mailed.
    client.post("/projects/libquokka/report/", {"title": "Quiet", "description": "d"})
    assert OutboundMessage.objects.count() == 1


def test_a_key_encrypts_the_receipt_and_a_bad_key_is_refused(
    world: CaseWorld, client: Client, alice_key: KeyPair
) -> None:
    report = {"project": "libquokka", "title": TITLE, "description": "d", "reporter_email": RAE}
    sent = client.post(
        "/api/v1/reports",
        {**report, "reporter_key": alice_key.public},
        content_type="application/json",
    )
    assert sent.status_code == 201
    (receipt,) = _mail_to()
    assert receipt.protection == Protection.PGP
    assert receipt.recipient_key  # encrypted to the key the reporter gave
    assert sent.json()["tracking_url"] in receipt.body
    assert "encrypted to your key" in receipt.body
    bad = client.post(
        "/projects/libquokka/report/",
        {"title": TITLE, "description": "d", "reporter_email": RAE, "reporter_key": "nope"},
    )
    assert bad.status_code == 400
    assert b"OpenPGP public key" in bad.content
    assert len(_mail_to()) == 1


def test_news_without_a_key_names_nothing_and_is_batched(
    world: CaseWorld, django_capture_on_commit_callbacks: Any
) -> None:
    report = _submit(world).report
    maintainer = actor_for(world.maintainer)
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        do_add_report_message(report, body=SECRET_REPLY, from_reporter=False, actor=maintainer)
        (notice,) = _mail_to()
        assert notice.protection == Protection.PLAIN
        assert notice.subject == "News on your report to libquokka"
        assert SECRET_REPLY not in notice.body
        assert TITLE not in notice.subject + notice.body
        assert "no OpenPGP key" in notice.body
        # The reporter's own words are no news to them.
        do_add_report_message(
            report, body="thanks", from_reporter=True, actor=Actor.reporter(report.pk)
        )
        traveller.shift(timedelta(minutes=5))
        with django_capture_on_commit_callbacks() as scheduled:
            do_add_report_message(report, body="One more.", from_reporter=False, actor=maintainer)
            do_add_report_message(
                report, body="And another.", from_reporter=False, actor=maintainer
            )
        assert len(_mail_to()) == 1  # within the window: waits
        due = Report.objects.get(pk=report.pk).news_due_at
        assert due == start + timedelta(minutes=15)
        assert len(scheduled) == 1  # one batched mail, however many replies
        assert scheduled[0].args == (NEWS_TASK, report.pk)
        assert scheduled[0].keywords == {"run_after": due}
        traveller.shift(timedelta(minutes=10))
        assert mail_reporter_news.call(report.pk) is True  # the task the window queued
        assert mail_reporter_news.call(report.pk) is False  # idempotent
    assert len(_mail_to()) == 2
    assert AuditEvent.objects.filter(tag=ReportTag.NEWS_MAILED).count() == 1


def test_a_reporter_with_a_key_reads_the_news_itself(world: CaseWorld, alice_key: KeyPair) -> None:
    declined = _submit(world, key=alice_key.public).report
    do_decline_report(declined, reason="Works as designed.", actor=actor_for(world.maintainer))
    news = _mail_to()[-1]
    assert news.protection == Protection.PGP
    assert "Works as designed." in news.body
    assert TITLE in news.subject  # inside the encryption (the outer subject says nothing)
    duplicate = _submit(world, key=alice_key.public).report
    do_mark_duplicate(duplicate, original=declined, actor=actor_for(world.maintainer))
    assert "already reported" in _mail_to()[-1].body


def test_acceptance_and_posts_the_reporter_reads(world: CaseWorld, alice_key: KeyPair) -> None:
    report = _submit(world, key=alice_key.public).report
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        case = do_accept_report(report, Acceptance(channel=world.channel), actor=SYSTEM)
        (accepted,) = _mail_to()
        assert "accepted this report" in accepted.body
        assert "**Report:" not in accepted.body  # their own report is no news to them
        lead = access_case_by_id(actor_for(world.maintainer), case.pk)
        traveller.shift(timedelta(minutes=20))
        do_add_post(lead, body="Fixed in 1.2.4.", actor=actor_for(world.maintainer))
        assert "Fixed in 1.2.4." in _mail_to()[-1].body
        traveller.shift(timedelta(minutes=20))
        do_add_post(
            lead, body="Vendors only.", participants_only=True, actor=actor_for(world.maintainer)
        )
        reporter = Report.objects.get(pk=report.pk)
        do_add_reporter_post(reporter, body="Thanks!", actor=Actor.reporter(report.pk))
        announce(case, "Lockstep says: the date is agreed.", actor=SYSTEM)
        assert len(_mail_to()) == 2  # none is news mailed to the reporter
        do_add_post(lead, body="Date agreed.", actor=actor_for(world.maintainer))
    last = _mail_to()[-1].body
    assert "Date agreed." in last
    assert "Vendors only." not in last
    assert "Thanks!" not in last
    assert "Lockstep says" in last  # read with the next news, as on the tracking page


def test_no_address_no_news(world: CaseWorld) -> None:
    report = world.submitted.report  # sent without an address
    do_add_report_message(report, body="hello", from_reporter=False, actor=SYSTEM)
    do_submit_report(
        world.project, ReportInput(title="t", description="d"), receipt=True, actor=SYSTEM
    )
    # A post in a case no report opened has no reporter to tell.
    tell_reporter_of_post(Post(case_id=999_999), actor=SYSTEM, now=clock.now())
    assert not OutboundMessage.objects.exists()


def test_a_lost_batch_does_not_silence_the_reporter(world: CaseWorld) -> None:
    """A due time long past (its task lost) does not hold back the next news."""
    report = _submit(world).report
    long_ago: datetime = clock.now() - timedelta(hours=2)
    Report.objects.filter(pk=report.pk).update(news_due_at=long_ago, news_mailed_at=long_ago)
    do_add_report_message(report, body="hello", from_reporter=False, actor=SYSTEM)
    assert len(_mail_to()) == 1


def test_api_receipt_counts_per_address(world: CaseWorld, client: Client, settings: Any) -> None:
    """A form anyone may fill in cannot flood a stranger's mailbox with receipts."""
    settings.LOCKSTEP_MAIL_ACKS_PER_ADDRESS = 1
    body = {"project": "libquokka", "title": "t", "description": "d", "reporter_email": RAE}
    for _ in range(2):
        assert (
            client.post("/api/v1/reports", body, content_type="application/json").status_code == 201
        )
    assert len(_mail_to()) == 1


def test_a_signed_in_reporter_with_a_key_on_their_account(
    world: CaseWorld, alice_key: KeyPair
) -> None:
    """No key pasted: the key of the account that sent the report encrypts the receipt."""
    do_add_user_key(world.outsider_user, armored=alice_key.public, actor=SYSTEM)
    do_submit_report(
        world.project,
        ReportInput(title=TITLE, description="d", reporter_email=RAE),
        submitted_by=world.outsider_user.pk,
        receipt=True,
        actor=actor_for(world.outsider_user),
    )
    (receipt,) = _mail_to()
    assert receipt.protection == Protection.PGP
    assert "/track/" in receipt.body


def test_a_batch_with_nothing_to_say_or_nobody_to_tell_sends_nothing(world: CaseWorld) -> None:
    quiet = _submit(world).report
    Report.objects.filter(pk=quiet.pk).update(news_due_at=clock.now())
    assert do_mail_reporter_news(quiet.pk, actor=SYSTEM) is False  # nothing new since
    assert Report.objects.get(pk=quiet.pk).news_due_at is None
    gone = _submit(world).report
    do_add_report_message(gone, body="hello", from_reporter=False, actor=SYSTEM)
    Report.objects.filter(pk=gone.pk).update(news_due_at=clock.now(), reporter_email="")
    assert do_mail_reporter_news(gone.pk, actor=SYSTEM) is False  # the address was removed
    assert Report.objects.get(pk=gone.pk).news_due_at is None
    assert len(_mail_to()) == 1
    assert AuditEvent.objects.filter(tag=ReportTag.NEWS_MAILED).count() == 2
