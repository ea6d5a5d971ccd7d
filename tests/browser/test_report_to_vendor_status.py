"""A real browser (Debian's Chromium, headless, driven by Playwright) walks the main journey.

A researcher reports, the maintainer triages to the private route and picks the date, a
vendor member logs in, sees the case and sets a status; a non-participant gets 404.
Screenshots of every step land in test-artifacts/browser/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.flows.test_serve import served as served  # noqa: PLC0414 - a fixture
from tests.flows.test_serve import wait_healthy

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _log_in(browser: Browser, base: str, email: str) -> Page:
    page = browser.new_context(timezone_id="Europe/Berlin").new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/")
    return page


@pytest.mark.parametrize("served", [["--demo"]], indirect=True)
def test_report_triage_vendor_status_and_404(
    served: tuple[object, str, Path], browser: Browser
) -> None:
    _process, base, _tmp = served
    wait_healthy(base)
    for old in ARTIFACTS.glob("*.png"):  # this journey's; the harness's live in folders
        old.unlink()

    # 1. A researcher reports, without an account.
    researcher = browser.new_page()
    researcher.goto(f"{base}/projects/libquokka/report/")
    researcher.fill("#id_title", "Heap overflow in quokka_inflate()")
    researcher.fill("#id_description", "A crafted stream writes past the window buffer.")
    researcher.fill("#id_affected_versions", "1.0 to 1.4.2")
    _shot(researcher, "1-report-form")
    researcher.click("#report-form button[type=submit]")
    expect(researcher.locator("#report-status")).to_have_text("New")
    tracking = researcher.url
    assert re.search(r"/track/[\w-]{40,}/$", tracking)
    _shot(researcher, "2-tracking-page")

    # 2. The maintainer triages it to the private route and picks the date.
    maintainer = _log_in(browser, base, "quinn@libquokka.example")
    maintainer.goto(f"{base}/triage/")
    maintainer.click("text=Heap overflow in quokka_inflate()")
    expect(maintainer.locator("#routing")).to_contain_text("private-coordination")
    maintainer.fill("#id_disclosure_at", "2099-01-01T14:00")  # far too late: cut back
    _shot(maintainer, "3-triage")
    maintainer.click("#accept-form button[type=submit]")
    expect(maintainer.locator("h1")).to_contain_text("Heap overflow in quokka_inflate()")
    case_url = maintainer.url
    maintainer.get_by_text("Add a vulnerability").click()
    maintainer.fill("#v-title", "Heap overflow in quokka_inflate()")
    maintainer.fill("#v-cvss3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H")
    maintainer.click("#vuln-form button[type=submit]")
    expect(maintainer.locator("#vulnerabilities")).to_contain_text("8.8")
    _shot(maintainer, "4-case-room-maintainer")

    # 3. A vendor member logs in, sees the case and sets a status.
    vendor = _log_in(browser, base, "ana@northwind.example")
    vendor.goto(case_url)
    expect(vendor.locator("#disclosure")).to_contain_text("UTC")
    expect(vendor.locator("#disclosure .local")).to_contain_text("Europe/Berlin")
    expect(vendor.locator("#statuses")).to_contain_text("No response yet")
    vendor.select_option("#status-value", "fix_ready")
    vendor.fill("#status-statement", "Packages built, waiting for the date.")
    vendor.click("#status-form button[type=submit]")
    expect(vendor.locator("#statuses")).to_contain_text("Fix ready")
    _shot(vendor, "5-vendor-status")

    # 4. Someone outside the case gets 404.
    outsider = _log_in(browser, base, "rita@research.example")
    answer = outsider.goto(case_url)
    assert answer is not None
    assert answer.status == 404
    _shot(outsider, "6-outsider-404")

    # The reporter's page now shows the case and its date.
    researcher.goto(tracking)
    expect(researcher.locator("#report-status")).to_have_text("Accepted")
    _shot(researcher, "7-reporter-sees-case")

    _break_the_embargo_and_publish(browser, base, vendor, maintainer, case_url)


def _break_the_embargo_and_publish(
    browser: Browser, base: str, vendor: Page, maintainer: Page, case_url: str
) -> None:
    # 8. Before the date the public sees nothing of it.
    public = browser.new_page()
    public.goto(f"{base}/advisories/")
    expect(public.locator("main")).not_to_contain_text("quokka_inflate")

    # 9. The vendor sees the fix pushed publicly and reports it; the maintainer confirms.
    vendor.goto(case_url)
    vendor.get_by_text("Report that the issue is public already").click()
    vendor.fill("#breach-url", "https://git.libquokka.example/commit/1f2e3d")
    vendor.click("#breach-form button[type=submit]")
    expect(vendor.locator("#embargo")).to_contain_text("git.libquokka.example")
    maintainer.goto(case_url)
    maintainer.on("dialog", lambda dialog: dialog.accept())
    maintainer.get_by_role("button", name="Confirm: end the embargo now").click()
    expect(maintainer.locator("#embargo")).to_contain_text("Public since")
    _shot(maintainer, "8-embargo-broken")

    # 10. Everyone can read the advisory, find it, and fetch its exports.
    public.goto(f"{base}/advisories/")
    row = public.locator("tr", has_text="Heap overflow in quokka_inflate()")
    row.get_by_role("link").first.click()
    expect(public.locator("h1")).to_contain_text("Heap overflow in quokka_inflate()")
    expect(public.locator("main")).to_contain_text("embargo ended early")
    _shot(public, "9-public-advisory")
    public.goto(f"{base}/search/?q=quokka_inflate")
    expect(public.locator(".results")).to_contain_text("LOCKSTEP-")
    answer = public.goto(public.url.replace("/search/?q=quokka_inflate", "/advisories/feed.atom"))
    assert answer is not None
    assert answer.status == 200
