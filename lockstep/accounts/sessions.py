"""A person's browser sessions: listing and ending them.

django-allauth's `usersessions` app records every session at login (`UserSession`, one row
per session key, with the client address and browser). Ending a session deletes it from
Django's session store, so the cookie that named it is worth nothing from the next request
on. Sessions begun before that app was installed are not listed; they still end on a
password change (Django checks the password hash in each session) and on deactivation
(an inactive account is never loaded from a session).
"""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.db.models import QuerySet


def sessions_of(user_id: int) -> QuerySet[UserSession]:
    """A user's recorded sessions, the most recently seen first."""
    sessions: QuerySet[UserSession] = UserSession.objects.filter(user_id=user_id)
    return sessions.order_by("-last_seen_at", "-pk")


def end_sessions_of(user_id: int, *, keep: str | None = None) -> int:
    """End every session of a user but the one whose key is `keep`; return how many ended."""
    ended = 0
    for session in sessions_of(user_id):
        if keep is not None and session.session_key == keep:
            continue
        session.end()
        ended += 1
    return ended
