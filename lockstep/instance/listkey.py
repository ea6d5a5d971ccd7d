"""At process start: refuse to run over a missing list key the instance already used.

`lockstep serve`, `web`, `worker` and `smtpd` call `check_list_key_at_start` before they
start work. The list key is otherwise made on first use (`mailgw.outbound.protect`), which is
right for a new instance and wrong for one whose members already know its key (see
`mailgw.outbound.listkey`). Here every layer is in view, so an instance counts as having used
a key when mail signed by one left or mail encrypted to one arrived, and also when it holds
posts in cases or on public lists (their mail may still be waiting in the outbox).
"""

from __future__ import annotations

from lockstep.cases.models import Post
from lockstep.channels.models import PublicPost
from lockstep.core.actor import Actor
from lockstep.mailgw.outbound.listkey import (
    ListKeyMissing,
    do_make_list_key,
    key_fingerprint,
    key_path,
    list_key_mail,
)
from lockstep.mailgw.outbound.protect import list_secret_key


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def list_key_evidence() -> str | None:
    """What shows that this instance used a list key, in words; None if nothing does."""
    mail = list_key_mail()
    if mail is not None:
        return mail
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
    """Raise `ListKeyMissing` if the key is gone but was used, unless `new_list_key` allows a
    new one, which is then made now (audited). Returns a line for the operator, or ""."""
    path = key_path()
    if path.exists():
        return ""
    evidence = list_key_evidence()
    if not new_list_key:
        if evidence is not None:
            raise ListKeyMissing(path, evidence)
        return ""  # a new instance: the key is made on first use
    secret = do_make_list_key(actor=Actor.system("--new-list-key"), replacing=evidence is not None)
    list_secret_key.cache_clear()
    return f"Made a new list key {key_fingerprint(secret)} in {path}"
