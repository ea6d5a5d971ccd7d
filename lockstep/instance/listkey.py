"""At process start: the list key is made for a new instance, and never silently made again.

`lockstep serve`, `web`, `worker`, `smtpd` and `demo` call `check_list_key_at_start` before
they start work. A new instance gets its list key there, audited with its fingerprint, so the
audit log says which key the instance signs with. When the file is missing on an instance that
already used a key, the process refuses to start and says why (see `mailgw.outbound.listkey`),
unless the operator asks for a new key with `--new-list-key` (also audited).

An instance counts as having used a key when mail signed by one left or mail encrypted to one
arrived, when its audit log records a list key being made, or when it holds posts in cases or
on public lists (their mail may still be waiting in the outbox). Only this layer sees all of it.
"""

from __future__ import annotations

from lockstep.cases.models import Post
from lockstep.channels.models import PublicPost
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict
from lockstep.mailgw.outbound.listkey import (
    ListKeyMissing,
    do_make_list_key,
    key_fingerprint,
    key_path,
    list_key_use,
)
from lockstep.mailgw.outbound.protect import list_secret_key


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def list_key_evidence() -> str | None:
    """What shows that this instance used a list key, in words; None if nothing does."""
    used = list_key_use()
    if used is not None:
        return used
    found = [
        _plural(count, word)
        for count, word in (
            (Post.objects.count(), "post"),
            (PublicPost.objects.count(), "public list post"),
        )
        if count
    ]
    return f"already has {' and '.join(found)}" if found else None


def check_list_key_at_start(*, new_list_key: bool) -> str:
    """Make the key of a new instance; refuse (`ListKeyMissing`) to replace a used one unless
    `new_list_key` says so. Returns a line for the operator, or "" if there was nothing to do."""
    path = key_path()
    if path.exists():
        return ""
    evidence = list_key_evidence()
    if evidence is not None and not new_list_key:
        if path.exists():  # another process of this instance made it while we looked
            return ""
        raise ListKeyMissing(path, evidence)
    label = "--new-list-key" if evidence is not None else "first start"
    try:
        secret = do_make_list_key(actor=Actor.system(label), replacing=evidence is not None)
    except Conflict:  # another process of this instance made it a moment ago
        return ""
    list_secret_key.cache_clear()
    made = "a new list key" if evidence is not None else "the list key"
    return f"Made {made} {key_fingerprint(secret)} in {path}"
