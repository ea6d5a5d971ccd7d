"""Journeys through a real browser, one per role, at 1280 px and at 390 px, on the harness
(tests/browser/harness.py): every page visited is checked for console errors, failed answers,
a page wider than the screen and serious or critical axe-core violations, and screenshotted
into test-artifacts/browser/<journey>/<width>px/.

The maintainer's journey is in test_maintainer_journey.py, the vendor's and the coordinator's
in test_role_journeys.py (their shared steps in roles.py): each module has its own demo
server, since the report form takes ten reports an hour from one address.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.harness import BROWSER, WIDTHS, Pages, Watched

pytestmark = BROWSER

ATOM = "application/atom+xml"


def _links_answer(page: Watched) -> list[str]:
    """Every link on the page to this instance answers 200 (the page's own anchors aside)."""
    hrefs: list[str] = page.page.locator("main a[href]").evaluate_all(
        "links => links.map(a => a.href)"
    )
    local = sorted(
        {
            href.split("#")[0]
            for href in hrefs
            if href.startswith(page.base) and urlsplit(href).path != "/"
        }
    )
    for href in local:
        page.fetch(href)
    return local


@pytest.mark.parametrize("width", WIDTHS)
def test_visitor_finds_how_to_report_and_what_is_public(pages: Pages, width: int) -> None:
    visitor = pages.open("visitor", width=width)

    # The front page: how to report, the advisories, the lists, search, the feeds, log in.
    visitor.goto("/", label="front page")
    expect(visitor.page.locator("h1")).to_have_text("Lockstep")
    expect(visitor.page.locator("#how-to-report")).to_contain_text("No account is needed")
    visitor.page.keyboard.press("Tab")  # the first stop skips the header
    expect(visitor.page.locator(":focus")).to_have_text("Skip to content")
    expect(visitor.page.locator(":focus")).to_be_in_viewport()
    visitor.page.keyboard.press("Enter")
    assert visitor.page.url.endswith("/#main")
    linked = _links_answer(visitor)
    for path in (
        "/report/",
        "/list-key.asc",
        "/advisories/",
        "/advisories/feed.atom",
        "/lists/oss-security/",
        "/archive/feed.atom",
        "/login/",
    ):
        assert f"{visitor.base}{path}" in linked, path
    visitor.fetch("/advisories/feed.atom", content_type=ATOM)
    visitor.fetch("/archive/feed.atom", content_type=ATOM)

    # An advisory, from the list, with its machine-readable exports.
    visitor.follow("All advisories")
    visitor.follow(visitor.page.locator("main table a").first, label="an advisory")
    expect(visitor.page.locator("h1")).to_contain_text("Infinite loop in quokka_scan()")
    for export in ("OSV", "CSAF 2.0", "plain text"):
        href = visitor.page.get_by_role("link", name=export, exact=True).get_attribute("href")
        assert href is not None
        visitor.fetch(href)

    # Its post on the public list, then the list's archive.
    visitor.follow(visitor.page.locator("dd a[href^='/lists/']").first, label="the list post")
    expect(visitor.page.locator("main")).to_contain_text("quokka_scan()")
    visitor.follow(visitor.page.locator("main a[href^='/lists/']").first, label="the archive")
    expect(visitor.page.locator("h1")).to_contain_text("oss-security (demo)")

    # Search, from the front page's form, and a result.
    visitor.follow(visitor.page.locator("a.brand"), label="front page again")
    visitor.submit("#search form", {"q": "quokka_scan"}, label="search results")
    expect(visitor.page.locator(".results")).to_contain_text("Infinite loop in quokka_scan()")
    visitor.follow(visitor.page.locator(".results a").first, label="a search result")

    # Log in is one click away.
    visitor.follow(visitor.page.locator("header").get_by_role("link", name="Log in"))
    expect(visitor.page.locator("#id_login")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_reporter_reports_then_writes_on_the_tracking_page(pages: Pages, width: int) -> None:
    reporter = pages.open("reporter", width=width)
    reporter.goto("/", label="front page")
    reporter.follow("Use the report form")
    reporter.follow("libquokka", label="report form")
    title = f"Window overflow in quokka_inflate() ({width} px)"
    reporter.submit(
        "#report-form",
        {
            "title": title,
            "description": "A crafted stream writes past the window buffer.\n\n"
            "A long line that must wrap on a phone: "
            + "quokka_inflate_window_" * 12
            + "\nhttps://git.libquokka.example/libquokka.git/commit/"
            + "9c1d0e" * 10,
            "affected_versions": "1.0 to 1.4.2",
            "reporter_email": "rita@research.example",
        },
        label="tracking page",
    )
    expect(reporter.page.locator("#report-status")).to_have_text("New")
    expect(reporter.page.locator("h1")).to_have_text(title)
    tracking = reporter.page.url
    assert re.search(r"/track/[\w-]{40,}/$", tracking)
    expect(reporter.page.locator("#tracking-url")).to_have_text(tracking)

    # The tracking page's own form: a message to the maintainers, shown on the page. (With
    # `Referrer-Policy: no-referrer` Chromium posted it with `Origin: null`, and Django's CSRF
    # check answered 403: this step keeps that from coming back.)
    reporter.submit(
        "form:has(button[name=message])",
        {"body": "One more detail: 1.4.3 is affected as well."},
        label="message sent",
    )
    assert reporter.page.url == tracking
    expect(reporter.page.locator(".message").last).to_contain_text("1.4.3 is affected as well")
