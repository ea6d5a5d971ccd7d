"""The report form, the tracking page and the triage pages in the browser's terms."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lockstep.cases.models import Case
from lockstep.intake.models import Report, ReportStatus
from tests.factories.cases import CaseWorld, build_case_world, disclosure_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world(accept=False)


def _report(client: Client, **extra: Any) -> Any:
    data = {"title": "Stack overflow in parse()", "description": "Deep nesting recurses.", **extra}
    return client.post("/projects/libquokka/report/", data)


def test_report_form_stores_and_redirects_to_the_tracking_page(
    world: CaseWorld, client: Client
) -> None:
    assert client.get("/report/").status_code == 200
    assert b"libquokka" in client.get("/report/").content
    form = client.get("/projects/libquokka/report/")
    assert form.status_code == 200
    upload = SimpleUploadedFile("poc.py", b"print('boom')", content_type="text/x-python")
    response = _report(client, attachments=[upload], credit_as="Rita R.")
    assert response.status_code == 302
    assert response["Location"].startswith("/track/")
    report = Report.objects.order_by("-id").first()
    assert report is not None
    assert report.attachments.get().content == b"print('boom')"
    page = client.get(response["Location"])
    assert b"Report received" in page.content
    assert b"Stack overflow in parse()" in page.content
    assert b"received by the libquokka maintainers" in page.content


def test_form_errors_are_clear_and_store_nothing(world: CaseWorld, client: Client) -> None:
    before = Report.objects.count()
    response = client.post("/projects/libquokka/report/", {"title": "", "description": ""})
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    public = _report(client, already_public="on")
    assert public.status_code == 400
    assert b"already public" in public.content
    assert Report.objects.count() == before


def test_oversized_attachment_is_refused(world: CaseWorld, client: Client, settings: Any) -> None:
    settings.LOCKSTEP_MAX_ATTACHMENT_BYTES = 10
    upload = SimpleUploadedFile("big.bin", b"x" * 11)
    response = _report(client, attachments=[upload])
    assert response.status_code == 400
    assert b"larger than the limit" in response.content


def test_form_is_rate_limited(world: CaseWorld, client: Client, settings: Any) -> None:
    settings.LOCKSTEP_REPORT_RATE = 1
    assert _report(client).status_code == 302
    limited = _report(client)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert b"Nothing you sent in this last attempt was stored" in limited.content


def test_reporter_and_maintainer_talk_through_the_tracking_page(
    world: CaseWorld, client: Client
) -> None:
    token = world.submitted.token
    client.post(f"/track/{token}/", {"body": "Here is a second crash."})
    maintainer = Client()
    maintainer.force_login(world.maintainer)
    page = maintainer.get(f"/triage/{world.submitted.report.pk}/")
    assert b"Here is a second crash." in page.content
    assert b"private-coordination" in page.content
    maintainer.post(f"/triage/{world.submitted.report.pk}/", {"message": "", "body": "Thanks!"})
    assert b"Thanks!" in client.get(f"/track/{token}/").content


def test_accept_from_the_triage_page_then_the_reporter_posts(
    world: CaseWorld, client: Client
) -> None:
    maintainer = Client()
    maintainer.force_login(world.maintainer)
    report = world.submitted.report
    accepted = maintainer.post(
        f"/triage/{report.pk}/accept/",
        {
            "route": "private-coordination",
            "channel": "distros",
            "disclosure_at": disclosure_in(6).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    case = Case.objects.get()
    assert accepted["Location"] == f"/cases/{case.pk}/"
    token = world.submitted.token
    client.post(f"/track/{token}/", {"post": "", "body": "PoC v2 attached"})
    assert case.posts.filter(body="PoC v2 attached").exists()
    assert b"PoC v2 attached" in maintainer.get(f"/cases/{case.pk}/").content
    again = maintainer.post(f"/triage/{report.pk}/spam/", follow=True)
    assert b"already triaged" in again.content
    assert Report.objects.get(pk=report.pk).status == ReportStatus.ACCEPTED


def test_decline_without_a_reason_is_refused(world: CaseWorld) -> None:
    maintainer = Client()
    maintainer.force_login(world.maintainer)
    report = world.submitted.report
    refused = maintainer.post(f"/triage/{report.pk}/decline/", {"reason": ""}, follow=True)
    assert b"Say why" in refused.content
    maintainer.post(f"/triage/{report.pk}/decline/", {"reason": "Not a bug."})
    assert Report.objects.get(pk=report.pk).status == ReportStatus.DECLINED


@pytest.mark.parametrize("extra_reports", [1, 20])
def test_list_pages_use_a_fixed_number_of_queries(
    world: CaseWorld, extra_reports: int, django_assert_max_num_queries: Any
) -> None:
    from lockstep.core.actor import Actor  # noqa: PLC0415
    from lockstep.intake.actions import ReportInput, do_submit_report  # noqa: PLC0415

    for n in range(extra_reports):
        do_submit_report(
            world.project, ReportInput(title=f"R{n}", description="d"), actor=Actor.anonymous()
        )
    maintainer = Client()
    maintainer.force_login(world.maintainer)
    with django_assert_max_num_queries(8):
        assert maintainer.get("/triage/").status_code == 200
    with django_assert_max_num_queries(7):  # 6, and the navigation's links (issue 12)
        assert maintainer.get("/cases/").status_code == 200
    with django_assert_max_num_queries(8):
        assert maintainer.get("/api/v1/reports").status_code == 200


def test_vulnerability_with_references_and_credits_from_the_web(world: CaseWorld) -> None:
    from lockstep.intake.actions import Acceptance, do_accept_report  # noqa: PLC0415
    from tests.factories.cases import SYSTEM  # noqa: PLC0415

    case = do_accept_report(world.submitted.report, Acceptance(channel=world.channel), actor=SYSTEM)
    maintainer = Client()
    maintainer.force_login(world.maintainer)
    maintainer.post(
        f"/cases/{case.pk}/vulnerabilities/",
        {
            "title": "Overflow",
            "pkg-count": "1",
            "pkg-0-package": "pkg:pypi/libquokka",
            "pkg-0-range-count": "1",
            "pkg-0-range-0-type": "ECOSYSTEM",
            "pkg-0-range-0-event-count": "2",
            "pkg-0-range-0-event-0-kind": "introduced",
            "pkg-0-range-0-event-0-version": "0",
            "pkg-0-range-0-event-1-kind": "fixed",
            "pkg-0-range-0-event-1-version": "1.2",
            "ref-count": "1",
            "ref-0-type": "FIX",
            "ref-0-url": "https://git.example/c/1",
            "credit-count": "1",
            "credit-0-name": "Rita R.",
            "credit-0-type": "FINDER",
        },
    )
    page = maintainer.get(f"/cases/{case.pk}/").content.decode()
    assert "fixed in 1.2" in page
    assert "https://git.example/c/1" in page
    assert "Rita R. (finder)" in page


def test_inbox_filters_by_project(world: CaseWorld) -> None:
    maintainer = Client()
    maintainer.force_login(world.maintainer)
    assert b"Heap overflow" in maintainer.get("/triage/?project=libquokka").content
    assert b"Heap overflow" not in maintainer.get("/triage/?project=other").content
