"""A list key is made once: never again, silently, over an instance that has used one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lockstep.audit.models import AuditEvent
from lockstep.audit.record import verify
from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.models import ChannelKind
from lockstep.channels.public import do_post_public
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict
from lockstep.instance.listkey import check_list_key_at_start, list_key_evidence
from lockstep.mailgw.models import InboundMessage, OutboundMessage, OutboxStatus, Protection
from lockstep.mailgw.outbound.listkey import ListKeyMissing, do_make_list_key, key_fingerprint
from lockstep.mailgw.outbound.protect import list_secret_key
from tests.conftest import actor_for
from tests.factories.cases import build_case_world
from tests.factories.world import ChannelFactory

pytestmark = pytest.mark.django_db
MADE = "mail:list-key:made"


@pytest.fixture
def key_file(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """Where the list key would be: nothing there yet."""
    path = tmp_path / "keys" / "list-key.asc"
    settings.LOCKSTEP_LIST_KEY_FILE = str(path)
    settings.LOCKSTEP_LIST_KEY_GUARD = True
    list_secret_key.cache_clear()
    yield path
    list_secret_key.cache_clear()


def _mail_went_out_signed() -> None:
    build_case_world()
    OutboundMessage.objects.update(status=OutboxStatus.SENT, protection=Protection.PGP)


def test_a_new_instance_makes_its_key_on_first_use(key_file: Path) -> None:
    secret = list_secret_key()
    assert key_file.read_text("ascii") == secret
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not AuditEvent.objects.filter(tag=MADE).exists()


def test_queued_mail_alone_does_not_count_as_use(key_file: Path) -> None:
    build_case_world()  # the report's copies wait in the outbox, none has left
    assert OutboundMessage.objects.exists()
    assert list_secret_key()
    assert key_file.exists()


def test_after_signed_mail_left_a_missing_key_is_not_made_again(key_file: Path) -> None:
    _mail_went_out_signed()
    with pytest.raises(ListKeyMissing) as refused:
        list_secret_key()
    said = str(refused.value)
    assert f"The list key file {key_file} is missing" in said
    assert "has already sent mail signed by a list key" in said
    assert "lockstep restore" in said
    assert "--new-list-key" in said
    assert "members will see a new signer" in said
    assert not key_file.exists()


def test_mail_that_arrived_encrypted_to_the_key_counts_too(key_file: Path) -> None:
    InboundMessage.objects.create(
        received_at=clock.now(), raw=b"x", size=1, sha256="0" * 64, encrypted=True
    )
    with pytest.raises(ListKeyMissing, match="has already received mail encrypted to a list"):
        list_secret_key()


def test_without_the_guard_the_database_is_not_asked(key_file: Path, settings: Any) -> None:
    settings.LOCKSTEP_LIST_KEY_GUARD = False  # as in the other tests: keys made in any thread
    _mail_went_out_signed()
    assert list_secret_key() == key_file.read_text("ascii")


def test_at_start_posts_count_as_use(key_file: Path, system: Actor) -> None:
    world = build_case_world()  # its report became the case's first post
    assert list_key_evidence() == "already has 1 post"
    actor = actor_for(world.maintainer)
    do_add_post(access_case_by_id(actor, world.case.pk), body="More.", actor=actor)
    public = ChannelFactory(kind=ChannelKind.PUBLIC, slug="announce", name="announce")
    do_post_public(public, subject="Hello", body="World", actor=system)
    assert list_key_evidence() == "already has 2 posts and 1 public list post"
    with pytest.raises(ListKeyMissing, match="this instance already has 2 posts and 1 public"):
        check_list_key_at_start(new_list_key=False)
    assert not key_file.exists()


def test_at_start_signed_mail_is_named_first(key_file: Path) -> None:
    _mail_went_out_signed()
    assert list_key_evidence() == "has already sent mail signed by a list key"


def test_at_start_a_new_key_is_made_on_the_operators_word(key_file: Path) -> None:
    build_case_world()
    said = check_list_key_at_start(new_list_key=True)
    secret = key_file.read_text("ascii")
    assert said == f"Made a new list key {key_fingerprint(secret)} in {key_file}"
    event = AuditEvent.objects.get(tag=MADE)
    assert event.object_id == key_fingerprint(secret)
    assert event.data == {"file": str(key_file), "replacing": True}
    assert event.actor_label == "system:--new-list-key"
    assert verify().ok
    assert list_secret_key() == secret
    assert check_list_key_at_start(new_list_key=True) == ""  # there is one now: nothing to do
    with pytest.raises(Conflict, match="already exists"):
        do_make_list_key(actor=Actor.system("tests"), replacing=False)


def test_at_start_a_new_instance_gets_its_key_and_the_audit_log_remembers_it(
    key_file: Path,
) -> None:
    said = check_list_key_at_start(new_list_key=False)
    secret = key_file.read_text("ascii")
    assert said == f"Made the list key {key_fingerprint(secret)} in {key_file}"
    event = AuditEvent.objects.get(tag=MADE)
    assert (event.object_id, event.data["replacing"]) == (key_fingerprint(secret), False)
    assert event.actor_label == "system:first start"
    key_file.unlink()  # lost: the instance never sent anything, but its log knows the key
    list_secret_key.cache_clear()
    with pytest.raises(ListKeyMissing, match=f"made the list key {event.object_id} on 20"):
        check_list_key_at_start(new_list_key=False)
    assert not key_file.exists()
