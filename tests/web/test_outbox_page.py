"""Held and waiting copies: coordinators (of the case) and operators see envelopes and decide
(retry, drop, send now); audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from lockstep.audit.models import AuditEvent
from lockstep.cases.models import Post
from lockstep.core import clock
from lockstep.core.errors import Conflict
from lockstep.mailgw.addresses import case_address
from lockstep.mailgw.inbound.store import store_inbound
from lockstep.mailgw.models import InboundMessage, InboundStatus, OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.holds import do_retry_now
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.mailgw.outbound.transport import FolderTransport
from lockstep.mailin.pipeline import process
from tests.conftest import actor_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.world import UserFactory

pytestmark = pytest.mark.django_db


def _held(world: CaseWorld) -> OutboundMessage:
    with transaction.atomic():
        (row,) = fan_out(
            MailSpec(subject="s", body="embargoed body", case_id=world.case.pk),
            [Recipient("gone@example.org", plain_ok=True)],
        )
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.HELD, attempts=5, last_error="550 5.1.1 No such user"
    )
    return row


def test_coordinator_retries_and_drops_held_copies(client: Client) -> None:
    world = build_case_world()
    OutboundMessage.objects.all().delete()
    row = _held(world)
    client.force_login(world.coordinator)
    page = client.get("/outbox/").content.decode()
    assert "gone@example.org" in page
    assert "550 5.1.1 No such user" in page
    assert "embargoed body" not in page
    client.post(f"/outbox/{row.pk}/", {"action": "retry"})
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 0)
    OutboundMessage.objects.filter(pk=row.pk).update(status=OutboxStatus.HELD)
    client.post(f"/outbox/{row.pk}/", {"action": "drop"})
    row.refresh_from_db()
    assert row.status == OutboxStatus.DROPPED
    tags = list(AuditEvent.objects.filter(object_type="outbound").values_list("tag", flat=True))
    assert tags == ["mail:outbound:retried", "mail:outbound:dropped"]
    again = client.post(f"/outbox/{row.pk}/", {"action": "drop"})
    assert again.status_code == 404  # no longer held: not in the list


def test_others_cannot_see_or_decide(client: Client) -> None:
    world = build_case_world()
    row = _held(world)
    for user in (world.vendor_user, world.outsider_user, world.maintainer):
        client.force_login(user)
        assert "gone@example.org" not in client.get("/outbox/").content.decode()
        assert client.post(f"/outbox/{row.pk}/", {"action": "drop"}).status_code == 404
    row.refresh_from_db()
    assert row.status == OutboxStatus.HELD


def test_operator_sees_the_folder_envelopes(client: Client, settings: Any, tmp_path: Path) -> None:
    world = build_case_world()
    settings.LOCKSTEP_SMTP_URL = ""
    settings.LOCKSTEP_OUTBOX_DIR = tmp_path
    deliver_due(FolderTransport(tmp_path), now=OutboundMessage.objects.latest("id").next_attempt_at)
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/outbox/").content.decode()
    assert 'id="folder"' in page
    assert world.vendor_user.email in page
    assert "A new message is waiting" in page
    assert "A crafted stream" not in page  # bodies are never shown


def _held_inbound(world: CaseWorld, body: str = "Please add us.") -> InboundMessage:
    raw = (
        f"From: Stranger <stranger@elsewhere.example>\r\nTo: {case_address(world.case.pk)}\r\n"
        f"Subject: About the overflow\r\n\r\n{body}\r\n"
    ).encode()
    message = store_inbound(
        raw, mail_from="stranger@elsewhere.example", rcpt_to=[case_address(world.case.pk)]
    )
    assert process(message) == InboundStatus.HELD
    message.refresh_from_db()
    return message


def test_coordinator_lets_held_inbound_mail_through_or_discards_it(
    client: Client, list_key: str
) -> None:
    world = build_case_world()
    message = _held_inbound(world)
    assert (message.rule, message.case_id) == ("unknown-sender", world.case.pk)
    client.force_login(world.coordinator)
    page = client.get("/outbox/").content.decode()
    assert "stranger@elsewhere.example" in page
    assert "not a participant" in page
    client.post(f"/outbox/inbound/{message.pk}/", {"action": "release"})
    message.refresh_from_db()
    assert (message.status, message.route) == (InboundStatus.ACCEPTED, "post")
    post = Post.objects.get(pk=message.post_id)
    assert post.author_id is None
    assert post.author_label.startswith("stranger@elsewhere.example (by mail, let through by")
    assert post.unverified_sender
    other = _held_inbound(world, body="Spam, spam.")
    client.post(f"/outbox/inbound/{other.pk}/", {"action": "discard"})
    other.refresh_from_db()
    assert other.status == InboundStatus.DISCARDED
    tags = list(AuditEvent.objects.filter(object_type="inbound").values_list("tag", flat=True))
    assert tags == ["mail:inbound:released", "mail:inbound:discarded"]
    assert client.post(f"/outbox/inbound/{other.pk}/", {"action": "release"}).status_code == 404


def test_unreadable_held_mail_cannot_be_let_through(client: Client, list_key: str) -> None:
    world = build_case_world()
    message = _held_inbound(world)
    InboundMessage.objects.filter(pk=message.pk).update(rule="undecryptable")
    client.force_login(world.coordinator)
    response = client.post(f"/outbox/inbound/{message.pk}/", {"action": "release"}, follow=True)
    assert "cannot read this message" in response.content.decode()
    message.refresh_from_db()
    assert message.status == InboundStatus.HELD


def test_only_the_cases_leads_let_held_mail_in_and_operators_may_only_discard_it(
    client: Client, list_key: str
) -> None:
    world = build_case_world()
    message = _held_inbound(world)
    for user in (world.vendor_user, world.outsider_user):
        client.force_login(user)
        assert "stranger@elsewhere.example" not in client.get("/outbox/").content.decode()
        assert (
            client.post(f"/outbox/inbound/{message.pk}/", {"action": "release"}).status_code == 404
        )
    operator = UserFactory(is_staff=True)
    client.force_login(operator)
    page = client.get("/outbox/").content.decode()
    assert "stranger@elsewhere.example" in page
    assert "About the overflow" not in page  # the subject is need-to-know
    assert 'value="release"' not in page
    refused = client.post(f"/outbox/inbound/{message.pk}/", {"action": "release"}, follow=True)
    assert "Only the case&#x27;s leads can let mail into a case" in refused.content.decode()
    message.refresh_from_db()
    assert message.status == InboundStatus.HELD
    for lead in (world.maintainer, world.coordinator):  # upstream and coordinator lead
        client.force_login(lead)
        page = client.get("/outbox/").content.decode()
        assert "About the overflow" in page
        assert 'value="release"' in page
    client.force_login(operator)
    client.post(f"/outbox/inbound/{message.pk}/", {"action": "discard"})
    message.refresh_from_db()
    assert message.status == InboundStatus.DISCARDED


def _waiting(world: CaseWorld) -> OutboundMessage:
    """A copy the relay refused twice: waiting for its third attempt, an hour from now."""
    with transaction.atomic():
        (row,) = fan_out(
            MailSpec(subject="s", body="embargoed body", case_id=world.case.pk),
            [Recipient("later@example.org", plain_ok=True)],
        )
    now = clock.now()
    OutboundMessage.objects.filter(pk=row.pk).update(
        attempts=2,
        last_error="451 4.3.0 Relay busy, try later",
        first_failed_at=now - timedelta(minutes=6),
        last_failed_at=now - timedelta(minutes=5),
        next_attempt_at=now + timedelta(hours=1),
    )
    row.refresh_from_db()
    return row


def test_waiting_copies_show_their_last_error_and_next_attempt_and_can_go_now(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    world = build_case_world()
    OutboundMessage.objects.all().delete()
    row = _waiting(world)
    client.force_login(world.coordinator)
    page = client.get("/outbox/").content.decode()
    waiting = page[page.index('id="waiting"') : page.index('id="held"')]
    assert "later@example.org" in waiting
    assert "451 4.3.0 Relay busy, try later" in waiting
    assert row.next_attempt_at.strftime("%Y-%m-%d %H:%M") in waiting
    assert "Retry now" in waiting
    assert "embargoed body" not in page
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        response = client.post(f"/outbox/{row.pk}/retry-now/", follow=True)
    assert "will be attempted now" in response.content.decode()
    assert len(scheduled) == 1  # the delivery task, queued after the commit
    row.refresh_from_db()
    assert row.status == OutboxStatus.QUEUED
    assert row.attempts == 2  # the attempts so far still count towards holding it
    assert row.next_attempt_at <= clock.now()
    event = AuditEvent.objects.get(object_type="outbound", object_id=str(row.pk))
    assert event.tag == "mail:outbound:retried-now"
    assert event.actor_user_id == world.coordinator.pk
    assert event.data["attempts"] == 2
    assert event.data["last_error"] == "451 4.3.0 Relay busy, try later"
    page = client.get("/outbox/").content.decode()
    assert "due now" in page[page.index('id="waiting"') : page.index('id="held"')]


def test_only_those_who_manage_a_copy_may_send_it_now(client: Client) -> None:
    world = build_case_world()
    row = _waiting(world)
    for user in (world.vendor_user, world.outsider_user, world.maintainer):
        client.force_login(user)
        assert "later@example.org" not in client.get("/outbox/").content.decode()
        assert client.post(f"/outbox/{row.pk}/retry-now/").status_code == 404
    held = _held(world)
    client.force_login(UserFactory(is_staff=True))  # operators manage every copy
    assert client.post(f"/outbox/{held.pk}/retry-now/").status_code == 404  # held: "Retry"
    assert client.post(f"/outbox/{row.pk}/retry-now/").status_code == 302
    assert not AuditEvent.objects.filter(object_id=str(held.pk), object_type="outbound").exists()


def test_a_copy_taken_by_a_worker_meanwhile_is_not_sent_again(client: Client) -> None:
    world = build_case_world()
    row = _waiting(world)
    OutboundMessage.objects.filter(pk=row.pk).update(status=OutboxStatus.SENDING)
    with pytest.raises(Conflict, match="being sent, not waiting"):
        do_retry_now(row, actor=actor_for(world.coordinator))
    assert not AuditEvent.objects.filter(tag="mail:outbound:retried-now").exists()
