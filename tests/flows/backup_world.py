"""A program run by tests/flows/test_backup.py inside one instance (its LOCKSTEP_* environment).

    python tests/flows/backup_world.py build OUTBOX   a case with posts and attachments, its
                                                      mail delivered into OUTBOX; prints facts
    python tests/flows/backup_world.py write          adds a post every few milliseconds until
                                                      stopped (an instance in use)
    python tests/flows/backup_world.py facts          prints what a restore must bring back

Facts are JSON: cases with their posts and each attachment's SHA-256 over the stored bytes,
every participant's case reply address, the list key's fingerprint, the audit chain's state.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

import django

django.setup()

from lockstep.accounts.models import User  # noqa: E402
from lockstep.audit.record import verify  # noqa: E402
from lockstep.cases.actions.posts import do_add_post  # noqa: E402
from lockstep.cases.models import Attachment, Case, Post  # noqa: E402
from lockstep.cases.queries import access_case_by_id  # noqa: E402
from lockstep.core import clock  # noqa: E402
from lockstep.core.actor import Actor  # noqa: E402
from lockstep.core.uploads import UploadedFile  # noqa: E402
from lockstep.mailgw.addresses import case_address, case_member_address  # noqa: E402
from lockstep.mailgw.outbound.deliver import deliver_due  # noqa: E402
from lockstep.mailgw.outbound.listkey import key_fingerprint, key_path  # noqa: E402
from lockstep.mailgw.outbound.transport import FolderTransport  # noqa: E402
from lockstep.orgs.actions import do_add_user_key  # noqa: E402
from lockstep.orgs.models import Membership  # noqa: E402
from tests.factories.cases import build_case_world  # noqa: E402
from tests.factories.keys import key_pair  # noqa: E402

PAYLOADS = (b"\x00\x01binary proof of concept\xff" * 50, b"--- a/inflate.c\n+++ b/inflate.c\n")


def _actor(user: User) -> Actor:
    return Actor.for_user(user)


def build(outbox: Path) -> None:
    world = build_case_world()
    vendor = world.vendor_user
    do_add_user_key(vendor, armored=key_pair("Vendor <v@example.org>").public, actor=_actor(vendor))
    actor = _actor(world.maintainer)
    for number, payload in enumerate(PAYLOADS):
        do_add_post(
            access_case_by_id(actor, world.case.pk),
            body=f"Post {number}: see the attachment.",
            files=[UploadedFile(f"poc-{number}.bin", "application/octet-stream", payload)],
            actor=actor,
        )
    deliver_due(FolderTransport(outbox), now=clock.now())
    facts()


def write() -> None:
    post = Post.objects.filter(author__isnull=False).select_related("author").first()
    assert post is not None
    assert post.author is not None
    case, actor = post.case, _actor(post.author)
    number = 0
    while True:
        number += 1
        do_add_post(access_case_by_id(actor, case.pk), body=f"Busy {number}", actor=actor)
        if number == 1:
            sys.stdout.write("writing\n")
            sys.stdout.flush()


def _case_facts(case: Case) -> dict[str, Any]:
    members = Membership.objects.filter(org__case_seats__case=case).values_list(
        "user_id", flat=True
    )
    return {
        "title": case.title,
        "posts": list(Post.objects.filter(case=case).values_list("body", flat=True)),
        "attachments": sorted(
            (item.filename, hashlib.sha256(bytes(item.content)).hexdigest())
            for item in Attachment.objects.filter(case=case)
        ),
        "address": case_address(case.pk),
        "member_addresses": sorted({case_member_address(case.pk, user) for user in members}),
    }


def facts() -> None:
    report = verify()
    path = key_path()
    said = {
        "cases": {str(case.pk): _case_facts(case) for case in Case.objects.order_by("pk")},
        "list_key": key_fingerprint(path.read_text("ascii")) if path.exists() else None,
        "audit_ok": report.ok,
        "audit_events": report.checked,
    }
    sys.stdout.write(json.dumps(said) + "\n")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "build":
        build(Path(sys.argv[2]))
    elif command == "write":
        write()
    else:
        facts()
