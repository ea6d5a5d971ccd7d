"""Every refusal in the case room says why, in the web and the actions, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.opening import do_set_disclosure_date
from lockstep.cases.actions.participants import (
    do_add_participant,
    do_remove_participant,
    do_set_status,
)
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import (
    VulnerabilityInput,
    do_add_vulnerability,
    do_change_vulnerability,
)
from lockstep.cases.models import Participant, Status
from lockstep.cases.queries import access_case_by_id
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, ValidationError
from lockstep.core.uploads import UploadedFile
from lockstep.intake.actions import Acceptance, ReportInput, do_accept_report, do_submit_report
from lockstep.orgs.models import OrgKind
from tests.conftest import actor_for
from tests.factories.cases import SYSTEM, CaseWorld, build_case_world, disclosure_in
from tests.factories.world import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()


def _lead(world: CaseWorld) -> Any:
    return access_case_by_id(actor_for(world.maintainer), world.case.pk)


def test_participant_refusals(world: CaseWorld) -> None:
    lead, actor = _lead(world), actor_for(world.maintainer)
    with pytest.raises(ValidationError, match="not a vendor"):
        do_add_participant(lead, OrganizationFactory(kind=OrgKind.RESEARCHER), actor=actor)
    with pytest.raises(Conflict, match="already in this case"):
        do_add_participant(lead, world.vendor, actor=actor)
    other = build_case_world(tag="-2")
    foreign = Participant.objects.get(case=other.case, org=other.vendor)
    with pytest.raises(NotFound):
        do_remove_participant(lead, foreign, actor=actor)


def test_post_and_upload_refusals(world: CaseWorld, settings: Any) -> None:
    lead, actor = _lead(world), actor_for(world.maintainer)
    with pytest.raises(ValidationError, match="Write something"):
        do_add_post(lead, body="  ", actor=actor)
    with pytest.raises(ValidationError, match="at most"):
        do_add_post(lead, body="x" * 100_001, actor=actor)
    settings.LOCKSTEP_MAX_ATTACHMENTS = 1
    files = [UploadedFile("a", "text/plain", b"1"), UploadedFile("b", "text/plain", b"2")]
    with pytest.raises(ValidationError, match="At most 1 files"):
        do_add_post(lead, body="two files", files=files, actor=actor)
    evil = do_add_post(
        lead, body="named", files=[UploadedFile('../../x";.patch', "", b"d")], actor=actor
    )
    assert evil.attachments.get().filename == "x.patch"


def test_vulnerability_refusals(world: CaseWorld) -> None:
    lead, actor = _lead(world), actor_for(world.maintainer)
    with pytest.raises(ValidationError, match="needs a title"):
        do_add_vulnerability(lead, VulnerabilityInput(title=" "), actor=actor)
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    with pytest.raises(ValidationError, match=r"Give a CVSS 3\.1 vector here"):
        do_add_vulnerability(lead, VulnerabilityInput(title="t", cvss3=v4), actor=actor)
    with pytest.raises(NotFound):
        do_change_vulnerability(lead, 999_999, VulnerabilityInput(title="t"), actor=actor)
    vuln = do_add_vulnerability(lead, VulnerabilityInput(title="t", cvss4=v4), actor=actor)
    changed = do_change_vulnerability(
        lead, vuln.pk, VulnerabilityInput(title="renamed", cvss4=v4), actor=actor
    )
    assert changed.title == "renamed"
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.data["changed"] == ["title"]
    with pytest.raises(ValidationError, match="at most 5000"):
        do_set_status(
            lead,
            lead.seats[0],
            vuln,
            status=Status.AFFECTED,
            statement="x" * 5001,
            actor=actor,
        )
    other = build_case_world(tag="-2")
    other_vuln = do_add_vulnerability(
        _lead(other), VulnerabilityInput(title="o"), actor=actor_for(other.maintainer)
    )
    with pytest.raises(NotFound):
        do_set_status(
            lead,
            lead.seats[0],
            other_vuln,
            status=Status.AFFECTED,
            actor=actor,
        )


def test_a_public_case_has_no_date(world: CaseWorld) -> None:
    report = do_submit_report(
        world.project,
        ReportInput(
            title="p", description="d", already_public=True, public_url="https://x.example"
        ),
        actor=Actor.anonymous(),
    ).report
    case = do_accept_report(report, Acceptance(), actor=SYSTEM)
    access = access_case_by_id(actor_for(world.maintainer), case.pk)
    with pytest.raises(ValidationError, match="Only a case under embargo"):
        do_set_disclosure_date(
            access, requested=disclosure_in(3), actor=actor_for(world.maintainer)
        )


def _web(world: CaseWorld) -> Client:
    client = Client()
    client.force_login(world.maintainer)
    return client


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("posts/", {"body": ""}, "Write something first."),
        ("date/", {"disclosure_at": "soon"}, "Give a date and a time (UTC)."),
        ("date/", {"disclosure_at": "2020-01-01T14:00"}, "is not in the future"),
        (
            "vulnerabilities/",
            {
                "title": "t",
                "pkg-count": "1",
                "pkg-0-ecosystem": "PyPI",
                "pkg-0-name": "libquokka",
                "pkg-0-versions": "banana",
            },
            "is not a valid PEP 440 version",
        ),
        ("vulnerabilities/", {"title": ""}, "needs a title"),
        ("participants/", {"action": "dance"}, "Unknown action."),
        ("participants/", {"action": "remove", "participant": "0"}, None),
        ("status/", {"vulnerability": "0", "status": "affected"}, None),
    ],
)
def test_web_refusals_are_shown_on_the_page(
    world: CaseWorld, path: str, data: dict[str, str], message: str | None
) -> None:
    client = _web(world)
    client.get(f"/cases/{world.case.pk}/")  # the first view is recorded; then measure
    before = AuditEvent.objects.count()
    response = client.post(f"/cases/{world.case.pk}/{path}", data, follow=True)
    if message is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert message in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_web_status_needs_a_known_status(world: CaseWorld) -> None:
    lead = _lead(world)
    vuln = do_add_vulnerability(
        lead, VulnerabilityInput(title="t"), actor=actor_for(world.maintainer)
    )
    response = _web(world).post(
        f"/cases/{world.case.pk}/status/",
        {"vulnerability": str(vuln.pk), "status": "maybe"},
        follow=True,
    )
    assert "Pick a status." in response.content.decode()


def test_web_remove_and_invite(world: CaseWorld) -> None:
    client = _web(world)
    seat = Participant.objects.get(case=world.case, org=world.vendor)
    client.post(
        f"/cases/{world.case.pk}/participants/", {"action": "remove", "participant": str(seat.pk)}
    )
    assert not Participant.objects.filter(pk=seat.pk).exists()
    client.post(f"/cases/{world.case.pk}/participants/", {"action": "invite-channel"})
    assert Participant.objects.filter(case=world.case, org=world.listed_only).exists()
    upload = client.post(
        f"/cases/{world.case.pk}/posts/",
        {"body": "too many", "attachments": []},
        follow=True,
    )
    assert upload.status_code == 200
