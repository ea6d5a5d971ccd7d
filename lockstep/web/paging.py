"""Numbers in page addresses, checked before they reach the database.

`page_number`: the page of a list (`?page=3`). Anything that is not a plain number is page 1,
as a person who edits the address expects; a number so large that its page starts past
`core.paging.OFFSET_MAX` is refused with a 400 (Django's `BadRequest`): it was a 500 when the
database refused the number.

`IdConverter` (`<id:case_id>` in web/urls.py): an id in a path, up to `core.paging.ID_MAX`;
a larger one matches no page (404) instead of reaching the database (a 500 on SQLite).
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest

from lockstep.core.paging import ID_MAX, offset_of


def page_number(request: HttpRequest, *, per_page: int, name: str = "page") -> int:
    raw = request.GET.get(name, "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    page = max(int(raw), 1)
    if offset_of(page, per_page) is None:
        msg = f"There is no page {raw} here."
        raise BadRequest(msg)
    return page


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValueError(value)  # Django: the pattern does not match
        return number

    def to_url(self, value: int) -> str:
        return str(value)
