"""Every mail Lockstep writes comes from its templates (`templates/email/<name>/`), through one
builder per message: each template renders with what its builder gives (a variable it names
and the builder leaves out fails here), and every template has a builder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lockstep.advisories.emails import reporter_post_request
from lockstep.advisories.models import Advisory
from lockstep.cases import reporter_news
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.emails import post_mail, reminder_mail
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.emails import relayed_post
from lockstep.channels.models import PublicPost
from lockstep.core import clock
from lockstep.core.uploads import UploadedFile
from lockstep.embargo.reminders import Kind
from lockstep.intake.emails import NewsItem, report_news, report_news_notice, report_received
from lockstep.mailgw.outbound.outbox import MailSpec, confidential_notice
from lockstep.mailgw.outbound.templates import RenderedMail, render_mail
from lockstep.orgs.emails import invitation
from lockstep.signin.emails import lockout_mail
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3] / "lockstep"
MISSING = "@@missing:%s@@"

Built = MailSpec | RenderedMail
Builder = Callable[[CaseWorld], list[Built]]


def _report(world: CaseWorld) -> list[Built]:
    report = world.submitted.report
    return [
        report_received(report, token="t0k", link=True, encrypted=True, tells_news=True),
        report_received(report, token="t0k", link=True, in_reply_to="<m@x>", tells_news=True),
        report_received(report, token="t0k", link=False, in_reply_to=""),
    ]


def _news(world: CaseWorld) -> list[Built]:
    item = NewsItem(who="The maintainers", at=clock.now(), text="Reproduced.")
    return [report_news(world.submitted.report, [item] * 25)]


def _posts(world: CaseWorld) -> list[Built]:
    lead = access_case_by_id(actor_for(world.maintainer), world.case.pk)
    post = do_add_post(
        lead,
        body="A patch.",
        files=[UploadedFile("fix.patch", "text/x-diff", b"-")],
        participants_only=True,
        actor=actor_for(world.maintainer),
    )
    post.unverified_sender = True
    return [post_mail(world.case, post)]


def _reminders(world: CaseWorld) -> list[Built]:
    now = clock.now()
    return [reminder_mail(world.case, kind, now=now) for kind in (Kind.T_24H, Kind.T_0)]


def _relay(world: CaseWorld) -> list[Built]:
    post = PublicPost(pk=7, channel=world.channel, subject="Advisory", body="b")
    return [relayed_post(world.channel, post, text="Details.")]


def _post_request(world: CaseWorld) -> list[Built]:
    advisory = Advisory(
        snapshot={"url": "https://lockstep.example.org/advisories/LSA-2026-0001/"},
        reporter_post_due_at=clock.now() + timedelta(hours=1),
        post_subject="libquokka: overflow",
        post_body="Details.",
    )
    return [reporter_post_request(advisory)]


def _invitation(world: CaseWorld) -> list[Built]:
    later = clock.now() + timedelta(days=7)
    return [
        invitation(world.vendor, role_label="Member", invited_by=by, url="u", expires_at=later)
        for by in ("ada@northwind.example", "")
    ]


BUILDERS: dict[str, Builder] = {
    "report-received": _report,
    "report-news": _news,
    "report-news-notice": lambda w: [report_news_notice(w.submitted.report)],
    "case-post": _posts,
    "embargo-reminder": _reminders,
    "list-relay": _relay,
    "reporter-post-request": _post_request,
    "org-invitation": _invitation,
    "signin-lockout": lambda w: [lockout_mail(w.maintainer, client="192.0.2.1", at=clock.now())],
    "confidential-notice": lambda _: [confidential_notice("https://x.example/cases/1/")],
}


def _template_dirs() -> dict[str, Path]:
    return {path.name: path for path in sorted(ROOT.glob("*/templates/email/*")) if path.is_dir()}


def test_every_template_has_a_builder_and_both_parts() -> None:
    found = _template_dirs()
    assert set(found) == set(BUILDERS)
    for name, path in found.items():
        assert {p.name for p in path.iterdir()} == {"subject.txt", "body.txt"}, name


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_each_template_renders_with_its_builders_context(name: str, settings: Any) -> None:
    settings.LOCKSTEP_MAIL_IF_INVALID = MISSING
    world = build_case_world()
    for built in BUILDERS[name](world):
        text = f"{built.subject}\n{built.body}"
        assert "@@missing:" not in text, text
        assert built.subject.strip() == built.subject, "a subject is one line"
        assert "\n" not in built.subject
        assert built.body.endswith("\n")
        assert not built.body.endswith("\n\n")
        assert "&amp;" not in text  # mail is text: nothing escaped for HTML


def test_a_missing_variable_is_caught(settings: Any) -> None:
    settings.LOCKSTEP_MAIL_IF_INVALID = MISSING
    subject, _ = render_mail("report-news-notice", {"received": "then", "news_minutes": 15})
    assert "@@missing:project@@" in subject


def test_text_is_not_escaped_for_html() -> None:
    rendered = render_mail("list-relay", {"subject": "A & B", "text": "<x>", "archive_url": "u"})
    assert rendered.subject == "A & B"
    assert rendered.body.startswith("<x>\n")


def test_the_post_mail_reads_as_before() -> None:
    world = build_case_world()
    (mail,) = _posts(world)
    assert mail.body.startswith("[Sender not verified")
    assert "\n\n[Participants only:" in mail.body
    assert "wrote:\n\nA patch.\n\n(1 attachment(s) in the case room.)\n\n-- \n" in mail.body
    assert mail.body.endswith(f"/cases/{world.case.pk}/\n")


def test_a_listener_of_reporter_news_is_registered_once() -> None:
    before = list(reporter_news._listeners)
    for listener in before:
        reporter_news.listen(listener)  # intake's, registered when its app loaded
    assert reporter_news._listeners == before
    assert before
