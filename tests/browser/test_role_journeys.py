"""The vendor's and the coordinator's journeys through a real browser, at 1280 px and at
390 px, on the harness (tests/browser/harness.py): each submits every form on its way and
checks what the page then shows; every page is checked for console errors, failed answers,
a page wider than the screen and serious or critical axe-core violations.

Each journey gets its own case, reported without an account and accepted to the distros
list by the maintainer (tests/browser/roles.py). The maintainer's journey has its own module
(test_maintainer_journey.py): the report form takes 10 reports an hour from one address
(LOCKSTEP_REPORT_RATE), and one demo server could not take all three journeys' reports.
"""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from tests.browser.harness import BROWSER, WIDTHS, Demo, Pages, Watched
from tests.browser.roles import (
    ANA,
    OLGA,
    add_key_and_take_plain_mail,
    at,
    create_and_revoke_token,
    end_other_sessions,
    mail_to,
    open_case,
    said,
    smtp_port,
    unfold,
)

pytestmark = BROWSER

VULNS = ["Heap overflow in quokka_inflate()", "Use after free in quokka_close()"]


@pytest.mark.parametrize("width", WIDTHS)
def test_vendor_agrees_answers_asks_and_reports_a_leak(pages: Pages, width: int) -> None:
    title = f"Window overflow for Northwind ({width} px)"
    case = open_case(pages, "vendor", width, title, VULNS)
    ana = pages.open("vendor", width=width, login=ANA)
    _find_the_case(ana, title)
    assert ana.page.url.endswith(case)
    _agree_and_answer(ana)
    _write_and_correct(ana, f"Northwind's packages for {width} px are built.")
    _ask_for_time_then_report_a_leak(ana)
    _see_the_lists(ana)
    end_other_sessions(pages, ana, "vendor", ANA)
    create_and_revoke_token(ana, f"northwind-ci-{width}")
    add_key_and_take_plain_mail(ana, f"Ana Souza ({width} px) <{ANA}>")


def _find_the_case(ana: Watched, title: str) -> None:
    ana.follow(ana.page.locator("header").get_by_role("link", name="Cases"))
    ana.submit("#case-search", {"q": title, "embargoed": True}, label="cases found")
    rows = ana.page.locator("#cases tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Private coordination under embargo")
    ana.follow(title, label="the case room")
    expect(ana.page.locator("#statuses")).to_contain_text("No response yet")


def _agree_and_answer(ana: Watched) -> None:
    """The date, then a status for each vulnerability: the table shows both answers."""
    ana.submit("#agree-form", label="agreed to the date")
    said(ana, "You agreed to the date.")
    expect(ana.page.locator("#agreed")).to_contain_text("You agreed on")
    expect(ana.page.locator("#agree-form")).to_have_count(0)
    answers = (("affected", "Affected"), ("fix_ready", "Fix ready"))
    for form, (status, _label) in zip(("#status-form", "#status-form-1"), answers, strict=True):
        statement = f"Northwind: {status} ({ana.width} px)."
        ana.submit(form, {"status": status, "statement": statement}, label=f"status {status}")
        said(ana, "Status saved.")
    ours = ana.page.locator("#statuses tbody tr", has_text="Northwind Linux")
    for _status, label in answers:
        expect(ours).to_contain_text(label)
    expect(ana.page.locator("#waiting")).not_to_contain_text("Northwind Linux")


def _write_and_correct(page: Watched, text: str) -> None:
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


def _ask_for_time_then_report_a_leak(ana: Watched) -> None:
    unfold(ana, "Ask for more time")
    reason = f"Our arm64 builders are down ({ana.width} px)."
    ana.submit(
        "#extension-form", {"requested": at(days=9), "reason": reason}, label="asked for time"
    )
    said(ana, "Extension requested; the case's leads decide.")
    request = ana.page.locator("#embargo article.request", has_text=reason)
    expect(request).to_contain_text("Northwind Linux")
    expect(request).to_contain_text("Waiting for a decision")
    # Last: the leak report (the leads confirm or dismiss it; it ends nothing by itself).
    unfold(ana, "Report that the issue is public already")
    leak = f"https://git.libquokka.example/libquokka.git/commit/{ana.width}f2e3d"
    ana.submit(
        "#breach-form",
        {"evidence_url": leak, "evidence_text": "The fix was pushed to the public tree."},
        label="leak reported",
    )
    said(ana, "Reported; the upstream or the coordinator will confirm or dismiss it.")
    expect(ana.page.locator("#embargo article.request", has_text=leak)).to_contain_text(
        "Waiting for a decision"
    )
    expect(ana.page.locator("#embargo")).not_to_contain_text("Public since")


def _see_the_lists(ana: Watched) -> None:
    """The private list Northwind sits on, and the public list's archive."""
    ana.follow(ana.page.locator("header").get_by_role("link", name="Dashboard"))
    ana.follow("distros (demo)", label="the private list")
    expect(ana.page.locator("main")).to_contain_text("Northwind Linux")
    expect(ana.page.locator("#publish, #mail")).to_have_count(0)  # not Northwind's to run
    ana.goto("/lists/oss-security/", label="the public list's archive")
    expect(ana.page.locator("h1")).to_contain_text("oss-security (demo)")
