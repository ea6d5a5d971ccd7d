"""Posts the reporter reads: whoever tells the reporter hears of each one.

The reporter of the report a case came from reads the case's posts on their tracking page
(all but those marked participants only) and is mailed news of them. Reports live in
`intake`, above `cases`, and a lower layer never imports a higher one; so intake registers a
listener here when its app loads (`AppConfig.ready`), as advisories does with `core.moments`.
Unlike those, these listeners run inside the post's own transaction: the mail to the reporter
is queued with the post, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from lockstep.cases.models import Post
from lockstep.core.actor import Actor

Listener = Callable[[Post, Actor], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def post_for_reporter(post: Post, *, actor: Actor) -> None:
    """`post` (not participants only) was added by `actor`, in the current transaction."""
    for listener in tuple(_listeners):
        listener(post, actor)
