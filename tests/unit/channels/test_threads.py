"""Threads from Message-ID, In-Reply-To and References: one key per thread, known threads
keep theirs; replies laid out under what they answer."""

from __future__ import annotations

from dataclasses import dataclass

from lockstep.channels.threads import DEPTH_MAX, thread_keys, thread_order


@dataclass(frozen=True)
class M:
    message_id: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class P:
    message_id: str
    in_reply_to: str = ""


def test_replies_share_their_threads_key() -> None:
    keys = thread_keys(
        [
            M("<a>"),
            M("<b>", ("<a>",)),
            M("<c>", ("<a>", "<b>")),
            M("<d>"),
            M("<e>", ("<b>",)),  # References cut short: still the thread of <a>
        ],
        {},
    )
    assert keys == {"<a>": "<a>", "<b>": "<a>", "<c>": "<a>", "<d>": "<d>", "<e>": "<a>"}


def test_a_missing_parent_joins_its_replies_and_order_in_the_file_does_not_matter() -> None:
    keys = thread_keys([M("<y>", ("<lost>",)), M("<x>", ("<lost>",))], {})
    assert keys == {"<y>": "<lost>", "<x>": "<lost>"}
    later = thread_keys([M("<r>", ("<root>",)), M("<root>")], {})
    assert later == {"<r>": "<root>", "<root>": "<root>"}


def test_threads_the_archive_holds_keep_their_key() -> None:
    keys = thread_keys([M("<new>", ("<old-reply>",))], {"<old-reply>": "<old-root>"})
    assert keys == {"<new>": "<old-root>"}
    both = thread_keys([M("<n>", ("<p>", "<q>"))], {"<p>": "<k2>", "<q>": "<k1>"})
    assert both == {"<n>": "<k1>"}  # bridging two threads: the smaller key, deterministically


def test_reading_order() -> None:
    posts = [
        P("<a>"),
        P("<b>", "<a>"),
        P("<c>", "<gone>"),  # its parent is not in the archive: top level
        P("<d>", "<a>"),
        P("<e>", "<b>"),
    ]
    order = [(post.message_id, depth) for post, depth in thread_order(posts)]
    assert order == [("<a>", 0), ("<b>", 1), ("<e>", 2), ("<d>", 1), ("<c>", 0)]


def test_a_loop_of_replies_and_a_deep_thread_are_shown_whole() -> None:
    loop = [P("<x>", "<y>"), P("<y>", "<x>"), P("<self>", "<self>")]
    assert sorted(p.message_id for p, _ in thread_order(loop)) == ["<self>", "<x>", "<y>"]
    chain = [P("<0>")] + [P(f"<{n}>", f"<{n - 1}>") for n in range(1, 30)]
    depths = [depth for _, depth in thread_order(chain)]
    assert depths[:3] == [0, 1, 2]
    assert max(depths) == DEPTH_MAX
