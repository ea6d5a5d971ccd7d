"""Every address Lockstep gives out, built in one place on `LOCKSTEP_BASE_URL`.

Mail, the API, feeds, security.txt and the reporter's tracking page all hand out absolute
URLs; the archive keeps paths (`*_path`), made absolute when shown. Where the instance lives
(a scheme, a host, a path prefix) is decided here and nowhere else.
"""

from __future__ import annotations

from django.conf import settings


def base_url() -> str:
    """The instance's own address, without a trailing slash."""
    base: str = settings.LOCKSTEP_BASE_URL
    return base


def absolute(path: str) -> str:
    """`path` ("/advisories/…/") on this instance."""
    return f"{base_url()}{path}"


def is_https() -> bool:
    return base_url().startswith("https://")


def case_url(case_id: int) -> str:
    """The case room (participants log in to read it)."""
    return absolute(f"/cases/{case_id}/")


def tracking_url(token: str) -> str:
    """The reporter's page: the token in it is their only key to the report."""
    return absolute(f"/track/{token}/")


def invitation_url(token: str) -> str:
    """An invitation to join an organisation: the token in it is the invitee's only key."""
    return absolute(f"/invitations/{token}/")


def advisory_path(public_id: str) -> str:
    return f"/advisories/{public_id}/"


def advisory_url(public_id: str) -> str:
    return absolute(advisory_path(public_id))


def public_post_path(channel_slug: str, post_id: int) -> str:
    return f"/lists/{channel_slug}/{post_id}/"


def public_post_url(channel_slug: str, post_id: int) -> str:
    return absolute(public_post_path(channel_slug, post_id))


def list_archive_url(channel_slug: str) -> str:
    return absolute(f"/lists/{channel_slug}/")
