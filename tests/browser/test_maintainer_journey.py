"""The upstream maintainer's journey through a real browser, at 1280 px and at 390 px, on the
harness (tests/browser/harness.py): triage of fresh reports, the case room, the team's page
and the account pages, submitting every form on the way and checking what the page then
shows. Every page is checked for console errors, failed answers, a page wider than the
screen and serious or critical axe-core violations.

Its own module (so its own demo server): it files four reports a width, and the report form
takes ten an hour from one address (LOCKSTEP_REPORT_RATE).
"""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from tests.browser.harness import BROWSER, WIDTHS, Demo, Pages, Watched
from tests.browser.roles import (
    ANA,
    QUINN,
    add_key_and_take_plain_mail,
    add_vulnerability,
    at,
    create_and_revoke_token,
    end_other_sessions,
    file_report,
    log_out,
    mail_to,
    menu,
    said,
    unfold,
    write_and_correct,
)

pytestmark = BROWSER


@pytest.mark.parametrize("width", WIDTHS)
def test_maintainer_triages_runs_the_case_and_the_team(
    pages: Pages, demo: Demo, width: int
) -> None:
    reporter = pages.open("maintainer-reporter", width=width)
    tracking = {fate: file_report(reporter, _title(fate, width)) for fate in FATES}
    quinn = pages.open("maintainer", width=width, login=QUINN)
    case, number = _accept_with_a_date(quinn, _title("accept", width))
    _answer_a_vendor(pages, quinn, case)
    _decline_duplicate_and_spam(quinn, reporter, tracking, original=number)
    _the_reporter_writes_to_the_case(reporter, quinn, tracking["accept"], case)
    write_and_correct(quinn, f"Fix pushed to the private branch ({width} px).")
    _move_and_settle_the_date(quinn)
    _remove_and_add_vendors(quinn)
    _vulnerability_cve_draft_and_early_release(quinn, case)
    _run_the_team(pages, quinn, demo)
    end_other_sessions(pages, quinn, "maintainer", QUINN)
    create_and_revoke_token(quinn, f"libquokka-release-{width}")
    add_key_and_take_plain_mail(quinn, f"Quinn Maintainer ({width} px) <{QUINN}>")
    log_out(quinn)


FATES = ("accept", "decline", "duplicate", "spam")  # four fresh reports, one for each way


def _title(fate: str, width: int) -> str:
    return f"Overflow in quokka_{fate}() ({width} px)"


def _report_number(quinn: Watched) -> str:
    found = re.match(r"Report (\d+):", quinn.page.locator("h1").inner_text())
    assert found, quinn.page.locator("h1").inner_text()
    return found[1]


def _open_report(quinn: Watched, title: str) -> None:
    menu(quinn, "Triage")
    quinn.follow(title, label="the report")
    expect(quinn.page.locator("h1")).to_contain_text(title)


def _accept_with_a_date(quinn: Watched, title: str) -> tuple[str, str]:
    """A question to the reporter first, then accept to the distros list with a date: the
    case's path and the report's number."""
    _open_report(quinn, title)
    number = _report_number(quinn)
    question = "Does 1.3 need the same crafted stream?"
    quinn.submit("form:has(button[name=message])", {"body": question}, label="asked")
    expect(quinn.page.locator(".message").last).to_contain_text(question)
    expect(quinn.page.locator("#routing")).to_contain_text("private-coordination")
    when = at(days=5)
    quinn.submit("#accept-form", {"channel": "distros", "disclosure_at": when}, label="accepted")
    said(quinn, "Accepted: the case is open.")
    expect(quinn.page.locator("#disclosure")).to_contain_text(when.replace("T", " "))
    return quinn.page.url.removeprefix(quinn.base), number


def _answer_a_vendor(pages: Pages, quinn: Watched, case: str) -> None:
    """Northwind asks for more time and reports a leak; the maintainer grants the time (a
    weighty act: the fresh sign-in is its proof) and dismisses the leak report."""
    ana = pages.open("maintainer-vendor", width=quinn.width, login=ANA)
    ana.goto(case, label="the vendor's case room")
    unfold(ana, "Ask for more time")
    reason, later = f"Our arm64 builders are down ({quinn.width} px).", at(days=9)
    ana.submit("#extension-form", {"requested": later, "reason": reason}, label="asked")
    said(ana, "Extension requested")
    unfold(ana, "Report that the issue is public already")
    seen = f"A forum thread quotes the report ({quinn.width} px)."
    ana.submit("#breach-form", {"evidence_text": seen}, label="leak reported")
    said(ana, "Reported")
    quinn.goto(case, label="a request and a leak report")
    request = f'#embargo article.request:has-text("{reason}")'
    quinn.submit(
        f"{request} form",
        {"note": "Granted: one more week for the builders."},
        button="[value=grant]",
        label="extension granted",
    )
    expect(quinn.page.locator(request)).to_contain_text("Granted")
    expect(quinn.page.locator("#disclosure")).to_contain_text(later.replace("T", " "))
    leak = f'#embargo article.request:has-text("{seen}")'
    note = "The thread quotes the public changelog only."
    quinn.submit(f"{leak} form", {"note": note}, button="[value=dismiss-breach]", label="dismissed")
    said(quinn, "Dismissed; the embargo stands.")
    expect(quinn.page.locator(leak)).to_contain_text("Dismissed")
    expect(quinn.page.locator(leak)).to_contain_text(note)


def _decline_duplicate_and_spam(
    quinn: Watched, reporter: Watched, tracking: dict[str, str], *, original: str
) -> None:
    """The other three reports leave the inbox; the reporter reads why on the tracking page."""
    declined, width = _title("decline", quinn.width), quinn.width
    _open_report(quinn, declined)
    reason = "This is the documented behaviour of quokka_decline()."
    quinn.submit("form[action$='/decline/']", {"reason": reason}, label="declined")
    said(quinn, "Declined; the reporter sees your reason.")
    expect(quinn.page.locator("#inbox")).not_to_contain_text(declined)
    _open_report(quinn, _title("duplicate", width))
    quinn.submit("form[action$='/duplicate/']", {"original": original}, label="duplicate")
    said(quinn, "Marked as a duplicate.")
    _open_report(quinn, _title("spam", width))
    quinn.submit("form[action$='/spam/']", label="spam")
    said(quinn, "Marked as spam.")
    for fate in ("duplicate", "spam"):
        expect(quinn.page.locator("#inbox")).not_to_contain_text(_title(fate, width))
    quinn.follow(quinn.page.locator("nav.tabs a", has_text="Declined"), label="declined tab")
    expect(quinn.page.locator("#inbox")).to_contain_text(declined)
    reporter.goto(tracking["decline"], label="tracking page, declined")
    expect(reporter.page.locator("#report-status")).to_have_text("Declined")
    expect(reporter.page.locator(".message", has_text=reason)).to_be_visible()


def _the_reporter_writes_to_the_case(
    reporter: Watched, quinn: Watched, tracking: str, case: str
) -> None:
    """On the tracking page: the maintainers' question, the accepted report, and the form
    that writes to the case; the maintainer reads it in the case room."""
    reporter.goto(tracking, label="tracking page, accepted")
    expect(reporter.page.locator("#report-status")).to_have_text("Accepted")
    expect(reporter.page.locator(".message", has_text="same crafted stream")).to_be_visible()
    text = f"Yes: 1.3 loops as well ({reporter.width} px)."
    reporter.submit("form:has(button[name=post])", {"body": text}, label="posted to the case")
    expect(reporter.page.locator("article.post", has_text=text)).to_be_visible()
    quinn.goto(case, label="the reporter's post")
    expect(quinn.page.locator("#posts article.post", has_text=text)).to_be_visible()


def _move_and_settle_the_date(quinn: Watched) -> None:
    when = at(days=10)
    quinn.submit("#date-form", {"disclosure_at": when}, label="date moved")
    said(quinn, f"Disclosure set to {when.replace('T', ' ')} UTC.")
    quinn.submit("form:has([value=confirm-date])", label="date declared agreed")
    said(quinn, "The date is agreed; participants were told.")
    expect(quinn.page.locator("#embargo .tag.ok", has_text="agreed")).to_be_visible()


def _remove_and_add_vendors(quinn: Watched) -> None:
    """Kestrel and Bluefin leave the case (each form asks first); Kestrel comes back from the
    list, then Bluefin with the whole list (that form asks first too)."""
    for name in ("Kestrel BSD", "Bluefin OS"):
        quinn.submit(f'#statuses tr:has-text("{name}") form[data-confirm]', label="removed")
        assert quinn.dialogs[-1].startswith(f"Remove {name} from this case?")
        said(quinn, "Participants updated.")
    vendors = quinn.page.locator("#statuses tbody tr", has_text="Vendor")
    expect(vendors).to_have_count(1)
    quinn.submit("form:has(#add-org)", {"org": "kestrel"}, label="added")
    said(quinn, "Participants updated.")
    expect(vendors.filter(has_text="Kestrel BSD")).to_have_count(1)
    quinn.submit("form:has([value=invite-channel])", label="the whole list invited")
    assert quinn.dialogs[-1].startswith("Every member of distros (demo) will see this case")
    expect(vendors).to_have_count(3)
    expect(quinn.page.locator("#no-candidates")).to_contain_text("Every member of distros")


def _vulnerability_cve_draft_and_early_release(quinn: Watched, case: str) -> None:
    title = f"Heap overflow in quokka_window() ({quinn.width} px)"
    add_vulnerability(quinn, title)
    # The demo runs without a block of CVE IDs (LOCKSTEP_CVE_BLOCK is empty, and the test
    # server keeps no LOCKSTEP_* setting): the button answers so, on the page.
    quinn.submit("#vulnerabilities form:has([value=reserve-cve])", label="reserve a CVE ID")
    said(quinn, "This instance has no block of CVE IDs to reserve from.", kind="error")
    unfold(quinn, "Advisory draft (published at the date)")
    summary = f"libquokka before 1.4.3 writes past the window buffer ({quinn.width} px)."
    quinn.submit(
        "#draft-form",
        {"summary": summary, "details": "A crafted stream.", "release_version": "1.4.3"},
        label="draft saved",
    )
    said(quinn, "Advisory draft saved.")
    quinn.follow("preview the advisory", label="advisory preview")
    expect(quinn.page.locator("main")).to_contain_text(summary)
    quinn.follow(quinn.page.locator(f"main a[href='{case}']"), label="back to the case")
    unfold(quinn, "We must release before the date")
    quinn.submit(
        "#early-form",
        {"[value=without_fix]": True, "version": "1.4.3"},
        label="early release recorded",
    )
    said(quinn, "Recorded; participants were warned.")
    expect(
        quinn.page.locator("#embargo article.request", has_text="Early release 1.4.3")
    ).to_be_visible()


def _run_the_team(pages: Pages, quinn: Watched, demo: Demo) -> None:
    """The team's page: invite (one invitation revoked, one accepted with a new account),
    then the new member's role changed, then the member removed (that form asks first)."""
    menu(quinn, "Dashboard")
    quinn.follow("libquokka team", label="the team")
    team = quinn.page.url
    newcomer, mistake = (f"{who}.{quinn.width}@libquokka.example" for who in ("sam", "tom"))
    for email in (mistake, newcomer):
        quinn.submit("form[action$='/invitations/']", {"email": email}, label="invited")
        said(quinn, f"Invitation sent to {email}.")
    quinn.submit(f"form[data-confirm*='{mistake}']", label="invitation revoked")
    said(quinn, f"The invitation to {mistake} is revoked.")
    expect(quinn.page.locator("#invitations table")).not_to_contain_text(mistake)
    link = re.search(r"\S+/invitations/[\w-]+/", _text(mail_to(demo.data, newcomer)))
    assert link, newcomer
    sam = pages.open("maintainer-invitee", width=quinn.width)
    sam.goto(link[0], label="the invitation")
    password = f"a long passphrase for sam at {quinn.width} px"
    sam.submit(
        "form:has([name=display_name])",
        {"display_name": "Sam Newcomer", "password": password, "password_again": password},
        label="joined",
    )
    said(sam, "Welcome: you are now a member of libquokka team.")
    quinn.goto(team, label="the team again")
    row = f'#members tr:has-text("{newcomer}")'
    quinn.submit(f"{row} form:has([name=role])", {"role": "admin"}, label="role changed")
    said(quinn, f"{newcomer} is now administrator.")
    expect(quinn.page.locator(f"{row} [name=role]")).to_have_value("admin")
    quinn.submit(f"{row} form[data-confirm]", label="member removed")
    said(quinn, f"{newcomer} is no longer a member of libquokka team.")
    expect(quinn.page.locator("#members")).not_to_contain_text(newcomer)


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
