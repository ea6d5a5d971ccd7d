"""The list key's file: made once, and never made again silently over an instance that used one.

Members verify Lockstep's mail against the list key, and reporters and members encrypt to it.
If its file goes missing (a restore that brought back the database but not the key, a new
data folder), making a fresh key on the next use would hand members a new signer without a
word, and mail already encrypted to the old key could no longer be read. So a key is made
without asking only on an instance that never used one; otherwise the operator restores the
file (`lockstep restore`) or asks for a new key (`--new-list-key`), which is audited.

`list_key_use()` is what this layer can see: copies that left signed by a list key, mail that
arrived encrypted to one, and the audit log's record of each key made. The process start
(`lockstep.instance.listkey`), which makes a new instance's key, adds what only higher layers
know: posts in cases and on public lists.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

from lockstep.audit.models import AuditEvent
from lockstep.audit.record import record
from lockstep.audit.tags import MailTag
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict
from lockstep.mailgw.crypto.base import get_openpgp
from lockstep.mailgw.crypto.signing import public_half
from lockstep.mailgw.models import InboundMessage, OutboundMessage, OutboxStatus, Protection
from lockstep.mailgw.wkd import fingerprint

KEY_MODE = 0o600


class ListKeyMissing(RuntimeError):
    """The list key file is gone but the instance already used a list key."""

    def __init__(self, path: Path, evidence: str) -> None:
        super().__init__(
            f"The list key file {path} is missing but this instance {evidence}; "
            "restore it from a backup (lockstep restore), or run with --new-list-key to make "
            "a new one (members will see a new signer and cannot decrypt mail encrypted to "
            "the old key)"
        )
        self.path = path


def key_path() -> Path:
    return Path(settings.LOCKSTEP_LIST_KEY_FILE)


def key_fingerprint(secret_key: str) -> str:
    """The list key's fingerprint (upper-case hex), as members see it in their mail client."""
    return fingerprint(public_half(secret_key)).upper()


def list_key_use() -> str | None:
    """What shows, in this layer, that the instance used a list key (in words), or None."""
    signed = (Protection.PGP, Protection.SIGNED)
    if OutboundMessage.objects.filter(status=OutboxStatus.SENT, protection__in=signed).exists():
        return "has already sent mail signed by a list key"
    if InboundMessage.objects.filter(encrypted=True).exists():
        return "has already received mail encrypted to a list key"
    made = AuditEvent.objects.filter(tag=MailTag.LIST_KEY_MADE).order_by("-seq").first()
    if made is not None:
        return f"made the list key {made.object_id} on {made.at:%Y-%m-%d}"
    return None


def _create(path: Path) -> str | None:
    """Make a key into `path` (mode 0600); None if the file is there already."""
    _public, secret = get_openpgp().generate_key(f"Lockstep <{settings.LOCKSTEP_MAIL_FROM}>")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_MODE)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def write_new_list_key(path: Path) -> str:
    """Make a key into `path`; if another process made it first, that one wins."""
    secret = _create(path)
    return secret if secret is not None else path.read_text(encoding="ascii")


@transaction.atomic
def do_make_list_key(*, actor: Actor, replacing: bool) -> str:
    """Make the list key where none is; audited with its fingerprint, so the audit log says
    which key the instance signs with (and that it had one, should the file go missing).

    `replacing` says the instance had used a key before (its members will see a new signer).
    """
    path = key_path()
    secret = _create(path)
    if secret is None:
        msg = f"The list key file {path} already exists; move it away first to replace it."
        raise Conflict(msg)
    record(
        MailTag.LIST_KEY_MADE,
        actor=actor,
        object_type="list-key",
        object_id=key_fingerprint(secret),
        data={"file": str(path), "replacing": replacing},
    )
    return secret
