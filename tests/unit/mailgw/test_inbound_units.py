"""The inbound mail modules one by one, without SMTP or a database: the rules, our addresses,
reading a letter, opening OpenPGP with the list key, and the shapes of encrypted mail.

Keys are made by pysequoia (`tests.factories.keys`), except the sender of the compressed
`gpg -se` message, who is a real GnuPG user.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import SMTP
from typing import Any

import pysequoia
import pytest
from typing_extensions import override

from lockstep.mailgw import addresses
from lockstep.mailgw.addresses import (
    Address,
    AddressKind,
    bounce_address,
    case_address,
    channel_address,
    parse_address,
    report_address,
)
from lockstep.mailgw.crypto.base import DecryptionFailed
from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.crypto.reading import SignatureState, is_encrypted, open_message
from lockstep.mailgw.inbound import letter, opening
from lockstep.mailgw.inbound.letter import (
    Unreadable,
    clean_text,
    decode_text,
    has_cut_headers,
    inline_pgp,
    parse,
    payload_bytes,
    read_body,
    read_headers,
)
from lockstep.mailgw.inbound.opening import Undecryptable, open_mail
from lockstep.mailgw.inbound.rules import (
    ACCEPT,
    CONTENT_RULES,
    ENVELOPE_RULES,
    Action,
    Facts,
    auto_reply,
    bad_signature,
    decide,
    loop,
    missing_tag,
    too_large,
    undecryptable,
    unknown_sender,
)
from lockstep.mailgw.outbound.pgpmime import build_encrypted, build_signed
from tests.factories.gpg import GnuPG
from tests.factories.keys import KeyPair, key_pair

OWN = frozenset({"lockstep@lockstep.invalid"})
MIB = 1024 * 1024


# -- rules -----------------------------------------------------------------------------------


def _facts(**kw: Any) -> Facts:
    return Facts(**{"destination": "case", "own_addresses": OWN, **kw})


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        (_facts(from_address="lockstep@lockstep.invalid"), "loop"),
        (_facts(x_loop=("other@lists.example", "  LOCKSTEP@lockstep.invalid ")), "loop"),
        (_facts(size=31 * MIB, max_size=30 * MIB), "too-large"),
        (_facts(auto_submitted="auto-replied"), "auto-reply"),
        (_facts(precedence="bulk"), "auto-reply"),
        (_facts(autoreply=True), "auto-reply"),
        (_facts(destination="channel", required_tag="[vs]", subject="no tag here"), "missing-tag"),
    ],
)
def test_each_envelope_rule_decides(facts: Facts, rule: str) -> None:
    verdict = decide(ENVELOPE_RULES, facts)
    assert verdict.rule == rule
    assert verdict.reason
    assert verdict.action != Action.ACCEPT


@pytest.mark.parametrize(
    "facts",
    [
        _facts(from_address="someone@example.org", x_loop=("other@lists.example",)),
        _facts(size=30 * MIB, max_size=30 * MIB),  # at the limit is not above it
        _facts(size=10**12, max_size=0),  # no limit configured
        _facts(auto_submitted="no", precedence="first-class"),
        _facts(destination="bounce", auto_submitted="auto-replied", precedence="junk"),
        _facts(destination="channel", required_tag="[vs]", subject="Re: [VS] tagged"),
        _facts(destination="channel", required_tag="", subject="untagged is fine"),
    ],
)
def test_no_envelope_rule_objects(facts: Facts) -> None:
    assert decide(ENVELOPE_RULES, facts) is ACCEPT


def test_envelope_refusals_carry_their_smtp_replies() -> None:
    large = too_large(_facts(size=31 * MIB, max_size=30 * MIB))
    assert large is not None
    assert (large.action, large.smtp) == (
        Action.REJECT,
        "552 5.3.4 The message is larger than the limit of 30 MiB.",
    )
    tag = missing_tag(_facts(required_tag="[vs]", subject="x"))
    assert tag is not None
    assert tag.smtp == "550 5.7.1 Missing the [vs] tag"
    for verdict in (
        loop(_facts(from_address="lockstep@lockstep.invalid")),
        auto_reply(_facts(autoreply=True)),
    ):
        assert verdict is not None
        assert verdict.action == Action.DISCARD
        assert verdict.smtp.startswith("250")


@pytest.mark.parametrize(
    ("limit", "said"),
    [(30 * MIB, "30 MiB"), (3 * MIB // 2, "1.5 MiB"), (500 * 1024, "500 KiB"), (100, "100 bytes")],
)
def test_the_size_limit_is_said_in_units_people_read(limit: int, said: str) -> None:
    verdict = too_large(_facts(size=limit + 1, max_size=limit))
    assert verdict is not None
    assert verdict.reason == f"The message is larger than the limit of {said}."


@pytest.mark.parametrize(
    ("facts", "rule", "action"),
    [
        (_facts(undecryptable="Not for the list key."), "undecryptable", Action.HOLD),
        (_facts(signature="bad", sender_is_member=True), "bad-signature", Action.HOLD),
        (_facts(destination="case", from_address="eve@example.org"), "unknown-sender", Action.HOLD),
        (_facts(destination="channel"), "unknown-sender", Action.HOLD),
    ],
)
def test_each_content_rule_decides(facts: Facts, rule: str, action: Action) -> None:
    verdict = decide(CONTENT_RULES, facts)
    assert (verdict.rule, verdict.action) == (rule, action)
    assert verdict.reason


@pytest.mark.parametrize(
    "facts",
    [
        _facts(sender_is_member=True, signature="valid"),
        _facts(sender_is_member=True, signature="unchecked", unsigned_allowed=True),
        _facts(sender_is_member=True, signature="none", unsigned_allowed=True),
        _facts(destination="report", signature="none"),  # anyone may report
        _facts(destination="bounce"),
    ],
)
def test_no_content_rule_objects(facts: Facts) -> None:
    assert decide(CONTENT_RULES, facts) is ACCEPT


def test_the_content_rules_say_why() -> None:
    held = unknown_sender(_facts(from_address="eve@example.org"))
    assert held is not None
    assert held.reason.startswith("eve@example.org is not a participant")
    anonymous = unknown_sender(_facts())
    assert anonymous is not None
    assert anonymous.reason.startswith("The sender is not a participant")
    why = undecryptable(_facts(undecryptable="Damaged."))
    assert why is not None
    assert why.reason == "Damaged."
    assert undecryptable(_facts()) is None
    assert bad_signature(_facts(signature="valid")) is None


def test_the_first_rule_with_an_opinion_wins() -> None:
    facts = _facts(from_address="lockstep@lockstep.invalid", size=2, max_size=1, autoreply=True)
    assert decide(ENVELOPE_RULES, facts).rule == "loop"
    assert decide((too_large, loop), facts).rule == "too-large"
    assert decide((), facts) is ACCEPT
    both = _facts(undecryptable="x", signature="bad")
    assert decide(CONTENT_RULES, both).rule == "undecryptable"


# -- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (report_address("libquokka"), Address(AddressKind.REPORT, "libquokka")),
        (case_address(42), Address(AddressKind.CASE, "42")),
        (bounce_address(7), Address(AddressKind.BOUNCE, "7")),
        (channel_address("distros"), Address(AddressKind.CHANNEL, "distros")),
    ],
)
def test_every_kind_of_address_round_trips_in_any_case(address: str, expected: Address) -> None:
    assert parse_address(address) == expected
    assert parse_address(address.upper()) == expected
    assert parse_address(f"  <{address.upper()}> ") == expected


@pytest.mark.parametrize(
    "address",
    [
        "security-libquokka@elsewhere.example",
        "security-libquokka@sub.lockstep.invalid",
        "distros@lockstep.invalid.example",
        "@lockstep.invalid",
        "no-at-sign",
        "",
        "under_score@lockstep.invalid",  # no kind of ours has that shape
        "security-" + "a" * 65 + "@lockstep.invalid",  # longer than a slug may be
    ],
)
def test_other_domains_and_shapes_are_not_ours(address: str) -> None:
    assert parse_address(address) is None


def test_forged_or_wrong_tags_name_nothing() -> None:
    real = case_address(42)
    tag = real.split("@")[0].rsplit("-", 1)[1]
    assert len(tag) == 12
    other = case_address(43).split("@")[0].rsplit("-", 1)[1]
    bounce_tag = bounce_address(42).split("@")[0].rsplit("-", 1)[1]
    for forged in (
        f"case-42-{other}@lockstep.invalid",  # another case's tag
        f"case-42-{bounce_tag}@lockstep.invalid",  # the tag binds the kind too
        f"case-42-{tag[:-1]}@lockstep.invalid",  # cut short
        f"case-42-{tag}0@lockstep.invalid",  # too long
        f"case-42-{'0' * 12}@lockstep.invalid",
        f"bounce-42-{tag}@lockstep.invalid",
        real.replace("case-42", "case-042"),
    ):
        assert parse_address(forged) is None, forged
    # Not hex at all: not a case address, only a channel-shaped name (no such channel exists).
    assert parse_address("case-42-zzzz@lockstep.invalid") == Address(
        AddressKind.CHANNEL, "case-42-zzzz"
    )


def test_tags_are_keyed_by_the_instance_secret(settings: Any) -> None:
    before = case_address(42)
    settings.SECRET_KEY = "another instance's secret key, long enough to be one"
    assert parse_address(before) is None
    assert parse_address(case_address(42)) == Address(AddressKind.CASE, "42")


def test_the_domain_comes_from_settings_in_lower_case(settings: Any) -> None:
    settings.LOCKSTEP_MAIL_DOMAIN = "Mail.Example.ORG"
    assert report_address("x") == "security-x@mail.example.org"
    assert parse_address("SECURITY-X@MAIL.EXAMPLE.ORG") == Address(AddressKind.REPORT, "x")
    assert addresses.parse_address("security-x@lockstep.invalid") is None


# -- letter: parsing and headers -------------------------------------------------------------


def _headers_of(raw: bytes) -> letter.Headers:
    return read_headers(parse(raw))


@pytest.mark.parametrize(
    ("from_header", "address", "name"),
    [
        (b"Rae Searcher <RAE@Research.Example>", "rae@research.example", "Rae Searcher"),
        (b'"Doe, Jane" <jane@example.org>', "jane@example.org", "Doe, Jane"),
        (b"jane@example.org (Jane Doe)", "jane@example.org", ""),
        (b"=?utf-8?q?J=C3=B6rg?= <jorg@example.org>", "jorg@example.org", "J\xf6rg"),
        (b"first@example.org, second@example.org", "first@example.org", ""),
        (b"undisclosed-recipients:;", "", ""),
        (b"not an address", "", ""),
        (b"<>", "", ""),
        (b"a" * 250 + b"@example.org", "", ""),  # longer than an address may be
        (b"J\xf6rg <j@example.org>", "j@example.org", "J\ufffdrg"),  # latin-1, not UTF-8
        (b"Nul\x00Name <nul@example.org>", "nul@example.org", "Nul\ufffdName"),
    ],
)
def test_odd_from_headers(from_header: bytes, address: str, name: str) -> None:
    headers = _headers_of(b"From: " + from_header + b"\nSubject: s\n\nbody\n")
    assert (headers.from_address, headers.from_name) == (address, name)


def test_what_the_rules_read_from_headers() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: " + b"long " * 200 + b"\r\nMessage-ID: <id@x>\r\n"
        b"Auto-Submitted: Auto-Replied\r\nPrecedence: BULK\r\nX-Loop: one@lists.example\r\n"
        b"X-Loop:  folded\r\n  two@lists.example \r\nX-Autorespond: yes\r\n\r\nbody\r\n"
    )
    headers = _headers_of(raw)
    assert len(headers.subject) == 300
    assert headers.message_id == "<id@x>"
    assert (headers.auto_submitted, headers.precedence) == ("auto-replied", "bulk")
    assert headers.x_loop == ("one@lists.example", "folded two@lists.example")
    assert headers.autoreply
    assert not _headers_of(b"From: a@example.org\n\nx").autoreply
    assert _headers_of(b"X-Autoreply: yes\n\nx").autoreply
    assert _headers_of(b"").from_address == ""


def test_headers_are_cut_before_they_are_parsed() -> None:
    started = time.monotonic()
    message = parse(
        b"From: " + b"=?utf-8?q?a?= " * 20_000 + b"<x@example.org>\n"
        b"Subject: " + b"xy " * 70_000 + b"\n"
        b"Content-Type: text/plain; " + b"a=b; " * 40_000 + b"\n\nbody\n"
    )
    headers = read_headers(message)
    assert time.monotonic() - started < 5  # minutes, uncut, on the standard library's parser
    assert all(len(value) <= letter._HEADER_SOURCE_MAX for _, value in message.raw_items())
    assert headers.from_address == ""  # the address was beyond the cut
    assert has_cut_headers(message)
    assert not has_cut_headers(parse(b"Subject: short\n\nbody\n"))


def test_a_header_the_parser_fails_on_reads_as_empty() -> None:
    bomb = b"(" * 5000
    message = parse(b"Content-Type: text/html; x=" + bomb + b"\nFrom: " + bomb + b"\n\nhi\n")
    assert message.get_content_type() == "text/plain"  # the default for no Content-Type
    assert read_body(message).text == "hi\n"
    assert read_headers(message).from_address == ""


def test_parsed_headers_are_written_back_as_they_came() -> None:
    raw = b"Subject: " + b"w" * 120 + b"\nX-Odd: spaced, as sent  \n\nbody\n"
    assert bytes(parse(raw)) == raw


def _nested(depth: int) -> bytes:
    head = b"Content-Type: multipart/mixed; boundary=b0\n\n"
    levels = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (n, n + 1) for n in range(depth)
    )
    return head + levels + b"--b%d\nContent-Type: text/plain\n\ndeep\n" % depth


def test_deep_nesting_and_too_many_parts_are_unreadable() -> None:
    assert read_body(parse(_nested(letter._MAX_DEPTH - 1))).text == "deep"
    bytes(parse(_nested(letter._MAX_DEPTH - 1)))  # deep, but not too deep to write out
    with pytest.raises(Unreadable, match="nested more than 128 levels"):
        parse(_nested(letter._MAX_DEPTH))
    many = b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\n\nx\n" * 1001 + b"--b--\n"
    with pytest.raises(Unreadable, match="more than 1000 MIME parts"):
        parse(many)
    enough = b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\n\nx\n" * 999 + b"--b--\n"
    assert len(list(parse(enough).iter_parts())) == 999


def test_a_parser_failure_is_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object, **_kw: object) -> None:
        raise IndexError

    monkeypatch.setattr(BytesParser, "parsebytes", boom)
    with pytest.raises(Unreadable, match="cannot be parsed: IndexError"):
        parse(b"Subject: x\n\nbody")


def test_headers_survive_a_message_that_fails_to_give_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken(Message):
        @override
        def get(self, *_args: object, **_kw: object) -> Any:
            raise ValueError

    assert read_headers(Broken()) == letter.Headers()

    def refuse(_values: object) -> list[tuple[str, str]]:
        raise TypeError

    monkeypatch.setattr(letter, "getaddresses", refuse)
    assert _headers_of(b"From: a@example.org\n\nx").from_address == ""


# -- letter: bodies --------------------------------------------------------------------------


def _mixed(*parts: bytes, top: bytes = b"multipart/mixed") -> bytes:
    body = b"".join(b"--b\n" + part + b"\n" for part in parts)
    return b"Subject: Inside\nContent-Type: " + top + b"; boundary=b\n\n" + body + b"--b--\n"


def test_the_first_plain_text_is_the_text_and_the_rest_are_attachments() -> None:
    raw = _mixed(
        b"Content-Type: text/plain; charset=utf-8\n\nThe text.",
        b"Content-Type: text/plain\nContent-Disposition: attachment; filename=notes.txt\n\nnotes",
        b"Content-Type: text/plain\n\nsecond text, attached",
        b"Content-Type: application/pgp-signature\n\nsignature, not kept",
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC",
        b"Content-Type: image/png\n\n",  # empty: not kept
    )
    body = read_body(parse(raw))
    assert body.text == "The text."
    assert body.subject == "Inside"
    assert [(a.filename, a.content_type, a.content) for a in body.attachments] == [
        ("notes.txt", "text/plain", b"notes"),
        ("part-3", "text/plain", b"second text, attached"),
        ("part-5", "application/octet-stream", b"\x00\x01\x02"),
    ]


def test_html_only_mail_gives_its_html_as_the_text() -> None:
    alternative = _mixed(b"Content-Type: text/html\n\n<p>Hello</p>", top=b"multipart/alternative")
    body = read_body(parse(alternative))
    assert body.text == "<p>Hello</p>"
    assert [a.content_type for a in body.attachments] == ["text/html"]
    assert read_body(parse(_mixed(b"Content-Type: image/png\n\nPNG"))).text == ""


@pytest.mark.parametrize(
    ("charset", "data", "text"),
    [
        ("utf-8", b"caf\xc3\xa9", "caf\xe9"),
        ("latin-1", b"caf\xe9", "caf\xe9"),
        ("utf-8", b"caf\xe9", "caf\ufffd"),  # latin-1 bytes said to be UTF-8
        ("x-klingon", b"ok", "ok"),
        ("idna", b"ok\xff", "ok\ufffd"),
        ("undefined", b"ok", "ok"),
        ("punycode", b"ok\xff", "ok\ufffd"),
        ("unicode_escape", b"\\]", "\\]"),
        ("rot13", b"ok", "ok"),
        ("utf\x00-8", b"ok", "ok"),
        ("utf-7", b"+2AA-", "\ufffd"),  # a lone surrogate
        ("utf-8", b"a\x00b", "a\ufffdb"),
    ],
)
def test_any_charset_decodes_to_storable_text(charset: str, data: bytes, text: str) -> None:
    assert decode_text(data, charset) == text


@pytest.mark.parametrize(
    "content_type",
    [b"text/plain; charset=idna", b"text/plain; charset=undefined", b'text/plain; charset="u\x00"'],
)
def test_bodies_in_charsets_python_cannot_replace_in(content_type: bytes) -> None:
    body = read_body(parse(b"Content-Type: " + content_type + b"\n\nhello \xff\n"))
    assert body.text == "hello \ufffd\n"


def test_clean_text_replaces_what_no_column_takes() -> None:
    assert clean_text("a\x00b\ud800c\udcffd") == "a\ufffdb\ufffdc\ufffdd"
    assert clean_text("Grüße 🙂") == "Grüße 🙂"


def test_attachment_names_and_types_are_kept_storable(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _mixed(
        b"Content-Type: " + b"a" * 80 + b"/" + b"b" * 80 + b"\n\nodd type",
        b"Content-Type: application/x\nContent-Disposition: attachment; filename*=idna''%ff\n\nx",
        b'Content-Type: application/x\nContent-Disposition: attachment; filename="a\x00b"\n\ny',
    )
    attachments = read_body(parse(raw)).attachments
    assert [(a.filename, a.content_type) for a in attachments] == [
        ("part-1", "application/octet-stream"),
        ("part-2", "application/x"),  # the name cannot be decoded at all
        ("a\ufffdb", "application/x"),
    ]


def test_a_name_that_cannot_be_read_is_numbered(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kw: object) -> str:
        raise LookupError

    monkeypatch.setattr(EmailMessage, "get_filename", refuse)
    raw = _mixed(b"Content-Type: application/x\nContent-Disposition: attachment; filename=a\n\nx")
    assert [a.filename for a in read_body(parse(raw)).attachments] == ["part-1"]


def test_payloads_that_cannot_be_decoded_are_empty() -> None:
    class Broken(Message):
        @override
        def get_payload(self, *_args: object, **_kw: object) -> Any:
            raise ValueError

    assert payload_bytes(Broken()) == b""
    multipart = parse(_mixed(b"Content-Type: text/plain\n\nx"))
    assert payload_bytes(multipart) == b""  # a multipart has no payload of its own


def test_only_the_first_leaves_are_read() -> None:
    parts = [b"Content-Type: application/x\n\n%d" % n for n in range(300)]
    assert len(read_body(parse(_mixed(*parts))).attachments) == letter._MAX_PARTS


# -- letter: inline OpenPGP ------------------------------------------------------------------

BLOCK = b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----"
SIGNED = (
    b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nText\n-----BEGIN PGP SIGNATURE-----\n"
    b"\nwsBc\n-----END PGP SIGNATURE-----"
)


def test_inline_pgp_finds_the_first_block_of_each_kind() -> None:
    assert inline_pgp(b"Hello\n" + BLOCK + b"\nBye\n") == ("message", BLOCK)
    assert inline_pgp(b"Hi\n" + SIGNED + b"\n") == ("signed", SIGNED)
    assert inline_pgp(SIGNED + b"\n" + BLOCK) == ("message", BLOCK)  # a message first
    two = BLOCK + b"\n" + BLOCK.replace(b"hQEMA", b"other")
    assert inline_pgp(two) == ("message", BLOCK)
    assert inline_pgp(b"-----BEGIN PGP MESSAGE-----\nno end line") is None
    assert inline_pgp(b"-----BEGIN PGP MESSAGE-----no newline-----END PGP MESSAGE-----") is None
    assert inline_pgp(b"plain text") is None
    late_begin = b"-----BEGIN PGP MESSAGE-----x\n" + BLOCK
    assert inline_pgp(late_begin) == ("message", BLOCK)


def test_inline_pgp_is_linear_in_a_text_of_begin_lines() -> None:
    text = (
        b"-----BEGIN PGP MESSAGE-----\n" * 50_000 + b"-----BEGIN PGP SIGNED MESSAGE-----\n" * 50_000
    )
    started = time.monotonic()
    assert inline_pgp(text) is None
    assert time.monotonic() - started < 1  # hours with a lazy regex across the text


# -- crypto/reading --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def list_key() -> KeyPair:
    return key_pair("Lockstep <lockstep@lockstep.invalid>")


@pytest.fixture(scope="module")
def sender() -> KeyPair:
    return key_pair("Sender <sender@example.org>")


@pytest.fixture(scope="module")
def stranger() -> KeyPair:
    return key_pair("Stranger <stranger@elsewhere.example>")


def _cert(key: KeyPair) -> pysequoia.Cert:
    return pysequoia.Cert.from_bytes(key.public.encode())


def _signer(key: KeyPair) -> pysequoia.PySigner:
    return pysequoia.Tsk.from_bytes(key.secret.encode()).signer()


def _fingerprint(key: KeyPair) -> str:
    return str(_cert(key).fingerprint).upper()


def test_signed_inside_the_encryption_and_verified(
    list_key: KeyPair, sender: KeyPair, stranger: KeyPair
) -> None:
    message = pysequoia.encrypt(b"secret", [_cert(list_key)], signer=_signer(sender))
    opened = open_message(message, secret_key=list_key.secret, sender_keys=[sender.public])
    assert (opened.content, opened.encrypted) == (b"secret", True)
    assert (opened.signature, opened.signer) == (SignatureState.VALID, _fingerprint(sender))
    damaged_key_too = ["not a key", sender.public]
    assert (
        open_message(message, secret_key=list_key.secret, sender_keys=damaged_key_too).signature
        == "valid"
    )
    bad = open_message(message, secret_key=list_key.secret, sender_keys=[stranger.public])
    assert (bad.content, bad.signature) == (b"secret", SignatureState.BAD)
    assert bad.signer  # the issuer it names, not proven


def test_encrypted_but_not_signed(list_key: KeyPair, sender: KeyPair) -> None:
    message = pysequoia.encrypt(b"secret", [_cert(list_key)])
    opened = open_message(message, secret_key=list_key.secret, sender_keys=[sender.public])
    assert (opened.content, opened.signature, opened.signer) == (b"secret", "none", "")


@pytest.fixture(scope="module")
def gnupg_sender(
    tmp_path_factory: pytest.TempPathFactory, list_key: KeyPair
) -> Iterator[tuple[GnuPG, str]]:
    """A real GnuPG user who has the list's public key; their agent is stopped afterwards."""
    gpg = GnuPG(tmp_path_factory.mktemp("gnupg") / "home")
    public = gpg.generate("Gee Pee <gee@example.org>")
    gpg.import_key(list_key.public)
    yield gpg, public
    subprocess.run(
        ["gpgconf", "--kill", "gpg-agent"], env=gpg.env, check=False, capture_output=True
    )


@pytest.mark.parametrize("compress", [True, False])
def test_gnupg_sign_and_encrypt(
    gnupg_sender: tuple[GnuPG, str], list_key: KeyPair, compress: bool
) -> None:
    gpg, public = gnupg_sender
    message = gpg.sign_encrypt(
        b"from gpg", signer="gee@example.org", to="lockstep@lockstep.invalid", compress=compress
    )
    opened = open_message(message, secret_key=list_key.secret, sender_keys=[public])
    assert (opened.content, opened.encrypted, opened.signature) == (b"from gpg", True, "valid")
    assert opened.signer


def test_gnupg_compressed_and_unsigned_is_none(
    gnupg_sender: tuple[GnuPG, str], list_key: KeyPair
) -> None:
    gpg, public = gnupg_sender
    message = gpg.run(
        "--armor",
        "--trust-model",
        "always",
        "--encrypt",
        "-r",
        "lockstep@lockstep.invalid",
        stdin=b"unsigned",
    )
    opened = open_message(message, secret_key=list_key.secret, sender_keys=[public])
    assert (opened.content, opened.signature, opened.signer) == (b"unsigned", "none", "")


def test_the_wrong_key_cannot_decrypt(list_key: KeyPair, stranger: KeyPair) -> None:
    for message in (
        SequoiaOpenPGP().encrypt(b"x", recipients=[stranger.public]).encode(),
        pysequoia.encrypt(b"x", passwords=["hunter2"]),
    ):
        with pytest.raises(DecryptionFailed):
            open_message(message, secret_key=list_key.secret, sender_keys=[])


def test_a_secret_key_that_is_none_is_refused(list_key: KeyPair) -> None:
    message = pysequoia.encrypt(b"x", [_cert(list_key)])
    with pytest.raises(ValueError, match="no usable"):
        open_message(message, secret_key="not a key", sender_keys=[])


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"not OpenPGP at all",
        b"-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n",
        # Armour of a packet whose tag (50) pysequoia has no name for.
        b"-----BEGIN PGP MESSAGE-----\n\n8gNhYmM=\n-----END PGP MESSAGE-----\n",
    ],
)
def test_garbage_is_a_value_error(list_key: KeyPair, message: bytes) -> None:
    assert not is_encrypted(message)
    with pytest.raises(ValueError, match="Not a readable OpenPGP message"):
        open_message(message, secret_key=list_key.secret, sender_keys=[])


def test_signed_but_not_encrypted(list_key: KeyPair, sender: KeyPair, stranger: KeyPair) -> None:
    for mode in (pysequoia.SignatureMode.CLEAR, pysequoia.SignatureMode.INLINE):
        message = pysequoia.sign(_signer(sender), b"signed text\n", mode=mode)
        assert not is_encrypted(message)
        opened = open_message(message, secret_key=list_key.secret, sender_keys=[sender.public])
        assert (opened.encrypted, opened.signature) == (False, SignatureState.VALID)
        assert opened.content == b"signed text\n"
        assert opened.signer == _fingerprint(sender)
        other = open_message(message, secret_key=list_key.secret, sender_keys=[stranger.public])
        assert (other.content, other.signature) == (b"", SignatureState.BAD)


def test_a_second_decryption_that_fails_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # A key straight from pysequoia advertises SEIPD v2, which only pysequoia decrypts.
    key = pysequoia.Tsk.generate(
        "V2 <v2@example.org>",
        profile=pysequoia.Profile.RFC4880,
        cipher_suite=pysequoia.CipherSuite.Cv25519,
    )
    message = pysequoia.encrypt(b"x", [key.extract_certificate()])
    failures = iter(["no valid signatures", "damaged"])

    def decrypt(*_args: object, **_kw: object) -> None:
        raise RuntimeError(next(failures))

    monkeypatch.setattr(pysequoia, "decrypt", decrypt)
    with pytest.raises(DecryptionFailed):
        open_message(message, secret_key=str(key), sender_keys=[])


# -- opening ---------------------------------------------------------------------------------


def _inner(text: str = "The inner text.\n") -> EmailMessage:
    inner = EmailMessage()
    inner.set_content(text)
    return inner


def _wire(message: EmailMessage, **headers: str) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode() + message.as_bytes(policy=SMTP)


def _open(raw: bytes, list_key: KeyPair, keys: list[str]) -> opening.Content:
    return open_mail(raw, parse(raw), secret_key=list_key.secret, sender_keys=keys)


def test_multipart_signed_not_encrypted(
    list_key: KeyPair, sender: KeyPair, stranger: KeyPair
) -> None:
    raw = _wire(build_signed(_inner(), signing_key=sender.secret), From="sender@example.org")
    content = _open(raw, list_key, [stranger.public, sender.public])
    assert (content.text, content.encrypted, content.signature) == (
        "The inner text.\n",
        False,
        SignatureState.VALID,
    )
    assert _open(raw, list_key, [stranger.public]).signature == SignatureState.BAD
    assert _open(raw, list_key, []).signature == SignatureState.BAD
    assert _open(raw, list_key, ["not a key"]).signature == SignatureState.BAD


def test_a_signed_message_with_cut_headers_is_not_checked(
    list_key: KeyPair, sender: KeyPair
) -> None:
    signed = _wire(build_signed(_inner(), signing_key=sender.secret))
    assert _open(signed, list_key, [sender.public]).signature == SignatureState.VALID
    long_header = b"X-Long: " + b"x" * 3000 + b"\r\n"  # outside what is signed
    content = _open(long_header + signed, list_key, [sender.public])
    assert (content.signature, content.text) == (SignatureState.BAD, "The inner text.\n")


def test_a_signature_check_that_blows_the_stack_is_not_valid(
    list_key: KeyPair, sender: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    def verify(*_args: object, **_kw: object) -> bool:
        raise RecursionError

    monkeypatch.setattr(opening, "verify_signed", verify)
    raw = _wire(build_signed(_inner(), signing_key=sender.secret))
    assert _open(raw, list_key, [sender.public]).signature == SignatureState.BAD


def test_pgp_mime_with_a_signed_entity_inside(
    list_key: KeyPair, sender: KeyPair, stranger: KeyPair
) -> None:
    """RFC 3156 section 6.1: multipart/signed, then encrypted (as Lockstep itself sends)."""
    message = build_encrypted(
        _inner("Signed, then encrypted.\n"),
        recipient_keys=[list_key.public],
        signing_key=sender.secret,
        openpgp=SequoiaOpenPGP(),
    )
    raw = _wire(message, From="sender@example.org", Subject="Encrypted message")
    content = _open(raw, list_key, [sender.public])
    assert content.text == "Signed, then encrypted.\n"
    assert (content.encrypted, content.signature, content.signer) == (True, "valid", "")
    assert _open(raw, list_key, [stranger.public]).signature == SignatureState.BAD


def _pgp_mime(data: bytes, *parts: bytes) -> bytes:
    control = b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
    payload = b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    body = b"".join(b"--e\r\n" + part for part in (parts or (control, payload)))
    return (
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e'
        b"\r\n\r\n" + body + b"--e--\r\n"
    )


def test_pgp_mime_signed_in_one_pass(list_key: KeyPair, sender: KeyPair) -> None:
    """RFC 3156 section 6.2, with a protected Subject in the entity inside."""
    entity = b"Subject: The real subject\r\nContent-Type: text/plain\r\n\r\nInside.\r\n"
    data = pysequoia.encrypt(entity, [_cert(list_key)], signer=_signer(sender))
    content = _open(_pgp_mime(data), list_key, [sender.public])
    assert (content.text, content.subject) == ("Inside.\r\n", "The real subject")
    assert (content.signature, content.signer) == (SignatureState.VALID, _fingerprint(sender))


def test_multipart_encrypted_of_the_wrong_shape_is_undecryptable(list_key: KeyPair) -> None:
    data = pysequoia.encrypt(b"Content-Type: text/plain\r\n\r\nx\r\n", [_cert(list_key)])
    control = b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
    payload = b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    as_text = b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n"
    for parts in ((payload,), (payload, control), (control, payload, payload), (control, as_text)):
        with pytest.raises(Undecryptable, match="version part and a data part"):
            _open(_pgp_mime(data, *parts), list_key, [])
    assert _open(_pgp_mime(data), list_key, []).text == "x\r\n"


def test_multipart_encrypted_that_holds_no_encryption_is_undecryptable(
    list_key: KeyPair, sender: KeyPair, stranger: KeyPair
) -> None:
    with pytest.raises(Undecryptable, match="not an OpenPGP message"):
        _open(_pgp_mime(b"garbage"), list_key, [])
    signed_only = pysequoia.sign(_signer(sender), b"x", mode=pysequoia.SignatureMode.INLINE)
    with pytest.raises(Undecryptable, match="not encrypted"):
        _open(_pgp_mime(signed_only), list_key, [sender.public])
    for_stranger = pysequoia.encrypt(b"x", [_cert(stranger)])
    with pytest.raises(Undecryptable, match="could not be decrypted"):
        _open(_pgp_mime(for_stranger), list_key, [])


def _plain(body: bytes) -> bytes:
    return b"From: sender@example.org\r\nSubject: Inline\r\n\r\nHello.\r\n" + body


def test_inline_openpgp(list_key: KeyPair, sender: KeyPair, stranger: KeyPair) -> None:
    encrypted = pysequoia.encrypt(b"decrypted \x00 text", [_cert(list_key)], signer=_signer(sender))
    content = _open(_plain(encrypted), list_key, [sender.public])
    assert (content.text, content.encrypted, content.signature) == (
        "decrypted \ufffd text",
        True,
        SignatureState.VALID,
    )
    entity = pysequoia.encrypt(
        b"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n"
        b"Body.\r\n--m\r\nContent-Type: application/x\r\n\r\nfile\r\n--m--\r\n",
        [_cert(list_key)],
    )
    inside = _open(_plain(entity), list_key, [])
    assert (inside.text, [a.content for a in inside.attachments]) == ("Body.", [b"file"])
    clear = pysequoia.sign(_signer(sender), b"Signed line.\n", mode=pysequoia.SignatureMode.CLEAR)
    signed = _open(_plain(clear), list_key, [sender.public])
    assert (signed.text, signed.encrypted, signed.signature) == ("Signed line.\n", False, "valid")
    assert _open(_plain(clear), list_key, [stranger.public]).signature == SignatureState.BAD


def test_damaged_inline_openpgp(list_key: KeyPair, stranger: KeyPair) -> None:
    garbage = b"-----BEGIN PGP MESSAGE-----\r\n\r\nAAAA\r\n-----END PGP MESSAGE-----\r\n"
    with pytest.raises(Undecryptable, match="damaged"):
        _open(_plain(garbage), list_key, [])
    broken_signature = SIGNED.replace(b"wsBc", b"!!!!")
    content = _open(_plain(broken_signature), list_key, [])
    assert content.signature == SignatureState.BAD
    assert content.text.startswith("Hello.")
    for_stranger = SequoiaOpenPGP().encrypt(b"x", recipients=[stranger.public]).encode()
    with pytest.raises(Undecryptable, match="could not be decrypted"):
        _open(_plain(for_stranger), list_key, [])


def test_plain_mail_is_opened_as_it_is(list_key: KeyPair) -> None:
    content = _open(_plain(b"No OpenPGP here.\r\n"), list_key, [])
    assert content == replace(
        opening.Content(text="Hello.\r\nNo OpenPGP here.\r\n"), signature=SignatureState.NONE
    )
