"""Who the public archive names as a post's sender: a person, or the publisher for Lockstep's
own posts, never an internal label such as `system:publication` (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from lockstep.channels.models import ChannelKind, PublicPost
from lockstep.channels.public import do_post_public
from lockstep.core.actor import Actor
from tests.factories.world import ChannelFactory

pytestmark = pytest.mark.django_db


def test_lockstep_posts_under_the_publishers_name(settings: Any, client: Client) -> None:
    settings.LOCKSTEP_PUBLISHER_NAME = "Openlist advisories"
    channel = ChannelFactory(slug="oss-security", kind=ChannelKind.PUBLIC)
    with transaction.atomic():
        post = do_post_public(
            channel, subject="Advisory", body="Details.", actor=Actor.system("publication")
        )
    assert post.author_label == "Openlist advisories"
    assert post.sender == "Openlist advisories"
    archive = client.get("/lists/oss-security/").content.decode()
    assert "Openlist advisories" in archive
    assert "system:" not in archive
    assert "system:" not in client.get(f"/lists/oss-security/{post.pk}/").content.decode()


def test_an_older_post_by_lockstep_is_shown_under_the_publishers_name(settings: Any) -> None:
    settings.LOCKSTEP_PUBLISHER_NAME = "Openlist advisories"
    post = PublicPost(author_label="system:publication")
    assert post.sender == "Openlist advisories"
    assert PublicPost(author_label="ana@example.org").sender == "ana@example.org"
