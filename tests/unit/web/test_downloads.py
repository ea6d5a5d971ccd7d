"""`Content-Disposition` for downloads (lockstep.web.downloads): RFC 6266 and RFC 8187."""

from __future__ import annotations

import pytest

from lockstep.web.downloads import content_disposition


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("fix.patch", 'attachment; filename="fix.patch"'),
        (
            "größe.patch",
            "attachment; filename=\"gr__e.patch\"; filename*=UTF-8''gr%C3%B6%C3%9Fe.patch",
        ),
        ("補丁.diff", "attachment; filename=\"__.diff\"; filename*=UTF-8''%E8%A3%9C%E4%B8%81.diff"),
        ('a"b\\c.txt', "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"),
        ("", 'attachment; filename="download"'),
    ],
)
def test_the_header_is_ascii_with_the_exact_name_in_filename_star(name: str, header: str) -> None:
    assert content_disposition(name) == header
    assert content_disposition(name).isascii()


def test_inline_too() -> None:
    assert content_disposition("x.json", inline=True) == 'inline; filename="x.json"'
