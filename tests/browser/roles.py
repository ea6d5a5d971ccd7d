"""Steps the role journeys share (tests/browser/test_maintainer_journey.py and
test_role_journeys.py): a report filed without an account, a case opened by the maintainer
for a vendor's or the coordinator's journey, and the account pages every role has
(Security, API tokens, My keys and the mail setting).

Every page goes through the harness (tests/browser/harness.py): each helper's side pages
get their own journey name (`<journey>-reporter`, `<journey>-setup`, ...), so their
screenshots land beside the journey's own.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.harness import Pages, Watched
from tests.factories.keys import key_pair

QUINN = "quinn@libquokka.example"  # the libquokka team: the upstream maintainer
ANA = "ana@northwind.example"  # Northwind Linux, a vendor on the distros list (its admin)
OLGA = "olga@openlist.example"  # Openlist coordinators: they run the distros list
REPORT_FORM = "/projects/libquokka/report/"


def at(*, days: int = 0, hours: int = 0) -> str:
    """A `datetime-local` value, in UTC (as the forms read it): whole hours from now."""
    when = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (when + timedelta(days=days, hours=hours + 1)).strftime("%Y-%m-%dT%H:%M")


def said(page: Watched, text: str, kind: str = "success") -> None:
    """The page shows a flash message of `kind` containing `text`."""
    expect(page.page.locator(f"main p.flash.{kind}", has_text=text)).to_be_visible()


def menu(page: Watched, name: str) -> None:
    """Follow a link of the header's navigation (the screenshot is named after it)."""
    page.follow(page.page.locator("header").get_by_role("link", name=name), label=name)


def unfold(page: Watched, summary: str) -> None:
    """Open a <details> by its summary's text (its form is hidden until then)."""
    page.page.locator("summary", has_text=summary).first.click()


def file_report(reporter: Watched, title: str) -> str:
    """A report through the public form, with no account: its tracking page's address."""
    reporter.goto(REPORT_FORM, label="report form")
    reporter.submit(
        "#report-form",
        {
            "title": title,
            "description": f"{title}: a crafted stream makes libquokka misbehave.",
            "affected_versions": "1.0 to 1.4.2",
            "reporter_email": "rita@research.example",
        },
        label=f"reported: {title}",
    )
    expect(reporter.page.locator("#report-status")).to_have_text("New")
    return reporter.page.url


def accept_to_distros(maintainer: Watched, title: str, *, days: int = 5) -> str:
    """Triage: accept the report `title` to the distros list with a date; the case's path."""
    maintainer.goto("/triage/", label="triage inbox")
    maintainer.follow(title, label="the report")
    expect(maintainer.page.locator("#routing")).to_contain_text("private-coordination")
    maintainer.submit(
        "#accept-form",
        {"channel": "distros", "disclosure_at": at(days=days)},
        label="accepted",
    )
    said(maintainer, "Accepted: the case is open.")
    expect(maintainer.page.locator("h1")).to_contain_text(title)
    return maintainer.page.url.removeprefix(maintainer.base)


def add_vulnerability(maintainer: Watched, title: str) -> None:
    """The shortest description the form takes: a title (the form has its own journey)."""
    maintainer.follow("Add a vulnerability")
    maintainer.submit("#vuln-form", {"title": title}, label=f"vulnerability {title}")
    expect(maintainer.page.locator("#vulnerabilities")).to_contain_text(title)


def open_case(pages: Pages, journey: str, width: int, title: str, vulns: list[str]) -> str:
    """Setup for a vendor's or the coordinator's journey: reported without an account, then
    accepted to the distros list by the maintainer, with `vulns`; the case's path."""
    reporter = pages.open(f"{journey}-reporter", width=width)
    file_report(reporter, title)
    quinn = pages.open(f"{journey}-maintainer", width=width, login=QUINN)
    case = accept_to_distros(quinn, title)
    for vuln in vulns:
        add_vulnerability(quinn, vuln)
    return case


def write_and_correct(page: Watched, text: str) -> None:
    """A post in the case room, then its correction (marked "edited", not mailed again)."""
    page.submit("#post-form", {"body": text}, label="posted")
    said(page, "Posted.")
    post = page.page.locator("article.post", has_text=text)
    expect(post).to_have_count(1)
    post.locator("summary", has_text="Edit your post").click()
    page.submit(
        f'article.post:has-text("{text}") details.edit-post form',
        {"body": f"{text} Corrected: the arm64 build too."},
        label="post edited",
    )
    said(page, "Post edited. It was not mailed again.")
    post = page.page.locator("article.post", has_text="Corrected: the arm64 build too.")
    expect(post).to_contain_text("edited")


# The account pages every role has.


def end_other_sessions(pages: Pages, page: Watched, journey: str, email: str) -> None:
    """Security: one other session ended by its row's button, then all the others at once
    (that button asks first); the other browser is signed out."""
    other = pages.open(f"{journey}-other-session", width=page.width, login=email)
    menu(page, "Security")
    sessions = page.page.locator("table tbody tr")
    expect(sessions.filter(has_text="(this one)")).to_have_count(1)
    session = sessions.filter(has_not_text="(this one)").first.locator("[name=session]")
    page.submit(
        f"form:has([name=session][value='{session.get_attribute('value')}'])", label="ended one"
    )
    said(page, "Session ended.")
    page.submit("form:has([name=others])", label="other sessions ended")
    assert "End every session but this one?" in page.dialogs
    said(page, "other session(s) ended.")
    expect(sessions).to_have_count(1)
    expect(sessions).to_contain_text("(this one)")
    other.goto("/account/security/", label="signed out")
    assert "/login/" in other.page.url, other.page.url


def create_and_revoke_token(page: Watched, name: str) -> None:
    """API tokens: create one (a fresh sign-in is the recent proof it asks for), revoke it."""
    menu(page, "API tokens")
    page.submit("form:has([name=expires_in_days])", {"name": name}, label="token created")
    expect(page.page.locator("section[role=status] h2")).to_have_text(f"Token “{name}” created")
    token = page.page.locator("#new-token").input_value()
    assert len(token) > 30, token
    page.submit(f"tr:has-text('{name}') form", label="token revoked")
    said(page, f"Token “{name}”")
    expect(page.page.locator("main")).not_to_contain_text(token[:12])


def add_key_and_take_plain_mail(page: Watched, user_id: str) -> None:
    """My keys: paste a new public key; then the mail setting (clear text where allowed)."""
    menu(page, "My keys")
    public = key_pair(user_id).public
    page.submit("form:has([name=armored])", {"armored": public}, label="key added")
    said(page, "added.")
    fingerprint = page.page.locator("main p.flash.success").inner_text().split("Key ")[1]
    expect(page.page.locator("ul.keys")).to_contain_text(fingerprint.removesuffix(" added."))
    expect(page.page.locator("ul.keys")).to_contain_text(user_id)
    page.submit("#mail-settings form", {"plain_mail": True}, label="mail settings saved")
    said(page, "Mail settings saved.")
    expect(page.page.locator("#mail-settings [name=plain_mail]")).to_be_checked()


def log_out(page: Watched) -> None:
    """The header's last form: back to the sign-in page, signed out."""
    page.submit("header form[action='/logout/']", label="logged out")
    expect(page.page.locator("#id_login")).to_be_visible()
    expect(page.page.locator("header")).to_contain_text("Log in")


# Mail, as the demo's embedded mode leaves it: files in the outbox folder, and an SMTP port.


def mail_to(data: Path, address: str, *, contains: str = "", seconds: float = 30) -> EmailMessage:
    """The newest copy in the outbox folder to `address` (whose raw text has `contains`),
    waiting for the worker to write it."""
    deadline = time.monotonic() + seconds
    while True:
        files = sorted((data / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime)
        for path in reversed(files):
            raw = path.read_bytes()
            message = message_from_bytes(raw, policy=default)
            if address in str(message.get("To", "")) and contains.encode() in raw:
                assert isinstance(message, EmailMessage)
                return message
        if time.monotonic() > deadline:
            msg = f"no mail to {address} with {contains!r} in {data / 'outbox'}"
            raise AssertionError(msg)
        time.sleep(0.5)


def smtp_port(log: Path) -> int:
    """The port the demo's mail server listens on, from its log."""
    found = re.search(r"smtpd listening on [\d.]+:(\d+)", log.read_text(errors="replace"))
    assert found, f"no smtpd line in {log}"
    return int(found.group(1))
