"""The case room for the coordinator and the vendor (issue 12): a short embargo, the saved
status in the form, "you agreed", the timeline in words, notes and warnings about a date,
confirming a removal, editing one's own post."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from lockstep.audit.models import AuditEvent
from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.models import Case, Post
from lockstep.cases.queries import access_case_by_id
from lockstep.core import clock
from lockstep.mailgw.models import OutboundMessage
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.signin import sign_in

pytestmark = pytest.mark.django_db

START = "2026-11-25 10:00:00+00:00"  # a Wednesday morning
SOON = "2026-11-25T15:00"  # five hours later: inside the list's 24 hours' notice


def _world() -> CaseWorld:
    with time_machine.travel(START, tick=False):
        world = build_case_world()
        lead = actor_for(world.maintainer)
        do_add_vulnerability(
            access_case_by_id(lead, world.case.pk), VulnerabilityInput(title="Overflow"), actor=lead
        )
    return world


def _messages(response: object) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]  # type: ignore[attr-defined]


def _room(client: Client, case: Case) -> str:
    return client.get(f"/cases/{case.pk}/").content.decode()


def test_the_coordinator_allows_a_short_embargo_with_a_reason(client: Client) -> None:
    world = _world()
    case = world.case
    url = f"/cases/{case.pk}/embargo/"
    short = {"action": "allow-short", "requested": SOON, "reason": "Exploited in the wild."}
    with time_machine.travel(START, tick=False):
        sign_in(client, world.maintainer)
        refused = client.post(f"/cases/{case.pk}/date/", {"disclosure_at": SOON}, follow=True)
        assert "ask a coordinator to allow a shorter embargo" in str(_messages(refused))
        assert "Allow a shorter embargo" not in _room(client, case)  # the upstream cannot
        assert client.post(url, short).status_code == 403
        sign_in(client, world.vendor_user)
        assert client.post(url, short).status_code == 403
        sign_in(client, world.coordinator, ago=3600)  # no recent second factor: asked again
        assert "/reauthenticate/" in client.post(url, short)["Location"]
        sign_in(client, world.coordinator)
        room = _room(client, case)
        assert 'id="short-form"' in room
        assert "data-confirm=" in room.split('id="short-form"')[1].split(">")[0]
        no_reason = client.post(url, {**short, "reason": " "}, follow=True)
        assert "Say why the embargo must be this short" in str(_messages(no_reason))
        done = client.post(url, short, follow=True)
    case.refresh_from_db()
    assert case.disclosure_at is not None
    assert case.disclosure_at.isoformat() == "2026-11-25T15:00:00+00:00"
    assert ("success", "Disclosure set to 2026-11-25 15:00 UTC; participants were told why.") in (
        _messages(done)
    )
    assert any(level == "warning" and "under the minimum" in m for level, m in _messages(done))
    event = AuditEvent.objects.filter(tag=CaseTag.SHORT_EMBARGO_ALLOWED).get()
    assert event.data["short_reason"] == "Exploited in the wild."
    announced = Post.objects.filter(case=case, author_id__isnull=True).last()
    assert announced is not None
    assert "2026-11-25 15:00 UTC" in announced.body
    assert "Reason for the short embargo: Exploited in the wild." in announced.body
    assert "allowed a short embargo, until 2026-11-25 15:00 UTC" in done.content.decode()
    with time_machine.travel(START, tick=False):
        usual = client.post(url, {**short, "requested": "2026-11-27T14:00"}, follow=True)
    assert (
        "success",
        (
            "Disclosure set to 2026-11-27 14:00 UTC: it gives the list's usual notice, so no "
            "override was needed."
        ),
    ) in _messages(usual)
    assert AuditEvent.objects.filter(tag=CaseTag.SHORT_EMBARGO_ALLOWED).count() == 1


def test_a_valid_date_is_a_note_and_only_problems_are_warnings(client: Client) -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        sign_in(client, world.maintainer)
        tuesday = client.post(
            f"/cases/{world.case.pk}/date/", {"disclosure_at": "2026-12-01T14:00"}, follow=True
        )
        saturday = client.post(
            f"/cases/{world.case.pk}/date/", {"disclosure_at": "2026-11-28T14:00"}, follow=True
        )
    levels = [level for level, _ in _messages(tuesday)]
    assert "warning" not in levels
    assert levels.count("info") == 1
    warned = [m for level, m in _messages(saturday) if level == "warning"]
    assert any("Saturday" in m or "weekend" in m for m in warned)


def test_the_status_form_shows_what_is_saved(client: Client) -> None:
    world = _world()
    sign_in(client, world.vendor_user)
    vuln = world.case.vulnerabilities.get()
    room = _room(client, world.case)
    assert '<option value="" selected>No response yet: choose</option>' in room
    client.post(
        f"/cases/{world.case.pk}/status/",
        {"vulnerability": str(vuln.pk), "status": "fix_ready", "statement": "Built."},
    )
    form = _room(client, world.case).split('id="status-form"')[1].split("</form>")[0]
    assert '<option value="fix_ready" selected>Fix ready</option>' in form
    assert '<option value="affected">Affected</option>' in form
    assert ">Built.</textarea>" in form
    assert "No response yet: choose" not in form


def test_after_agreeing_the_room_says_so_until_the_date_moves(client: Client) -> None:
    world = _world()
    with time_machine.travel(START, tick=False):
        sign_in(client, world.vendor_user)
        client.post(f"/cases/{world.case.pk}/embargo/", {"action": "agree"})
        room = _room(client, world.case)
        assert "You agreed on 2026-11-25 10:00 UTC" in room
        assert 'value="agree"' not in room
        sign_in(client, world.maintainer)
        client.post(f"/cases/{world.case.pk}/date/", {"disclosure_at": "2026-12-01T15:00"})
        sign_in(client, world.vendor_user)
        room = _room(client, world.case)
    assert "You agreed" not in room
    assert 'value="agree"' in room


def test_the_timeline_speaks_in_sentences(client: Client) -> None:
    world = _world()
    sign_in(client, world.maintainer)
    timeline = _room(client, world.case).split('id="timeline"')[1]
    assert "case:case:opened" not in timeline
    assert "Lockstep opened the case." in timeline  # the test world is opened by the system
    assert "added the vulnerability “Overflow”." in timeline


def test_removing_a_vendor_asks_first(client: Client) -> None:
    world = _world()
    sign_in(client, world.maintainer)
    room = _room(client, world.case)
    form = room.split('value="remove"')[0].rsplit("<form", 1)[1]
    assert 'data-confirm="Remove Northwind Linux from this case?' in form


def test_adding_a_vendor_is_offered_while_the_list_has_one_left(client: Client) -> None:
    world = _world()
    sign_in(client, world.maintainer)
    room = _room(client, world.case)
    assert '<option value="bluefin">Bluefin OS</option>' in room
    added = {"action": "add", "org": "bluefin"}
    assert client.post(f"/cases/{world.case.pk}/participants/", added).status_code == 302
    room = _room(client, world.case)
    assert 'id="add-org"' not in room  # no empty list to choose from
    assert "Every member of distros is in this case" in room


def test_the_author_edits_a_post_audited_and_not_mailed(client: Client) -> None:
    world = _world()
    lead = actor_for(world.maintainer)
    post = do_add_post(access_case_by_id(lead, world.case.pk), body="Fix in 1.2.3", actor=lead)
    url = f"/cases/{world.case.pk}/posts/{post.pk}/edit/"
    sign_in(client, world.vendor_user)
    assert "Edit your post" not in _room(client, world.case)
    assert client.post(url, {"body": "hijacked"}).status_code == 403
    sign_in(client, world.maintainer)
    assert "Edit your post" in _room(client, world.case)
    mailed = OutboundMessage.objects.count()
    later = clock.now() + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        done = client.post(url, {"body": "Fix in 1.2.4"}, follow=True)
    assert ("success", "Post edited. It was not mailed again.") in _messages(done)
    post.refresh_from_db()
    assert (post.body, post.edited_at) == ("Fix in 1.2.4", later)
    assert "1.2.4" in post.body_html
    assert OutboundMessage.objects.count() == mailed
    event = AuditEvent.objects.filter(tag=CaseTag.POST_EDITED).get()
    assert event.data == {"post": post.pk, "old_body": "Fix in 1.2.3"}
    assert ">edited</span>" in done.content.decode()
    empty = client.post(url, {"body": "  "}, follow=True)
    assert ("error", "Write something first.") in _messages(empty)
    same = client.post(url, {"body": "Fix in 1.2.4"})
    assert same.status_code == 302
    assert AuditEvent.objects.filter(tag=CaseTag.POST_EDITED).count() == 1  # nothing changed
    assert client.post(f"/cases/{world.case.pk}/posts/999999/edit/", {"body": "x"}).status_code == (
        404
    )
