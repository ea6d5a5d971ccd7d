"""Second factors in a real browser: a passkey made and used with Chromium's virtual
authenticator (CDP WebAuthn), and TOTP with a code computed from the secret the page shows.

WebAuthn needs a secure origin with a domain name: the test browses http://localhost:<port>,
which browsers count as secure (`lockstep serve` on loopback allows it for the server side).
"""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.test_report_to_vendor_status import PASSWORD, _shot, browser, pytestmark
from tests.flows.test_serve import served as served  # noqa: PLC0414 - a fixture
from tests.flows.test_serve import wait_healthy

__all__ = ["browser", "pytestmark"]


def _watched(browser: Browser) -> tuple[Page, list[str]]:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    return page, problems


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")


def _log_out(page: Page) -> None:
    page.click("header form button")


@pytest.fixture
def localhost(served: tuple[object, str, object]) -> str:
    _process, base, _tmp = served
    wait_healthy(base)
    return base.replace("127.0.0.1", "localhost")


@pytest.mark.parametrize("served", [["--demo"]], indirect=True)
def test_a_passkey_is_made_and_then_logs_in_alone(browser: Browser, localhost: str) -> None:
    page, problems = _watched(browser)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    _log_in(page, localhost, "ana@northwind.example")
    expect(page).to_have_url(f"{localhost}/")
    page.goto(f"{localhost}/2fa/webauthn/add/")
    page.fill("input[name=name]", "Laptop passkey")
    page.check("input[name=passwordless]")
    page.click("#mfa_webauthn_add")
    expect(page.get_by_text("Recovery Codes").first).to_be_visible()
    _shot(page, "passkey-added")
    page.goto(f"{localhost}/account/security/")
    _log_out(page)
    expect(page).to_have_url(f"{localhost}/login/")
    page.click("#passkey_login")
    expect(page).to_have_url(f"{localhost}/")
    expect(page.get_by_text("Northwind Linux").first).to_be_visible()
    assert problems == []


@pytest.mark.parametrize("served", [["--demo"]], indirect=True)
def test_totp_is_set_up_and_asked_for_at_the_next_login(browser: Browser, localhost: str) -> None:
    page, problems = _watched(browser)
    _log_in(page, localhost, "quinn@libquokka.example")
    expect(page).to_have_url(f"{localhost}/")
    page.goto(f"{localhost}/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.click("form[action='/2fa/totp/activate/'] button[type=submit]")
    expect(page.get_by_text("Recovery Codes").first).to_be_visible()
    _shot(page, "totp-activated")
    _log_out(page)
    _log_in(page, localhost, "quinn@libquokka.example")
    expect(page).to_have_url(f"{localhost}/2fa/authenticate/")
    time.sleep(31 - time.time() % 30)  # the activation's code is spent: use the next one
    page.fill("input[name=code]", format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.click("form[action='/2fa/authenticate/'] button[type=submit]")
    expect(page).to_have_url(f"{localhost}/")
    assert problems == []
