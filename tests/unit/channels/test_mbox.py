"""Reading an mbox (mboxrd): messages split at "From " lines, every level of ">From "
quoting undone, headers decoded, the text found in whatever MIME shape it came."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lockstep.channels.mbox import (
    MboxError,
    Raw,
    envelope,
    html_text,
    mail,
    messages,
    open_mbox,
)

PLAIN = b"""\
From alice@example.org Sun Jan 01 00:19:04 2023
From: =?utf-8?q?J=C3=BCrgen_Wei=C3=9F?= <jw@example.org>
Subject: [PATCH] net: fix heap buffer overflow
Date: Sun, 01 Jan 2023 01:19:04 +0100
Message-ID: <one@example.org>
Content-Type: text/plain; charset=UTF-8

Hello.
>From the changelog: nothing.
>>From a quote of a quote.
>>>From three levels deep.
> From a quoted line that is no escape.
From: not a separator either, it has no space after From

From bob@example.org Mon Jan 02 10:00:00 2023
From: Bob <bob@example.org>
Subject: Re: [PATCH] net: fix heap buffer overflow
Message-ID: <two@example.org>
In-Reply-To: <one@example.org>
References: <zero@example.org>
 <one@example.org>

No Date header: the "From " line's date is used.

"""


def _all(data: bytes) -> list[Raw]:
    return list(messages(io.BytesIO(data)))


def test_mboxrd_quoting_is_undone_at_every_level() -> None:
    first, second = _all(PLAIN)
    text = mail(first).text
    assert "\nFrom the changelog: nothing.\n" in f"\n{text}\n"
    assert "\n>From a quote of a quote.\n" in text
    assert "\n>>From three levels deep.\n" in text
    assert "\n> From a quoted line that is no escape.\n" in text
    assert second.data.endswith(b"is used.\n")  # the blank line between messages is not kept


def test_headers_sender_date_and_threading() -> None:
    first, second = (mail(raw) for raw in _all(PLAIN))
    assert (first.sender_name, first.sender_address) == ("Jürgen Weiß", "jw@example.org")
    assert first.subject == "[PATCH] net: fix heap buffer overflow"
    assert first.date == datetime(2023, 1, 1, 0, 19, 4, tzinfo=UTC)
    assert first.envelope.message_id == "<one@example.org>"
    assert first.envelope.references == ()
    assert second.date == datetime(2023, 1, 2, 10, 0, tzinfo=UTC)  # from the "From " line
    assert second.envelope.references == ("<zero@example.org>", "<one@example.org>")
    assert second.envelope.in_reply_to == "<one@example.org>"
    assert envelope(_all(PLAIN)[1]) == second.envelope  # the header pass agrees


def test_a_message_without_an_id_gets_one_from_its_bytes() -> None:
    data = b"From x Sun Jan 01 00:00:00 2023\nSubject: hi\n\nbody\n"
    once, again = envelope(_all(data)[0]), envelope(_all(data)[0])
    assert once.message_id == again.message_id
    assert once.message_id.startswith("<import-")
    other = envelope(_all(data.replace(b"body", b"other"))[0])
    assert other.message_id != once.message_id
    assert mail(_all(data)[0]).sender_name == "unknown sender"


def test_not_an_mbox_and_gzip(tmp_path: Path) -> None:
    with pytest.raises(MboxError, match="not an mbox"):
        _all(b"Subject: a lone message\n\nbody\n")
    assert _all(b"") == []
    assert len(_all(b"\n\n" + PLAIN)) == 2  # blank lines before the first message are fine
    packed = tmp_path / "list.mbox.gz"
    packed.write_bytes(gzip.compress(PLAIN))
    with open_mbox(packed) as stream:
        assert [envelope(r).message_id for r in messages(stream)] == [
            "<one@example.org>",
            "<two@example.org>",
        ]
    broken = tmp_path / "broken.mbox.gz"
    broken.write_bytes(gzip.compress(PLAIN)[:-20])
    with open_mbox(broken) as stream, pytest.raises(MboxError, match="cannot be read"):
        list(messages(stream))
    with pytest.raises(MboxError, match="cannot read"):
        open_mbox(tmp_path / "missing.mbox")


MIME = b"""\
From carol@example.org Tue Jan 03 09:00:00 2023
From: carol@example.org
Subject: =?iso-8859-1?q?Caf=E9?=
Date: not a date at all
Message-ID: <three@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 au lait.
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="exploit.bin"
Content-Transfer-Encoding: base64

AAECAw==
--b--

From dave@example.org Wed Jan 04 09:00:00 2023
From: Dave <dave@example.org>
Subject: html only
Message-ID: <four@example.org>
Content-Type: text/html; charset=utf-8

<html><head><title>t</title><style>p{}</style></head><body><p>Use &lt;b&gt; &amp; co.</p>
<script>alert(1)</script><p>Second<br>line</p></body></html>
"""


def test_mime_text_html_and_attachments() -> None:
    plain, html = (mail(raw) for raw in _all(MIME))
    assert plain.subject == "Café"
    assert plain.sender_name == "carol"
    assert plain.date == datetime(2023, 1, 3, 9, 0, tzinfo=UTC)  # a bad Date: the "From " line
    assert plain.text.startswith("Café au lait.")
    assert plain.attachments == ("exploit.bin (application/octet-stream, 4 bytes)",)
    assert "[attachment not imported: exploit.bin (application/octet-stream, 4 bytes)]" in (
        plain.text
    )
    assert not plain.from_html
    assert html.from_html
    assert html.text == "Use <b> & co.\n\nSecond\nline"
    assert html_text("<p>a</p><p></p><p></p><p>b</p>") == "a\n\nb"
