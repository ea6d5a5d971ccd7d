"""The Content-Security-Policy in a real browser (Debian's Chromium, headless): the pages of a
reporter, a maintainer and the public load without one violation, their script runs (local
times appear), and a button that asks first still asks (`data-confirm`, no inline handler).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect, sync_playwright

from tests.flows.test_serve import served as served  # noqa: PLC0414 - a fixture
from tests.flows.test_serve import wait_healthy

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "quokka-demo-password"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium (apt-get install chromium); CI installs it",
    ),
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page whose console and script errors are kept, to find CSP violations in them."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium reports each violation on the console ("Refused to execute inline script
        # because it violates the following Content Security Policy directive: …").
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.problems.append(f"{self.page.url}: {message.text}")

    def visit(self, url: str) -> None:
        answer = self.page.goto(url)
        assert answer is not None
        assert answer.status == 200, url
        assert answer.headers.get("content-security-policy"), url


def _log_in(browser: Browser, base: str, email: str) -> Watched:
    watched = Watched(browser.new_context(timezone_id="Europe/Berlin").new_page())
    watched.visit(f"{base}/login/")
    watched.page.fill("#id_login", email)
    watched.page.fill("#id_password", PASSWORD)
    watched.page.click("button[type=submit]")
    expect(watched.page).to_have_url(f"{base}/")
    return watched


@pytest.mark.parametrize("served", [["--demo"]], indirect=True)
def test_pages_load_without_a_csp_violation(
    served: tuple[object, str, Path], browser: Browser
) -> None:
    _process, base, _tmp = served
    wait_healthy(base)

    public = Watched(browser.new_page())
    for path in (
        "/login/",
        "/report/",
        "/advisories/",
        "/search/?q=quokka",
        "/lists/oss-security/",
    ):
        public.visit(f"{base}{path}")
    public.visit(f"{base}/projects/libquokka/report/")
    public.page.fill("#id_title", "Overflow in quokka_inflate()")
    public.page.fill("#id_description", "A crafted stream writes past the window.")
    public.page.click("#report-form button[type=submit]")
    expect(public.page.locator("#report-status")).to_have_text("New")
    # The page's own script ran under the policy: the local time is shown beside UTC.
    expect(public.page.locator(".local").first).to_be_visible()

    maintainer = _log_in(browser, base, "quinn@libquokka.example")
    for path in ("/", "/cases/", "/cases/waiting/", "/account/tokens/", "/account/keys/"):
        maintainer.visit(f"{base}{path}")
    maintainer.visit(f"{base}/triage/")
    maintainer.page.click("text=Overflow in quokka_inflate()")
    maintainer.page.fill("#id_disclosure_at", "2099-01-01T14:00")
    maintainer.page.click("#accept-form button[type=submit]")
    expect(maintainer.page.locator("h1")).to_contain_text("Overflow in quokka_inflate()")
    expect(maintainer.page.locator("#disclosure .local")).to_contain_text("Europe/Berlin")

    # Inviting the whole list asks first; saying no sends nothing.
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    maintainer.page.once("dialog", dismiss)
    maintainer.page.get_by_role("button", name="Invite all of distros (demo)").click()
    assert asked
    assert asked[0].startswith("Every member of distros (demo) will see this case")
    expect(maintainer.page.locator("main")).not_to_contain_text("Participants updated.")

    assert public.problems + maintainer.problems == []
