"""Posts are Markdown rendered to safe HTML."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockstep.core.errors import ValidationError
from lockstep.core.markdown import MAX_INPUT, render_markdown


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**bold** and *em*", "<p><strong>bold</strong> and <em>em</em></p>\n"),
        ("~~gone~~", "<p><s>gone</s></p>\n"),
        ("`<b>`", "<p><code>&lt;b&gt;</code></p>\n"),
        (
            "```\n<script>x</script>\n```",
            "<pre><code>&lt;script&gt;x&lt;/script&gt;\n</code></pre>\n",
        ),
        (
            "[site](https://libquokka.example/)",
            (
                '<p><a href="https://libquokka.example/" rel="nofollow noopener noreferrer">'
                "site</a></p>\n"
            ),
        ),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        (
            '<img src=x onerror="alert(1)">',
            '<p>&lt;img src=x onerror="alert(1)"&gt;</p>\n',
        ),
    ],
)
def test_rendering(source: str, html: str) -> None:
    assert render_markdown(source) == html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
    ],
)
def test_dangerous_links_lose_their_target(source: str) -> None:
    html = render_markdown(source)
    assert "href" not in html


def test_images_are_not_loaded() -> None:
    html = render_markdown("![tracker](https://evil.example/pixel.png)")
    assert "<img" not in html
    assert "evil.example" in html  # shown as text or a plain link, never fetched


def test_tables_render() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<table>" in html
    assert "<td>1</td>" in html


def test_too_long_input_is_refused() -> None:
    with pytest.raises(ValidationError, match="at most"):
        render_markdown("x" * (MAX_INPUT + 1))


@given(st.text(max_size=300))
def test_no_script_or_javascript_link_ever(source: str) -> None:
    html = render_markdown(source).lower()
    assert "<script" not in html
    assert 'href="javascript:' not in html
    assert "<img" not in html
