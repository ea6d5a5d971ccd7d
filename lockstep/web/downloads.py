"""Files handed to the browser: the `Content-Disposition` header of a download.

RFC 6266 with RFC 8187: `filename="…"` carries an ASCII stand-in for clients that know no
better, and `filename*=UTF-8''…` the exact name, percent-encoded. The header is ASCII
whatever the name: a name outside Latin-1 once made Django MIME-encode the whole header
(`=?utf-8?b?…?=`), which no browser reads as a file name.
"""

from __future__ import annotations

from urllib.parse import quote

FALLBACK = "download"


def _ascii_stand_in(name: str) -> str:
    kept = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in name)
    return kept.strip() or FALLBACK


def content_disposition(filename: str, *, inline: bool = False) -> str:
    kind = "inline" if inline else "attachment"
    stand_in = _ascii_stand_in(filename)
    if stand_in == filename or not filename:
        return f'{kind}; filename="{stand_in}"'
    return f"{kind}; filename=\"{stand_in}\"; filename*=UTF-8''{quote(filename, safe='')}"
