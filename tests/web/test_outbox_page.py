"""Held copies: coordinators (of the case) and operators see envelopes and decide; audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from lockstep.audit.models import AuditEvent
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.mailgw.outbound.deliver import deliver_due
from lockstep.mailgw.outbound.outbox import MailSpec, Recipient, fan_out
from lockstep.mailgw.outbound.transport import FolderTransport
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
