"""The page number of a list page (`?page=3`), checked before it reaches the database.

Anything that is not a plain number is page 1, as a person who edits the address expects;
a number so large that its page starts past `core.paging.OFFSET_MAX` is refused with a 400
(Django's `BadRequest`): it was a 500 when the database refused the number.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest

from lockstep.core.paging import offset_of


def page_number(request: HttpRequest, *, per_page: int, name: str = "page") -> int:
    raw = request.GET.get(name, "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    page = max(int(raw), 1)
    if offset_of(page, per_page) is None:
        msg = f"There is no page {raw} here."
        raise BadRequest(msg)
    return page
