"""Markdown for posts: CommonMark rendered, then sanitised against an allow-list.

No images: an <img> pointing at a remote host would tell that host (and whoever watches it)
that someone opened an embargoed post, and when. Image syntax is shown as a plain link.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from lockstep.core.errors import ValidationError

MAX_INPUT = 256 * 1024
ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_parser.disable("image")


def render_markdown(text: str) -> str:
    """Safe HTML for `text`; raw HTML in the input is shown as text, never interpreted."""
    if len(text.encode("utf-8")) > MAX_INPUT:
        msg = f"A text may be at most {MAX_INPUT // 1024} KiB."
        raise ValidationError(msg, field="body")
    html = _parser.render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
    )
