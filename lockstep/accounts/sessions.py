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
from django.http import HttpRequest


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


def record_session(request: HttpRequest) -> None:
    """Record the session a sign-in just began, whatever signed it in (allauth records its own
    sign-ins; an invitation's account signs in through Django's `login`)."""
    key = request.session.session_key
    if not getattr(request, "user", None):  # a test client's force_login: no real request
        return
    if key and not UserSession.objects.filter(session_key=key).exists():
        UserSession.objects.create_from_request(request)
