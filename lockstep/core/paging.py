"""How far lists are paged, and how large an id is: the bounds the web pages and the API check
before a number reaches the database.

A database refuses integers past 2**63 - 1 (SQLite with an OverflowError: a 500 before these
bounds), and no list Lockstep shows is a million entries long. A page (`?page=`), an offset
or an id outside is refused with a 400, never passed on.
"""

from __future__ import annotations

ID_MAX = 2**63 - 1  # the largest BigAutoField value
OFFSET_MAX = 1_000_000


def offset_of(page: int, per_page: int) -> int | None:
    """The offset of `page` (from 1), or None when it lies past OFFSET_MAX."""
    offset = (max(page, 1) - 1) * per_page
    return offset if offset <= OFFSET_MAX else None
