"""The reporter reads the case's posts on their tracking page; a post can be kept from them.

The case room says so above its post form, and has a "participants only" box; the API's post
endpoint takes `participants_only`. Such a post is on no page or answer the reporter sees,
its mail copies go to participants alone (and say what a reply by mail does), and the audit
log records the flag.
"""

from __future__ import annotations

import pytest
from django.test import Client

from lockstep.accounts.tokens import do_create_api_token
from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import CaseTag
from lockstep.cases.emails import PARTICIPANTS_ONLY_NOTE, post_mail
from lockstep.cases.models import Post
from lockstep.mailgw.models import OutboundMessage
from lockstep.orgs.models import Membership
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CaseWorld:
    return build_case_world()


def _vendor(world: CaseWorld) -> Client:
    vendor = Client()
    vendor.force_login(world.vendor_user)
    return vendor


def test_the_room_says_the_reporter_reads_posts_and_offers_participants_only(
    world: CaseWorld,
) -> None:
    page = _vendor(world).get(f"/cases/{world.case.pk}/").content.decode()
    assert "The reporter reads every post in this case on their tracking page" in page
    assert 'name="participants_only"' in page
    # The reporter's own form has no such box: they write to everyone.
    tracking = Client().get(f"/track/{world.submitted.token}/").content.decode()
    assert 'name="participants_only"' not in tracking


def test_a_post_for_participants_only_stays_off_the_tracking_page(world: CaseWorld) -> None:
    vendor = _vendor(world)
    room = f"/cases/{world.case.pk}/"
    vendor.post(f"{room}posts/", {"body": "Northwind packages are built."})
    answer = vendor.post(
        f"{room}posts/", {"body": "Between us: the fix is ugly.", "participants_only": "on"}
    )
    assert answer.status_code == 302

    tracking = Client().get(f"/track/{world.submitted.token}/").content.decode()
    assert "Northwind packages are built." in tracking
    assert "the fix is ugly" not in tracking
    page = vendor.get(room).content.decode()
    assert "the fix is ugly" in page
    assert "participants only</span>" in page

    hidden = Post.objects.get(body="Between us: the fix is ugly.")
    shown = Post.objects.get(body="Northwind packages are built.")
    assert (hidden.participants_only, shown.participants_only) == (True, False)
    recorded = {
        event.data["post"]: event.data["participants_only"]
        for event in AuditEvent.objects.filter(tag=CaseTag.POST_ADDED)
        if event.data.get("post") in {hidden.pk, shown.pk}
    }
    assert recorded == {hidden.pk: True, shown.pk: False}


def test_the_api_marks_a_post_participants_only(world: CaseWorld, client: Client) -> None:
    _token, plaintext = do_create_api_token(
        world.vendor_user,
        name="tests",
        scopes={"read", "write"},
        actor=actor_for(world.vendor_user),
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    url = f"/api/v1/cases/{world.case.pk}/posts"
    made = client.post(
        url,
        {"body": "Leads only, please.", "participants_only": True},
        content_type="application/json",
        **auth,
    )
    assert made.status_code == 201
    assert made.json()["participants_only"] is True
    plain = client.post(url, {"body": "For everyone."}, content_type="application/json", **auth)
    assert plain.json()["participants_only"] is False
    listed = {p["body"]: p["participants_only"] for p in client.get(url, **auth).json()}
    assert listed["Leads only, please."] is True

    # The reporter's API view and page hold neither the post nor its text.
    reporter_view = client.get(f"/api/v1/track/{world.submitted.token}").content.decode()
    assert "Leads only" not in reporter_view
    tracking = client.get(f"/track/{world.submitted.token}/").content.decode()
    assert "Leads only" not in tracking
    assert "For everyone." in tracking


def test_its_mail_goes_to_participants_alone_and_says_so(world: CaseWorld) -> None:
    before = set(OutboundMessage.objects.values_list("pk", flat=True))
    _vendor(world).post(
        f"/cases/{world.case.pk}/posts/", {"body": "Quiet word.", "participants_only": "on"}
    )
    copies = OutboundMessage.objects.exclude(pk__in=before)
    members = Membership.objects.filter(org__case_seats__case=world.case)
    participants = set(members.values_list("user__email", flat=True))
    addresses = set(copies.values_list("to_address", flat=True))
    assert addresses
    assert addresses <= participants - {world.vendor_user.email}

    _vendor(world).post(f"/cases/{world.case.pk}/posts/", {"body": "Open word."})
    quiet, shown = Post.objects.get(body="Quiet word."), Post.objects.get(body="Open word.")
    assert PARTICIPANTS_ONLY_NOTE in post_mail(world.case, quiet).body
    assert PARTICIPANTS_ONLY_NOTE not in post_mail(world.case, shown).body
