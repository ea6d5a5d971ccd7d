"""Finding one's cases (search, filters, pages), the navigation each person gets, and the mail
page: the sent-mail history as far as one's access goes, and no server path for non-operators
(issue 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

import lockstep.web.cases
from lockstep.cases.actions.embargo import do_agree_date, do_request_extension
from lockstep.cases.actions.participants import do_set_status
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Case, Status
from lockstep.cases.queries import access_case_by_id, seat_of
from lockstep.core import clock
from lockstep.cve.actions.reserving import reserve_cve
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import Role
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, CaseWorld, build_case_world
from tests.factories.world import UserFactory

pytestmark = pytest.mark.django_db


def _vuln(world: CaseWorld, title: str = "Overflow") -> None:
    lead = actor_for(world.maintainer)
    access = access_case_by_id(lead, world.case.pk)
    do_add_vulnerability(access, VulnerabilityInput(title=title), actor=lead)


def _two_cases() -> tuple[CaseWorld, CaseWorld]:
    """The vendor's member is in both cases: "a" waits for their status, "b" does not."""
    a, b = build_case_world(), build_case_world(tag="-b")
    do_add_member(b.vendor, a.vendor_user, role=Role.MEMBER, actor=SYSTEM)
    for world in (a, b):
        _vuln(world)
    vendor = actor_for(a.vendor_user)
    access = access_case_by_id(vendor, b.case.pk)
    seat = seat_of(access)
    do_set_status(access, seat, b.case.vulnerabilities.get(), status=Status.FIX_READY, actor=vendor)
    do_agree_date(access, actor=vendor)
    return a, b


def _titles(client: Client, query: str) -> list[int]:
    page = client.get(f"/cases/{query}").content.decode()
    table = page.split('id="cases"')[1].split("</table>")[0]
    return sorted(case.pk for case in Case.objects.all() if f'href="/cases/{case.pk}/"' in table)


def test_search_and_filters_on_the_case_list(client: Client) -> None:
    a, b = _two_cases()
    Case.objects.filter(pk=b.case.pk).update(title="Use after free in deflate()")
    client.force_login(a.vendor_user)
    assert sorted(_titles(client, "")) == sorted([a.case.pk, b.case.pk])
    assert _titles(client, "?q=inflate") == [a.case.pk]
    assert _titles(client, "?q=DEFLATE+free") == [b.case.pk]
    assert _titles(client, "?q=libquokka-b") == [b.case.pk]  # the project
    assert _titles(client, "?q=nothing-like-it") == []
    assert _titles(client, "?todo=1") == [a.case.pk]  # a status is still to give
    assert _titles(client, "?embargoed=1&state=open") == sorted([a.case.pk, b.case.pk])
    Case.objects.filter(pk=b.case.pk).update(published_at=clock.now())
    assert _titles(client, "?state=published") == [b.case.pk]
    assert _titles(client, "?state=open") == [a.case.pk]
    assert _titles(client, "?embargoed=1") == [a.case.pk]
    assert sorted(_titles(client, "?state=nonsense")) == sorted([a.case.pk, b.case.pk])
    page = client.get("/cases/?q=nothing-like-it&state=open").content.decode()
    assert "No case of yours matches." in page
    assert 'value="nothing-like-it"' in page
    assert '<option value="open" selected>' in page


def test_search_finds_a_case_by_its_cve_id(client: Client) -> None:
    world = build_case_world()
    _vuln(world)
    lead = actor_for(world.maintainer)
    with override_settings(LOCKSTEP_CVE_BLOCK="CVE-2026-50000..CVE-2026-50009"):
        access = access_case_by_id(lead, world.case.pk)
        reserve_cve(access, world.case.vulnerabilities.get(), actor=lead)
    client.force_login(world.vendor_user)
    assert _titles(client, "?q=cve-2026-50000") == [world.case.pk]


def test_a_lead_is_waited_for_when_an_extension_is_asked(client: Client) -> None:
    a, _b = _two_cases()
    client.force_login(a.maintainer)
    assert _titles(client, "?todo=1") == []
    vendor = actor_for(a.vendor_user)
    access = access_case_by_id(vendor, a.case.pk)
    assert a.case.disclosure_at is not None
    do_request_extension(
        access, requested=a.case.disclosure_at.replace(hour=15), reason="QA.", actor=vendor
    )
    assert _titles(client, "?todo=1") == [a.case.pk]


def test_the_case_list_is_paged_keeping_the_filters(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _two_cases()
    monkeypatch.setattr(lockstep.web.cases, "CASES_PER_PAGE", 1)
    client.force_login(a.vendor_user)
    first = client.get("/cases/?state=open").content.decode()
    assert 'href="?state=open&amp;page=2">next →</a>' in first
    second = client.get("/cases/?state=open&page=2").content.decode()
    assert 'href="?state=open&amp;page=1">← previous</a>' in second
    assert "next →" not in second
    shown = [pk for pk in (a.case.pk, b.case.pk) if f'href="/cases/{pk}/"' in first + second]
    assert sorted(shown) == sorted([a.case.pk, b.case.pk])


def _nav(client: Client) -> str:
    return client.get("/").content.decode().split('<nav aria-label="Main">')[1].split("</nav>")[0]


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("vendor_user", {"Cases", "Mail"}, {"Triage", "Waiting", "Accounts"}),
        ("coordinator", {"Cases", "Waiting", "Mail"}, {"Triage", "Accounts"}),
        ("maintainer", {"Cases", "Waiting", "Triage", "Mail"}, {"Accounts"}),
        ("outsider_user", set(), {"Cases", "Waiting", "Triage", "Mail", "Accounts"}),
    ],
)
def test_the_navigation_shows_what_serves_the_person(
    client: Client, who: str, shown: set[str], hidden: set[str]
) -> None:
    world = build_case_world()
    client.force_login(getattr(world, who))
    nav = _nav(client)
    for link in shown:
        assert f">{link}</a>" in nav, link
    for link in hidden:
        assert f">{link}</a>" not in nav, link
    assert ">Dashboard</a>" in nav


def test_an_operator_gets_accounts_and_mail(client: Client) -> None:
    client.force_login(UserFactory(is_staff=True))
    nav = _nav(client)
    assert ">Accounts</a>" in nav
    assert ">Mail</a>" in nav
    assert ">Triage</a>" not in nav


def _history(client: Client) -> str:
    return client.get("/outbox/").content.decode().split('id="sent"')[1].split("</section>")[0]


def test_the_mail_history_shows_what_each_may_see(client: Client) -> None:
    world = build_case_world()
    OutboundMessage.objects.all().delete()
    lead = actor_for(world.maintainer)
    do_add_post(access_case_by_id(lead, world.case.pk), body="hello", actor=lead)
    to_vendor = OutboundMessage.objects.get(to_address=world.vendor_user.email)
    OutboundMessage.objects.filter(pk=to_vendor.pk).update(
        status=OutboxStatus.SENT, sent_at=clock.now()
    )
    coordinator = world.coordinator.email
    client.force_login(world.vendor_user)
    mine = _history(client)
    assert world.vendor_user.email in mine
    assert coordinator not in mine  # another organisation's copy
    subject = OutboundMessage.objects.get(pk=to_vendor.pk).subject
    assert subject in mine
    assert ">sent</span>" in mine
    client.force_login(world.coordinator)
    coordinated = _history(client)
    assert world.vendor_user.email in coordinated
    assert coordinator in coordinated
    assert ">waiting</span>" in coordinated
    client.force_login(world.maintainer)
    assert world.vendor_user.email not in _history(client)
    client.force_login(world.outsider_user)
    assert "No mail yet." in _history(client)
    client.force_login(UserFactory(is_staff=True))
    everything = _history(client)
    assert world.vendor_user.email in everything
    assert coordinator in everything
    assert subject not in everything  # the operator is not in the case
    assert "(not yours to read)" in everything


def test_the_mail_history_is_paged(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_case_world()
    lead = actor_for(world.maintainer)
    do_add_post(access_case_by_id(lead, world.case.pk), body="hello", actor=lead)
    monkeypatch.setattr("lockstep.web.outbox.HISTORY_PER_PAGE", 1)
    client.force_login(world.coordinator)
    assert "older →" in _history(client)
    assert "← newer" in client.get("/outbox/?sent=2").content.decode()


def test_no_server_path_for_non_operators(client: Client, settings: Any, tmp_path: Path) -> None:
    world = build_case_world()
    settings.LOCKSTEP_SMTP_URL = ""
    settings.LOCKSTEP_OUTBOX_DIR = str(tmp_path / "secret-outbox-folder")
    for user in (world.vendor_user, world.coordinator, world.maintainer):
        client.force_login(user)
        page = client.get("/outbox/").content.decode()
        assert "secret-outbox-folder" not in page
        assert "LOCKSTEP_SMTP_URL" not in page
        assert "has not configured a mail relay" in page
    client.force_login(UserFactory(is_staff=True))
    assert "secret-outbox-folder" in client.get("/outbox/").content.decode()
