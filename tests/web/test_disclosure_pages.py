"""The embargo section of the case room and the public advisory pages, through the browser's
requests: every button, every export, per-CVE URLs, the reporter's public-post duty."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings

from lockstep.advisories.models import Advisory
from lockstep.advisories.tasks import catch_up, publish_at_date
from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.embargo import do_edit_advisory_draft
from lockstep.cases.models import Case, EmbargoBreach, ExtensionRequest
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.models import ChannelKind
from lockstep.cve.actions.reserving import reserve_cve
from lockstep.cve.tasks import publish_cve_records
from lockstep.intake.actions import Acceptance, do_accept_report
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, CaseWorld, build_case_world
from tests.factories.signin import sign_in
from tests.factories.world import PASSWORD, ChannelFactory
from tests.flows.test_disclosure import AT, DATE, START, _world

pytestmark = pytest.mark.django_db


def _embargo(client: Client, case: Case, **data: str) -> list[str]:
    response = client.post(f"/cases/{case.pk}/embargo/", data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_every_embargo_button_works_in_the_case_room(client: Client) -> None:
    world = _world()
    case = world.case
    with time_machine.travel(START, tick=False):
        sign_in(client, world.vendor_user)
        assert _embargo(client, case, action="agree") == ["You agreed to the date."]
        assert "Unknown action." in _embargo(client, case, action="nope")
        assert "Give a date" in _embargo(client, case, action="request-extension", requested="x")[0]
        _embargo(
            client,
            case,
            action="request-extension",
            requested=(DATE + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            reason="Packaging needs a day more.",
        )
        _embargo(client, case, action="report-breach", evidence_text="Seen on a forum.")
        room = client.get(f"/cases/{case.pk}/").content.decode()
        assert "Packaging needs a day more." in room
        assert "Seen on a forum." in room
        assert "Declare the date agreed" not in room  # leads only
        sign_in(client, world.maintainer)
        room = client.get(f"/cases/{case.pk}/").content.decode()
        assert "Release with the fix, without mentioning its security impact" in room
        assert "discouraged" in room
        assert "The date is agreed" in _embargo(client, case, action="confirm-date")[0]
        request = ExtensionRequest.objects.get()
        assert "Pick an item" in _embargo(client, case, action="decide-extension")[0]
        _embargo(client, case, action="decide-extension", request=str(request.pk), decision="grant")
        breach = EmbargoBreach.objects.get()
        assert (
            "Dismissed"
            in _embargo(
                client,
                case,
                action="dismiss-breach",
                breach=str(breach.pk),
                note="A different bug.",
            )[0]
        )
        assert (
            "Recorded"
            in _embargo(
                client, case, action="early-release", option="without_fix", version="1.4.1"
            )[0]
        )
        assert (
            "draft saved"
            in _embargo(
                client, case, action="draft", summary="S", details="D", release_version="1.4.2"
            )[0]
        )
        assert "under embargo" in _embargo(client, case, action="publish-now")[0]
        _embargo(client, case, action="report-breach", evidence_url="https://leak.example/x")
        breach = EmbargoBreach.objects.filter(state="pending").get()
        assert (
            "is public" in _embargo(client, case, action="confirm-breach", breach=str(breach.pk))[0]
        )
        room = client.get(f"/cases/{case.pk}/").content.decode()
        assert "Public since" in room
        assert "LOCKSTEP-2026-0001" in room


def _cve_world() -> CaseWorld:
    world = _world()
    with (
        time_machine.travel(START, tick=False),
        override_settings(LOCKSTEP_CVE_BLOCK="CVE-2026-50000..CVE-2026-50009"),
    ):
        lead = actor_for(world.maintainer)
        access = access_case_by_id(lead, world.case.pk)
        reserve_cve(access, world.case.vulnerabilities.get(), actor=lead)
    return world


def test_exports_and_per_cve_urls(client: Client) -> None:
    _cve_world()
    with time_machine.travel(AT, tick=False):
        assert client.get("/cve/CVE-2026-50000/").status_code == 404  # not yet
        assert client.get("/cve/CVE-2026-50000.json").status_code == 404
        publish_at_date.call(Case.objects.get().pk)
        page = client.get("/cve/CVE-2026-50000/")
        assert page["Location"] == "/advisories/LOCKSTEP-2026-0001/"
        record = client.get("/cve/CVE-2026-50000.json").json()
        assert record["cveMetadata"]["cveId"] == "CVE-2026-50000"
        assert client.get("/cve/CVE-2026-50000.osv.json").json()["aliases"] == ["CVE-2026-50000"]
        assert client.get("/advisories/LOCKSTEP-2026-0001.cve.json").json() == record
        csaf = client.get("/advisories/LOCKSTEP-2026-0001.csaf.json").json()
        assert csaf["document"]["tracking"]["id"] == "LOCKSTEP-2026-0001"
        text = client.get("/advisories/LOCKSTEP-2026-0001.txt").content.decode()
        assert "CVE-2026-50000" in text
        detail = client.get("/api/v1/advisories/LOCKSTEP-2026-0001").json()
        assert list(detail["cve_records"]) == ["CVE-2026-50000"]
        assert detail["aliases"] == ["CVE-2026-50000"]
        page = client.get("/advisories/LOCKSTEP-2026-0001/").content.decode()
        assert "quokka_inflate() trusts the window size" in page
        assert client.get("/advisories/LOCKSTEP-2026-0001.osv.json").json()["id"] == (
            "x_LOCKSTEP-2026-0001"
        )
        assert client.get("/cve/CVE-2026-59999/").status_code == 404
    row = Advisory.objects.get()
    assert row.cve_records["CVE-2026-50000"]["cveMetadata"]["state"] == "PUBLISHED"


def test_advisory_without_cve_has_no_cve_export(client: Client) -> None:
    world = _world()
    with time_machine.travel(AT, tick=False):
        assert publish_at_date.call(world.case.pk) == "LOCKSTEP-2026-0001"
        assert client.get("/advisories/LOCKSTEP-2026-0001.cve.json").status_code == 404
        assert client.get("/advisories/?page=2").status_code == 200
        assert client.get("/search/", {"q": "   "}).status_code == 200
        bad = client.post(
            "/api/v1/query",
            json.dumps({"package": {"ecosystem": "Nope", "name": "x"}, "version": "1"}),
            content_type="application/json",
        )
        assert bad.status_code == 400


def test_reporter_is_asked_to_post_and_can_confirm_on_the_tracking_page(client: Client) -> None:
    world = _world(reporter_posts=True)
    token = world.submitted.token
    with time_machine.travel(AT, tick=False):
        catch_up.call()
        page = client.get(f"/track/{token}/").content.decode()
        assert "Please post the details to the public list" in page
        response = client.post(
            f"/track/{token}/", {"public-post": "1", "url": "ftp://x"}, follow=True
        )
        assert "http(s) link" in response.content.decode()
        client.post(f"/track/{token}/", {"public-post": "1", "url": "https://lists.example/1"})
        assert Advisory.objects.get().reporter_posted_url == "https://lists.example/1"
        assert 'id="public-post"' not in client.get(f"/track/{token}/").content.decode()


def test_publish_now_for_a_case_without_embargo(client: Client) -> None:
    ChannelFactory(name="oss", slug="oss", kind=ChannelKind.PUBLIC, policy=None)
    world = build_case_world(accept=False)

    case = do_accept_report(
        world.submitted.report,
        Acceptance(route="public-list", override_reason="Already on the tracker."),
        actor=SYSTEM,
    )
    lead = actor_for(world.maintainer)
    do_edit_advisory_draft(
        access_case_by_id(lead, case.pk),
        summary="Public already.",
        details="Details.",
        release_version="",
        reporter_posts=False,
        actor=lead,
    )
    sign_in(client, world.maintainer)
    assert "is public" in _embargo(client, case, action="publish-now")[0]
    assert "public already" in _embargo(client, case, action="publish-now")[0].lower()
    feed = client.get("/archive/feed.atom").content.decode()
    assert "LOCKSTEP-2026-0001" in feed


def test_reserve_a_cve_in_the_room_and_see_it_stale_on_the_cases_list(
    client: Client, settings: Any
) -> None:
    world = _world()
    sign_in(client, world.maintainer)
    vuln = world.case.vulnerabilities.get()
    with time_machine.travel(START, tick=False):
        refused = _embargo(client, world.case, action="reserve-cve", vulnerability=str(vuln.pk))
        assert "LOCKSTEP_CVE_BLOCK" in refused[0]  # not configured: says what to set
        settings.LOCKSTEP_CVE_BLOCK = "CVE-2026-60000..CVE-2026-60001"
        done = _embargo(client, world.case, action="reserve-cve", vulnerability=str(vuln.pk))
        assert done == ["CVE-2026-60000 is reserved for “Heap overflow in quokka_inflate()”."]
        room = client.get(f"/cases/{world.case.pk}/").content.decode()
        assert "CVE-2026-60000 · Reserved" in room
    with time_machine.travel(AT, tick=False):
        publish_at_date.call(world.case.pk)
    # Publication held the record; its task has not run here (no worker). An ID left
    # RESERVED more than 72 hours after disclosure is flagged to the case's leads.
    with time_machine.travel("2026-12-04 14:00:01+00:00", tick=False):
        listing = client.get("/cases/").content.decode()
        assert 'id="stale-cves"' in listing
        assert "CVE-2026-60000" in listing
        sign_in(client, world.vendor_user)
        assert 'id="stale-cves"' not in client.get("/cases/").content.decode()
        assert publish_cve_records.call()["published"] == 1  # a local ID: ours to publish
        sign_in(client, world.maintainer)
        assert 'id="stale-cves"' not in client.get("/cases/").content.decode()
        reject = {"action": "reject-cve", "cve": "CVE-2026-60000"}
        assert "Say why" in _embargo(client, world.case, **reject)[0]
        done = _embargo(client, world.case, **reject, reason="Not a vulnerability after all.")
        assert done == ["CVE-2026-60000 is rejected."]
        assert (
            "CVE-2026-60000 · Rejected" in client.get(f"/cases/{world.case.pk}/").content.decode()
        )


def test_an_export_that_cannot_be_built_does_not_stop_publication(
    client: Client, settings: Any
) -> None:
    world = _cve_world()
    settings.LOCKSTEP_PUBLISHER_NAME = "An Organisation Whose Name Is Far Too Long For CVE"
    sign_in(client, world.maintainer)
    preview = client.get(f"/cases/{world.case.pk}/advisory/").content.decode()
    assert 'id="problems"' in preview  # seen before the date, not at it
    client.logout()
    with time_machine.travel(AT, tick=False):
        assert publish_at_date.call(Case.objects.get().pk) == "LOCKSTEP-2026-0001"
        assert client.get("/advisories/LOCKSTEP-2026-0001/").status_code == 200
        assert client.get("/advisories/LOCKSTEP-2026-0001.cve.json").status_code == 404
        assert client.get("/cve/CVE-2026-50000.json").status_code == 404
        assert client.get("/cve/CVE-2026-50000.osv.json").status_code == 200
    told = Case.objects.get().posts.filter(body__contains="could not be built")
    assert told.count() == 1
    assert "CVE record CVE-2026-50000" in told.get().body


def test_participants_preview_the_advisory_before_the_date(client: Client) -> None:
    world = _cve_world()
    sign_in(client, world.vendor_user)
    with time_machine.travel(START, tick=False):
        page = client.get(f"/cases/{world.case.pk}/advisory/").content.decode()
    assert "embargoed: not public" in page
    assert "quokka_inflate() trusts the window size" in page
    assert "CVE-2026-50000" in page
    assert "x_LOCKSTEP-PREVIEW" in page
    assert 'id="problems"' not in page
    assert client.get("/advisories/").content.decode().count("quokka") == 0


def test_the_weightiest_acts_ask_to_sign_in_again_then_go_through(client: Client) -> None:
    world = _world()
    case = world.case
    with time_machine.travel(START, tick=True):
        sign_in(client, world.maintainer, ago=3600)  # an hour ago: not recent
        form = {"action": "early-release", "option": "without_fix", "version": "1.4.1"}
        asked = client.post(f"/cases/{case.pk}/embargo/", form)
        assert asked.status_code == 302
        assert asked["Location"].startswith("/reauthenticate/?next=")
        assert not AuditEvent.objects.filter(tag=CaseTag.EARLY_RELEASE_RECORDED).exists()
        again = client.post(asked["Location"], {"password": PASSWORD}, follow=True)
        assert again.status_code == 200
        assert AuditEvent.objects.filter(tag=CaseTag.EARLY_RELEASE_RECORDED).exists()
        # An act of less weight needs no fresh proof.
        sign_in(client, world.vendor_user, ago=3600)
        assert _embargo(client, case, action="agree") == ["You agreed to the date."]
