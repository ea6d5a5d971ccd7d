"""Malformed and hostile mail, made deterministically from a seed, for the inbound mail path.

`corpus(world, count, seed)` draws `count` messages in turn from nine families (broken MIME,
bad OpenPGP armour, huge headers, the wrong keys, non-UTF-8, NUL bytes, empty messages,
messages without headers, loops and automatic replies), each message from one of its
family's variants. A variant is a small function registered with `@variant`; it returns the
raw bytes and the rules the message may end under, when that is certain (empty: any).

The OpenPGP material (`Blobs`) is made once per run by `make_blobs`: ciphertexts differ from
run to run, everything else is the same for a seed.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP

import pysequoia

from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.outbound.pgpmime import build_signed, canonical_entity, encrypted_entity

TAG = "[vs]"  # the list's subject tag, set by the test on the world's list
OWN = "lockstep@lockstep.invalid"  # the instance's own address (LOCKSTEP_MAIL_FROM)
WORDS = ("quokka", "inflate", "overflow", "heap", "patch", "embargo", "vendor", "armour", "nonce")
ANY: frozenset[str] = frozenset()
UNDECRYPTABLE = frozenset({"undecryptable"})
BAD_SIGNATURE = frozenset({"bad-signature"})
UNREADABLE = frozenset({"unreadable"})


@dataclass(frozen=True)
class Blobs:
    """OpenPGP material the families draw on: armour (bytes) and whole PGP/MIME bodies."""

    list_encrypted: tuple[bytes, ...]  # to the list key, harmless text: mutated into damage
    hostile_inside: tuple[bytes, ...]  # to the list key, a hostile MIME entity inside
    to_strangers: tuple[bytes, ...]  # to keys that are not the list key
    password: bytes  # to a password, no key at all
    signed_by_stranger: tuple[bytes, ...]  # to the list key, signed inside by a stranger
    pgpmime_signed_by_stranger: bytes  # RFC 3156 6.1 to the list key, signed by a stranger
    multipart_signed_by_stranger: bytes  # RFC 3156 section 5, not encrypted
    clearsigned_by_stranger: bytes
    public_key: bytes  # a public key block, for armour of the wrong kind
    unknown_packet: bytes  # armour of a packet whose tag pysequoia has no name for


@dataclass(frozen=True)
class World:
    case: str  # the case's address
    report: str  # the project's security address
    channel: str  # the list's address
    member: str  # a case participant with a key on file
    outsider: str  # a user of the instance, in no case
    blobs: Blobs


@dataclass(frozen=True)
class Hostile:
    family: str
    variant: str
    raw: bytes
    to: str
    mail_from: str
    expect: frozenset[str] = field(default_factory=frozenset)  # the rules it may end under


Variant = Callable[[random.Random, World, str], tuple[bytes, frozenset[str]]]
FAMILIES: dict[str, dict[str, tuple[Variant, int]]] = {}


def variant(family: str, name: str, *, weight: int = 3) -> Callable[[Variant], Variant]:
    """Register a variant of `family`; `weight` is how often it is drawn, relative to 3."""

    def register(build: Variant) -> Variant:
        FAMILIES.setdefault(family, {})[name] = (build, weight)
        return build

    return register


def corpus(world: World, *, count: int, seed: int) -> list[Hostile]:
    rng = random.Random(seed)  # noqa: S311 - reproducible on purpose, not secret
    families = list(FAMILIES.items())
    found = []
    for number in range(count):
        family, variants = families[number % len(families)]
        to = rng.choice([world.case, world.report, world.channel])
        names = list(variants)
        name = rng.choices(names, weights=[variants[n][1] for n in names])[0]
        raw, expect = variants[name][0](rng, world, to)
        if rng.random() < 0.3:  # some arrive with CRLF line ends already, as over SMTP
            raw = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
        mail_from = rng.choice(["", "mallory@evil.example", "<>", OWN])
        found.append(Hostile(family, name, raw, to, mail_from, expect))
    return found


# -- building blocks -------------------------------------------------------------------------


def head(
    rng: random.Random,
    w: World,
    to: str,
    *,
    sender: str | bytes | None = None,
    subject: str | bytes | None = None,
    extra: tuple[str | bytes, ...] = (),
) -> bytes:
    """A header block (with its blank line not yet added), "\n" line ends."""
    if sender is None:
        sender = rng.choice(
            ["Mallory <mallory@evil.example>", "x@y.example", "nobody", w.outsider, w.member]
        )
    if subject is None:
        subject = f"{rng.choice(['', TAG + ' '])}Hostile {rng.randrange(10**6)}"
    lines = [
        b"From: " + _bytes(sender),
        b"To: " + to.encode(),
        b"Subject: " + _bytes(subject),
        b"Message-ID: <%d@hostile.example>" % rng.randrange(10**12),
        b"Date: Wed, 25 Nov 2026 08:00:00 +0000",
        *(_bytes(line) for line in extra),
    ]
    return b"\n".join(lines) + b"\n"


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def mime(
    rng: random.Random,
    w: World,
    to: str,
    content_type: str | bytes,
    body: bytes,
    *,
    sender: str | bytes | None = None,
    subject: str | bytes | None = None,
    extra: tuple[str | bytes, ...] = (),
) -> bytes:
    headers = ("MIME-Version: 1.0", b"Content-Type: " + _bytes(content_type), *extra)
    return head(rng, w, to, sender=sender, subject=subject, extra=headers) + b"\n" + body


def nested(rng: random.Random, depth: int) -> bytes:
    """`depth` multiparts inside each other (under a top one with boundary b0), some closed."""
    kinds = [b"mixed", b"alternative", b"related", b"signed", b"encrypted", b"report"]
    out = b""
    for level in range(depth):
        kind = rng.choice(kinds)
        out += b"--b%d\nContent-Type: multipart/%s; boundary=b%d\n\n" % (level, kind, level + 1)
    out += b"--b%d\nContent-Type: text/plain\n\ndeep down\n" % depth
    closing = list(range(depth, -1, -1))
    for level in closing[: rng.randrange(len(closing) + 1)]:
        out += b"--b%d--\n" % level
    return out


def mutate(rng: random.Random, data: bytes) -> bytes:
    """Cut short, a few bytes changed, or the inner lines shuffled."""
    buf = bytearray(data)
    how = rng.randrange(3)
    if how == 0:
        return bytes(buf[: rng.randrange(len(buf))])
    if how == 1:
        for _ in range(rng.randrange(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf)
    lines = data.split(b"\n")
    middle = lines[1:-2]
    rng.shuffle(middle)
    return b"\n".join([lines[0], *middle, *lines[-2:]])


def pgp_mime(
    control: bytes,
    data: bytes,
    *,
    ct_data: bytes = b"application/octet-stream",
    ct_control: bytes = b"application/pgp-encrypted",
    protocol: bool = True,
) -> tuple[bytes, bytes]:
    """(Content-Type, body) of multipart/encrypted mail with these two parts."""
    params = b'; protocol="application/pgp-encrypted"' if protocol else b""
    body = (
        b"--e\nContent-Type: " + ct_control + b"\n\n" + control + b"\n"
        b"--e\nContent-Type: " + ct_data + b"\n\n" + data + b"\n--e--\n"
    )
    return b"multipart/encrypted" + params + b"; boundary=e", body


PART = b"--b\nContent-Type: text/plain\n\nhello\n"
BEGIN, END = b"-----BEGIN PGP MESSAGE-----\n", b"-----END PGP MESSAGE-----\n"
ENCRYPTED = b'multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e'
SIGNED = b'multipart/signed; protocol="application/pgp-signature"'
BROKEN_MIME, ARMOUR, HUGE, KEYS = "broken-mime", "bad-armour", "huge-headers", "wrong-keys"
CHARSETS, NUL, EMPTY, HEADLESS, LOOPS = "non-utf8", "nul-bytes", "empty", "no-headers", "loops"


# -- broken MIME -----------------------------------------------------------------------------


@variant(BROKEN_MIME, "no-boundary")
def _no_boundary(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return mime(rng, w, to, "multipart/mixed", PART + b"--b--\n"), ANY


@variant(BROKEN_MIME, "unused-boundary")
def _unused_boundary(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return mime(rng, w, to, 'multipart/mixed; boundary="never"', b"just text\n"), ANY


@variant(BROKEN_MIME, "unclosed")
def _unclosed(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    cut = b"--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\nCont"
    return mime(rng, w, to, "multipart/mixed; boundary=b", PART + cut), ANY


@variant(BROKEN_MIME, "nested-100")
def _nested_100(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return mime(rng, w, to, "multipart/mixed; boundary=b0", nested(rng, 100)), ANY


@variant(BROKEN_MIME, "nested-too-deep")
def _nested_too_deep(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    body = nested(rng, rng.choice([129, 150]))  # each level costs more: stay near the limit
    return mime(rng, w, to, "multipart/mixed; boundary=b0", body), UNREADABLE


@variant(BROKEN_MIME, "bad-base64")
def _bad_base64(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    junk = rng.choice([b"!!!@@@###", b"QUJD\n=", b"Q", b"====", b"\xff\xfe"])
    cte = ("Content-Transfer-Encoding: base64",)
    return mime(rng, w, to, "text/plain", junk + b"\n", extra=cte), ANY


@variant(BROKEN_MIME, "bad-quoted-printable")
def _bad_qp(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    junk = rng.choice([b"=ZZ=\n=F", b"=\n=\n=", b"=00=FF=C3=28", b"=" * 500])
    cte = ("Content-Transfer-Encoding: quoted-printable",)
    return mime(rng, w, to, "text/plain; charset=utf-8", junk, extra=cte), ANY


@variant(BROKEN_MIME, "unknown-transfer-encoding")
def _unknown_cte(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    cte = rng.choice(["x-gzip64", "binary", "x-uuencode", "uuencode", "8bit", "7bit", "base65"])
    body = rng.choice([b"begin 644 x\nM" + b"\xff" * 60 + b"\nend\n", rng.randbytes(300)])
    extra = (f"Content-Transfer-Encoding: {cte}",)
    return mime(rng, w, to, "application/octet-stream", body, extra=extra), ANY


@variant(BROKEN_MIME, "empty-boundary")
def _empty_boundary(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    body = b"--\nContent-Type: text/plain\n\nhi\n----\n"
    return mime(rng, w, to, 'multipart/mixed; boundary=""', body), ANY


@variant(BROKEN_MIME, "odd-boundary")
def _odd_boundary(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    boundary = rng.choice([b"a" * 300, b"with space", b'"quoted"', b"--", b"hello"])
    body = b"--" + boundary + b"\nContent-Type: text/plain\n\nhello\n--" + boundary + b"--\n"
    return mime(rng, w, to, b'multipart/mixed; boundary="' + boundary + b'"', body), ANY


def _parts(count: int) -> bytes:
    one = b"--b\nContent-Type: application/x\nContent-Disposition: attachment; filename=f%d\n\nx\n"
    return b"".join(one % n for n in range(count)) + b"--b--\n"


@variant(BROKEN_MIME, "many-parts")
def _many_parts(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return mime(rng, w, to, "multipart/mixed; boundary=b", _parts(300)), ANY


@variant(BROKEN_MIME, "too-many-parts", weight=1)  # the slowest to parse: drawn less often
def _too_many_parts(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return mime(rng, w, to, "multipart/mixed; boundary=b", _parts(1010)), UNREADABLE


@variant(BROKEN_MIME, "rfc822-garbage")
def _rfc822_garbage(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    depth = rng.choice([1, 50, 127])
    body = b"Content-Type: message/rfc822\n\n" * depth + rng.randbytes(200)
    return mime(rng, w, to, "message/rfc822", body), ANY


@variant(BROKEN_MIME, "bad-content-type")
def _bad_content_type(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    ct = rng.choice(
        [
            b";;;",
            b"text/",
            b"/plain",
            b"multipart/",
            b"a" * 400 + b"/" + b"b" * 400,
            b"text/plain; " + b"a=b; " * 20_000,
            b"multipart/mixed; boundary=b; boundary=c",
        ]
    )
    return mime(rng, w, to, ct, PART + b"--b--\n"), ANY


@variant(BROKEN_MIME, "recursion-bomb")
def _recursion_bomb(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    bomb = b"(" * rng.choice([1500, 5000]) + b'"=;\\ ' * 300
    ct = rng.choice([b"text/plain; x=", SIGNED + b"; boundary=b; x="])
    extra = (b"Content-Disposition: attachment; " + bomb,)
    return mime(rng, w, to, ct + bomb, PART + b"--b--\n", extra=extra), ANY


@variant(BROKEN_MIME, "bad-disposition")
def _bad_disposition(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    disposition = rng.choice(
        [
            b"attachment; filename*=x-unknown''%ff%fe",
            b"attachment; filename*0*=utf-8''%e2%82; filename*1*=%ac; filename*3=lost",
            b'attachment; filename="../../etc/passwd"',
            b'attachment; filename="' + b"n" * 1000 + b'"',
            b"attachment; filename*=utf-7''+2AA-",
        ]
    )
    extra = (b"Content-Disposition: " + disposition,)
    return mime(rng, w, to, "application/octet-stream", b"data\n", extra=extra), ANY


@variant(BROKEN_MIME, "mutated")
def _mutated(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    pdf = b"--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0x\n"
    good = mime(rng, w, to, "multipart/mixed; boundary=b", PART + pdf + b"--b--\n")
    return mutate(rng, good), ANY


# -- bad armour ------------------------------------------------------------------------------


@variant(ARMOUR, "inline-garbage")
def _inline_garbage(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    noise = base64.encodebytes(rng.randbytes(rng.randrange(1, 600)))
    return head(rng, w, to) + b"\n" + BEGIN + b"\n" + noise + END, UNDECRYPTABLE


@variant(ARMOUR, "inline-truncated")
def _inline_truncated(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    real = rng.choice(w.blobs.list_encrypted)
    cut = real[: rng.randrange(40, len(real) - 30)]
    return head(rng, w, to) + b"\nSee below.\n" + cut + b"\n" + END, UNDECRYPTABLE


@variant(ARMOUR, "inline-mutated")
def _inline_mutated(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return head(rng, w, to) + b"\n" + mutate(rng, rng.choice(w.blobs.list_encrypted)), ANY


@variant(ARMOUR, "inline-no-end")
def _inline_no_end(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    real = rng.choice(w.blobs.list_encrypted)
    return head(rng, w, to) + b"\n" + real[: len(real) // 2], ANY


@variant(ARMOUR, "inline-clearsigned-garbage")
def _clearsigned_garbage(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    body = (
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSigned text\n"
        b"-----BEGIN PGP SIGNATURE-----\n\n"
        + rng.choice([b"garbage\n", b"", b"=AAAA\n"])
        + b"-----END PGP SIGNATURE-----\n"
    )
    return head(rng, w, to) + b"\n" + body, ANY


@variant(ARMOUR, "inline-key-as-message")
def _key_as_message(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    key = w.blobs.public_key.replace(b"PUBLIC KEY BLOCK", b"MESSAGE")
    return head(rng, w, to) + b"\n" + key, UNDECRYPTABLE


@variant(ARMOUR, "inline-armour-headers")
def _armour_headers(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    real = rng.choice(w.blobs.list_encrypted)
    headers = rng.choice([b"Version: \xff\x00\n", b"Comment: " + b"c" * 5000 + b"\n", b"Nope\n"])
    return head(rng, w, to) + b"\n" + real.replace(b"\n\n", b"\n" + headers + b"\n", 1), ANY


@variant(ARMOUR, "inline-unknown-packet")
def _unknown_packet(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return head(rng, w, to) + b"\n" + w.blobs.unknown_packet, UNDECRYPTABLE


@variant(ARMOUR, "pgpmime-garbage")
def _pgpmime_garbage(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    ct, body = pgp_mime(b"Version: 1", rng.randbytes(rng.randrange(600)))
    return mime(rng, w, to, ct, body), UNDECRYPTABLE


@variant(ARMOUR, "pgpmime-version-2")  # read anyway: only the two parts' types are checked
def _pgpmime_version_2(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    ct, body = pgp_mime(b"Version: 2", rng.choice(w.blobs.list_encrypted))
    return mime(rng, w, to, ct, body), ANY


@variant(ARMOUR, "pgpmime-wrong-parts")
def _pgpmime_wrong_parts(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    real = rng.choice(w.blobs.list_encrypted)
    control = b"--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
    data = b"--e\nContent-Type: application/octet-stream\n\n" + real + b"\n"
    as_text = b"--e\nContent-Type: text/plain\n\n" + real + b"\n"
    parts = rng.choice([[data, control], [control, as_text], [data], [control, data, data]])
    return mime(rng, w, to, ENCRYPTED, b"".join(parts) + b"--e--\n"), UNDECRYPTABLE


@variant(ARMOUR, "pgpmime-empty-data")
def _pgpmime_empty(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    base64_cte = b"application/octet-stream\nContent-Transfer-Encoding: base64"
    ct_data = rng.choice([b"application/octet-stream", base64_cte])
    ct, body = pgp_mime(b"Version: 1", rng.choice([b"", b"\n", b"=\n"]), ct_data=ct_data)
    return mime(rng, w, to, ct, body), UNDECRYPTABLE


@variant(ARMOUR, "pgpmime-truncated")
def _pgpmime_truncated(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    real = rng.choice(w.blobs.list_encrypted)
    # Cut inside the encoded data (a cut in the END line alone loses nothing of the message).
    cut = real[: rng.randrange(10, real.index(b"-----END") - 8)]
    ct, body = pgp_mime(b"Version: 1", cut, protocol=rng.random() < 0.5)
    return mime(rng, w, to, ct, body), UNDECRYPTABLE


@variant(ARMOUR, "signed-broken")
def _signed_broken(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    real = rng.choice(w.blobs.list_encrypted)
    signature = rng.choice([b"not a signature", real, b"", w.blobs.public_key])
    ct = rng.choice([SIGNED + b"; micalg=pgp-sha256; boundary=s", b"multipart/signed; boundary=s"])
    body = (
        b"--s\nContent-Type: text/plain\n\nsigned?\n"
        b"--s\nContent-Type: application/pgp-signature\n\n" + signature + b"\n--s--\n"
    )
    return mime(rng, w, to, ct, body, sender=w.member), BAD_SIGNATURE


@variant(ARMOUR, "signed-nested")
def _signed_nested(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    """The signed part nested deep: just copied out, or too deep to copy out."""
    depth = rng.choice([40, 129])
    body = (
        b"--s\nContent-Type: multipart/mixed; boundary=b0\n\n"
        + nested(rng, depth)
        + b"\n--s\nContent-Type: application/pgp-signature\n\nnot a signature\n--s--\n"
    )
    expect = BAD_SIGNATURE if depth < 129 else UNREADABLE
    return mime(rng, w, to, SIGNED + b"; boundary=s", body, sender=w.member), expect


@variant(ARMOUR, "hostile-inside")
def _hostile_inside(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    inside = rng.choice(w.blobs.hostile_inside)
    if rng.random() < 0.5:
        ct, body = pgp_mime(b"Version: 1", inside)
        return mime(rng, w, to, ct, body), ANY
    return head(rng, w, to) + b"\n" + inside, ANY


@variant(ARMOUR, "many-begin-lines")
def _many_begins(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    line = rng.choice([BEGIN, b"-----BEGIN PGP SIGNED MESSAGE-----\n"])
    return head(rng, w, to) + b"\n" + line * rng.choice([5_000, 20_000]), ANY


# -- huge headers ----------------------------------------------------------------------------

BODY = b"\nA body.\n"


@variant(HUGE, "subject-200k")
def _subject_200k(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return head(rng, w, to, subject=TAG + " " + "S" * 200_000) + BODY, ANY


@variant(HUGE, "subject-200k-folded")
def _subject_folded(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    words = " ".join(rng.choice(WORDS) for _ in range(33_000))
    folded = re.sub(r"(.{1,70})(?: |$)", "\\1\n ", words).rstrip()
    return head(rng, w, to, subject=TAG + " " + folded) + BODY, ANY


@variant(HUGE, "5000-headers")
def _many_headers(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    extra = tuple(f"X-Junk-{n}: {rng.choice(WORDS)}" for n in range(5000))
    return head(rng, w, to, extra=extra) + BODY, ANY


@variant(HUGE, "5000-received")
def _many_received(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    line = "Received: from {}.example by mx.example; Wed, 25 Nov 2026 08:00:00 +0000"
    extra = tuple(line.format(rng.choice(WORDS)) for _ in range(5000))
    return head(rng, w, to, extra=extra) + BODY, ANY


@variant(HUGE, "from-folded")
def _from_folded(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    name = "\n ".join(rng.choice(WORDS) for _ in range(3000))
    return head(rng, w, to, sender=f"{name} <folded@example.org>") + BODY, ANY


@variant(HUGE, "cc-5000")
def _cc_5000(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    cc = ",\n ".join(f"{rng.choice(WORDS)}@{rng.choice(WORDS)}.example" for _ in range(5000))
    return head(rng, w, to, extra=(f"Cc: {cc}",)) + BODY, ANY


@variant(HUGE, "x-loop-5000")
def _x_loop_5000(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    extra = tuple(f"X-Loop: {rng.choice(WORDS)}@lists.example" for _ in range(5000))
    return head(rng, w, to, extra=extra) + BODY, ANY


@variant(HUGE, "encoded-words")
def _encoded_words(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    words = (base64.b64encode(rng.choice(WORDS).encode()).decode() for _ in range(10_000))
    subject = " ".join(f"=?utf-8?b?{word}?=" for word in words)
    sender = "=?utf-8?q?a?= " * 5_000 + "<ew@example.org>"
    return head(rng, w, to, subject=subject, sender=sender) + BODY, ANY


@variant(HUGE, "20000-parameters")
def _parameters(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    ct = "text/plain; " + "; ".join(f"p{n}={rng.choice(WORDS)}" for n in range(20_000))
    return head(rng, w, to, extra=("MIME-Version: 1.0", f"Content-Type: {ct}")) + BODY, ANY


@variant(HUGE, "nested-comments")
def _nested_comments(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    bomb = "(" * 20_000
    return head(rng, w, to, sender=bomb + "a@b.example", subject=bomb) + BODY, ANY


@variant(HUGE, "no-colon")
def _no_colon(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    line = rng.choice([b"N" * 100_000, b"Name With Spaces " * 1000, b":" + b"v" * 1000])
    return head(rng, w, to, extra=(line,)) + BODY, ANY


@variant(HUGE, "message-id-200k")
def _message_id(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return head(rng, w, to, extra=("Message-ID: <" + "m" * 200_000 + "@x>",)) + BODY, ANY


# -- the wrong keys --------------------------------------------------------------------------


def _keys_subject(rng: random.Random) -> str:
    return f"{TAG} Wrong key {rng.randrange(10**6)}"  # tagged: the list takes it for reading


@variant(KEYS, "pgpmime-to-stranger")
def _pgpmime_to_stranger(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    ct, body = pgp_mime(b"Version: 1", rng.choice(w.blobs.to_strangers))
    return mime(rng, w, to, ct, body, subject=_keys_subject(rng)), UNDECRYPTABLE


@variant(KEYS, "password")
def _password(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    ct, body = pgp_mime(b"Version: 1", w.blobs.password)
    return mime(rng, w, to, ct, body, subject=_keys_subject(rng)), UNDECRYPTABLE


@variant(KEYS, "inline-to-stranger")
def _inline_to_stranger(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    armoured = rng.choice(w.blobs.to_strangers[:2])
    return head(rng, w, to, subject=_keys_subject(rng)) + b"\n" + armoured, UNDECRYPTABLE


@variant(KEYS, "signed-by-stranger")
def _signed_by_stranger(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    data = rng.choice(w.blobs.signed_by_stranger)
    subject = _keys_subject(rng)
    if rng.random() < 0.5:
        ct, body = pgp_mime(b"Version: 1", data)
        return mime(rng, w, to, ct, body, subject=subject, sender=w.member), BAD_SIGNATURE
    return head(rng, w, to, subject=subject, sender=w.member) + b"\n" + data, BAD_SIGNATURE


@variant(KEYS, "pgpmime-6.1-by-stranger")
def _pgpmime_61(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    headers = head(rng, w, to, subject=_keys_subject(rng), sender=w.member)
    return headers + w.blobs.pgpmime_signed_by_stranger, BAD_SIGNATURE


@variant(KEYS, "multipart-signed-by-stranger")
def _multipart_signed(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    headers = head(rng, w, to, subject=_keys_subject(rng), sender=w.member)
    return headers + w.blobs.multipart_signed_by_stranger, BAD_SIGNATURE


@variant(KEYS, "clearsigned-by-stranger")
def _clearsigned(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    headers = head(rng, w, to, subject=_keys_subject(rng), sender=w.member)
    return headers + b"\n" + w.blobs.clearsigned_by_stranger, BAD_SIGNATURE


# -- non-UTF-8 -------------------------------------------------------------------------------


@variant(CHARSETS, "latin1-headers")
def _latin1_headers(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    sender = b"J\xf6rg M\xfcller <j\xf6rg@example.org>"
    return head(rng, w, to, sender=sender, subject=b"Caf\xe9 cr\xe8me") + b"\nHallo\n", ANY


@variant(CHARSETS, "ff-bytes")
def _ff_bytes(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    extra = (b"X-\xff\xfe: \xff\xff", b"Subject: \xff\xfe\xfd")
    return head(rng, w, to, extra=extra) + b"\n\xff\xfe\xfd\xfc\n", ANY


@variant(CHARSETS, "latin1-body-as-utf8")
def _latin1_body(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    body = b"Gr\xfc\xdfe, na\xefve \xc3\x28 \xed\xa0\x80\n"
    return mime(rng, w, to, "text/plain; charset=utf-8", body), ANY


@variant(CHARSETS, "unknown-charset")
def _unknown_charset(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    charset = rng.choice(
        [
            b"x-klingon",
            b"idna",
            b"utf-7",
            b"unicode_escape",
            b"raw_unicode_escape",
            b"punycode",
            b"undefined",
            b"rot13",
            b"zlib",
            b"utf-8\xff",
            b"",
            b'""',
        ]
    )
    kind = rng.choice([b"text/plain", b"text/html"])
    body = b"+2AA- \\] \\N{ \xff\xfe text\n"
    return mime(rng, w, to, kind + b"; charset=" + charset, body), ANY


@variant(CHARSETS, "bad-encoded-words")
def _bad_encoded_words(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    subject = rng.choice(
        [
            b"=?x-unknown?q?abc?=",
            b"=?utf-8?b?!!!invalid?=",
            b"=?utf-7?q?+2AA-?=",
            b"=?utf-8?q?=ff=fe?=",
            b"=?idna?q?xn--?=",
            b"=?utf-8*fr?q?x?=",
        ]
    )
    sender = b"=?utf-7?q?+2AA-?= <ew@example.org>"
    return head(rng, w, to, subject=subject, sender=sender) + b"\nx\n", ANY


@variant(CHARSETS, "bad-2231-filename")
def _bad_filename(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    disposition = rng.choice(
        [
            b"attachment; filename*=x-unknown''%ff",
            b"attachment; filename*=utf-8''%ff%fe%00",
            b"attachment; filename=\xff\xfe.bin",
        ]
    )
    extra = (b"Content-Disposition: " + disposition,)
    return mime(rng, w, to, "application/octet-stream", b"data\n", extra=extra), ANY


@variant(CHARSETS, "utf16-odd")
def _utf16_odd(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return mime(rng, w, to, "text/plain; charset=utf-16", b"\xff\xfeh\x00i\x00\x00"), ANY


@variant(CHARSETS, "html-only")
def _html_only(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    body = b"<p>\x93quoted\x94 \x81\x8d</p>"
    return mime(rng, w, to, "text/html; charset=windows-1252", body), ANY


@variant(CHARSETS, "8bit-as-7bit")
def _eight_bit(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    extra = ("Content-Transfer-Encoding: 7bit",)
    body = rng.randbytes(400)
    return mime(rng, w, to, "text/plain; charset=us-ascii", body, extra=extra), ANY


# -- NUL bytes -------------------------------------------------------------------------------


@variant(NUL, "nul-headers")
def _nul_headers(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    sender = b"Nul\x00Name <nul\x00@example.org>"
    extra = (b"X-Loop: \x00", b"Message-ID: <\x00@x>")
    return head(rng, w, to, sender=sender, subject=b"[vs] a\x00b", extra=extra) + BODY, ANY


@variant(NUL, "nul-body")
def _nul_body(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    sender = rng.choice([w.member, w.outsider, "nul@example.org"])
    return head(rng, w, to, sender=sender) + b"\nbefore\x00after\x00\x00\n", ANY


@variant(NUL, "nul-header-name")
def _nul_header_name(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return head(rng, w, to, extra=(b"Sub\x00ject: x", b"\x00: y")) + BODY, ANY


@variant(NUL, "all-nul")
def _all_nul(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return b"\x00" * rng.randrange(1, 3000), ANY


@variant(NUL, "nul-mime")
def _nul_mime(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    body = (
        b'--b\x00\nContent-Type: text/plain; charset="utf\x00-8"\n'
        b"Content-Transfer-Encoding: base64\n\nAA\x00AA\n"
        b"--b\x00\nContent-Type: application/x\n"
        b'Content-Disposition: attachment; filename="a\x00b"\n\n\x00\n--b\x00--\n'
    )
    return mime(rng, w, to, b'multipart/mixed; boundary="b\x00"', body), ANY


@variant(NUL, "nul-armour")
def _nul_armour(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    real = bytearray(rng.choice(w.blobs.list_encrypted))
    real[rng.randrange(40, len(real) - 30)] = 0
    return head(rng, w, to) + b"\n" + bytes(real), ANY


@variant(NUL, "nul-separator")
def _nul_separator(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return head(rng, w, to) + b"\x00\nbody\n", ANY


# -- empty, and without headers --------------------------------------------------------------


@variant(EMPTY, "empty")
def _empty(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    whole = [b"", b"\n", b"\r\n", b"\r\n\r\n", b" ", b"\t\n", b"\n" * 50, b".", b"..\r\n", b"\r"]
    only_headers = [b"Subject:", b"Subject:\n\n", b"From: x", head(rng, w, to)]
    raw = rng.choice([*whole, *only_headers, head(rng, w, to) + b"\n"])
    return raw, ANY


@variant(HEADLESS, "text")
def _text(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return b"Hello, this has no headers at all.\nSecond line: not a header\n", ANY


@variant(HEADLESS, "indented")
def _indented(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return b"   starts with white space\n\tand a tab\n", ANY


@variant(HEADLESS, "mbox-from-line")
def _mbox(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return b"From mallory@evil.example Wed Nov 25 08:00:00 2026\nnot a header\n\nbody\n", ANY


@variant(HEADLESS, "binary")
def _binary(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return rng.randbytes(rng.randrange(1, 5000)), ANY


@variant(HEADLESS, "armour-only")
def _armour_only(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return rng.choice(w.blobs.list_encrypted), ANY


@variant(HEADLESS, "mime-body")
def _mime_body(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return PART + b"--b--\n", ANY


@variant(HEADLESS, "colon-first")
def _colon_first(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return b": no name\n:\n\nbody\n", ANY


@variant(HEADLESS, "html")
def _html(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    return b"<html><body><p>no headers</p></body></html>\n", ANY


# -- loops and automatic replies -------------------------------------------------------------

LOOP, AUTO = frozenset({"loop"}), frozenset({"auto-reply"})


@variant(LOOPS, "own-from")
def _own_from(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    sender = rng.choice([OWN, OWN.upper(), f"Lockstep <{OWN}>", f'"Someone" <{OWN.upper()}>'])
    return head(rng, w, to, sender=sender) + b"\nEcho\n", LOOP


@variant(LOOPS, "own-x-loop")
def _own_x_loop(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    marks = [f"X-Loop: {n}@lists.example" for n in range(rng.randrange(0, 30))]
    marks.insert(rng.randrange(len(marks) + 1), f"X-Loop:   {rng.choice([OWN, OWN.upper()])}  ")
    return head(rng, w, to, extra=tuple(marks)) + b"\nEcho\n", LOOP


@variant(LOOPS, "auto-submitted")
def _auto_submitted(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    value = rng.choice(["auto-replied", "auto-generated", "AUTO-NOTIFIED", "auto-replied; x=y"])
    return head(rng, w, to, extra=(f"Auto-Submitted: {value}",)) + b"\nAway\n", AUTO


@variant(LOOPS, "precedence")
def _precedence(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    value = rng.choice(["bulk", "junk", "list", "auto_reply", "BULK"])
    return head(rng, w, to, extra=(f"Precedence: {value}",)) + b"\nAway\n", AUTO


@variant(LOOPS, "x-autoreply")
def _x_autoreply(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    name = rng.choice(["X-Autoreply", "X-Autorespond", "x-autoreply"])
    extra = (f"{name}: yes",)
    return head(rng, w, to, extra=extra, subject="Out of office") + b"\nAway\n", AUTO


@variant(LOOPS, "delivery-report")
def _dsn(rng: random.Random, w: World, to: str) -> tuple[bytes, frozenset[str]]:
    body = (
        b"--r\nContent-Type: text/plain\n\nDelivery failed\n"
        b"--r\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; x@y\nStatus: 5.1.1\n--r--\n"
    )
    ct = "multipart/report; report-type=delivery-status; boundary=r"
    extra = ("Auto-Submitted: auto-replied",)
    return mime(rng, w, to, ct, body, sender="MAILER-DAEMON@mx.example", extra=extra), AUTO


# -- the OpenPGP material --------------------------------------------------------------------

_HOSTILE_INSIDE = (
    SIGNED + b"; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\ninner\r\n--x\r\n"
    b"Content-Type: application/pgp-signature\r\n\r\nnot a signature\r\n--x--\r\n",
    SIGNED + b"\r\n\r\nno parts\r\n",
    b"Content-Type: text/plain; charset=idna\r\n\r\nNUL \x00 and \xff bytes\r\n",
    b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    + b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (n, n + 1)
        for n in range(400)
    ),
    b"Subject: =?utf-7?q?+2AA-?=\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+2AA- \x00\r\n",
    b"\x00" * 64,
)


def make_blobs(list_public: str) -> Blobs:
    pgp = SequoiaOpenPGP()
    strangers = [pgp.generate_key(f"Stranger {n} <stranger{n}@elsewhere.example>") for n in (1, 2)]
    (stranger_public, stranger_secret), (other_public, _) = strangers
    list_cert = pysequoia.Cert.from_bytes(list_public.encode())
    signer = pysequoia.Tsk.from_bytes(stranger_secret.encode()).signer()
    inner = EmailMessage()
    inner.set_content("Signed by someone whose key is not on file.\n")
    unknown_tag = bytes([0xC0 | 50, 3]) + b"abc"  # a new-format packet: tag 50, three bytes
    return Blobs(
        list_encrypted=tuple(
            pgp.encrypt(b"Harmless text %d\n" % n * 20, recipients=[list_public]).encode()
            for n in range(4)
        ),
        hostile_inside=tuple(
            pgp.encrypt(inside, recipients=[list_public]).encode() for inside in _HOSTILE_INSIDE
        ),
        to_strangers=(
            pgp.encrypt(b"For the first stranger.\n", recipients=[stranger_public]).encode(),
            pgp.encrypt(b"For both.\n", recipients=[stranger_public, other_public]).encode(),
            pysequoia.encrypt(
                b"Binary, to a stranger.\n",
                [pysequoia.Cert.from_bytes(other_public.encode())],
                armor=False,
            ),
        ),
        password=pysequoia.encrypt(b"Only for the password.\n", passwords=["hunter2"]),
        signed_by_stranger=tuple(
            pysequoia.encrypt(text, [list_cert], signer=signer)
            for text in (
                b"Plain text, signed by a stranger.\n",
                b"Content-Type: text/plain\r\n\r\nAn entity, signed by a stranger.\r\n",
            )
        ),
        pgpmime_signed_by_stranger=b"MIME-Version: 1.0\r\n"
        + encrypted_entity(
            canonical_entity(inner),
            recipient_keys=[list_public],
            signing_key=stranger_secret,
            openpgp=pgp,
        ),
        multipart_signed_by_stranger=build_signed(inner, signing_key=stranger_secret).as_bytes(
            policy=SMTP
        ),
        clearsigned_by_stranger=pysequoia.sign(
            signer, b"Clear-signed by a stranger.\n", mode=pysequoia.SignatureMode.CLEAR
        ),
        public_key=stranger_public.encode(),
        unknown_packet=BEGIN + b"\n" + base64.encodebytes(unknown_tag) + END,
    )
