"""FakeOpenPGP keeps the OpenPGP contract (same results, same refusals), and get_openpgp."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from lockstep.mailgw.crypto.base import (
    MAX_KEY_BYTES,
    DecryptionFailed,
    KeyInfo,
    KeyRejected,
    OpenPGP,
    RejectReason,
    get_openpgp,
)
from lockstep.mailgw.crypto.fake import GENERATED_AT, FakeOpenPGP, make_fake_key
from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FPR = "0123456789ABCDEF0123456789ABCDEF01234567"
ALICE = make_fake_key(FPR, user_ids=["Alice <alice@example.org>"])


@pytest.fixture
def fake() -> FakeOpenPGP:
    return FakeOpenPGP()


def rejection(adapter: OpenPGP, armored: str, *, now: datetime = NOW) -> KeyRejected:
    with pytest.raises(KeyRejected) as caught:
        adapter.inspect_public_key(armored, now=now)
    assert (caught.value.code, caught.value.field) == ("bad_key", "armored")
    return caught.value


def block(body: str, kind: str = "PUBLIC KEY") -> str:
    return f"-----BEGIN FAKE PGP {kind}-----\n{body}\n-----END FAKE PGP {kind}-----\n"


def test_documented_format_is_read_exactly(fake: FakeOpenPGP) -> None:
    armored = block(
        json.dumps(
            {
                "fingerprint": "abcdef0123456789abcdef0123456789abcdef01",
                "user_ids": ["Vendor PSIRT <psirt@vendor.example>", "Second"],
                "created_at": "2024-01-01T00:00:00+00:00",
                "expires_at": "2027-01-01T00:00:00+01:00",
                "can_encrypt": True,
                "can_sign": False,
            }
        )
    )
    info = fake.inspect_public_key(armored, now=NOW)
    assert info == KeyInfo(
        fingerprint="ABCDEF0123456789ABCDEF0123456789ABCDEF01",
        user_ids=("Vendor PSIRT <psirt@vendor.example>", "Second"),
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        expires_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
        can_encrypt=True,
        can_sign=False,
        algorithm="Fake",
        armored=make_fake_key(
            "ABCDEF0123456789ABCDEF0123456789ABCDEF01",
            user_ids=["Vendor PSIRT <psirt@vendor.example>", "Second"],
            created_at=datetime(2024, 1, 1, tzinfo=UTC),
            expires_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
            can_sign=False,
        ),
    )
    assert info.expires_at is not None
    assert info.expires_at.tzinfo is UTC
    assert fake.inspect_public_key(info.armored, now=NOW) == info


def test_only_the_fingerprint_is_required(fake: FakeOpenPGP) -> None:
    info = fake.inspect_public_key(block(json.dumps({"fingerprint": "a" * 64})), now=NOW)
    assert (info.fingerprint, info.user_ids) == ("A" * 64, ())
    assert (info.created_at, info.expires_at, info.can_encrypt, info.can_sign) == (
        None,
        None,
        True,
        True,
    )


@given(
    fingerprint=st.text("0123456789ABCDEF", min_size=40, max_size=40),
    user_ids=st.lists(st.text(max_size=40), max_size=3),
    days=st.integers(min_value=1, max_value=5000),
)
def test_make_fake_key_round_trips(fingerprint: str, user_ids: list[str], days: int) -> None:
    expires = NOW + timedelta(days=days)
    info = FakeOpenPGP().inspect_public_key(
        make_fake_key(fingerprint, user_ids=user_ids, expires_at=expires), now=NOW
    )
    assert (info.fingerprint, info.user_ids, info.expires_at) == (
        fingerprint,
        tuple(user_ids),
        expires,
    )


# -- the same refusals as the real adapter -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", RejectReason.EMPTY),
        (" \n", RejectReason.EMPTY),
        ("x" * (MAX_KEY_BYTES + 1), RejectReason.TOO_LARGE),
        ("hello", RejectReason.NOT_ARMOR),
        (block("{}", "PRIVATE KEY"), RejectReason.SECRET_KEY),
        (block("{}", "MESSAGE"), RejectReason.NOT_PUBLIC_KEY),
        (ALICE + ALICE, RejectReason.MULTIPLE_KEYS),
        (block(json.dumps([{"fingerprint": FPR}] * 3)), RejectReason.MULTIPLE_KEYS),
        (ALICE.replace("-----END FAKE PGP PUBLIC KEY-----\n", ""), RejectReason.UNREADABLE),
        (block("{not json"), RejectReason.UNREADABLE),
        (block('"a string"'), RejectReason.UNREADABLE),
        (block("{}"), RejectReason.UNREADABLE),
        (block(json.dumps({"fingerprint": "1234"})), RejectReason.UNREADABLE),
        (block(json.dumps({"fingerprint": FPR, "user_ids": "Al"})), RejectReason.UNREADABLE),
        (block(json.dumps({"fingerprint": FPR, "expires_at": "soon"})), RejectReason.UNREADABLE),
        (
            block(json.dumps({"fingerprint": FPR, "expires_at": "2030-01-01T00:00:00"})),
            RejectReason.UNREADABLE,  # a naive date
        ),
        (make_fake_key(FPR, revoked=True), RejectReason.REVOKED),
        (make_fake_key(FPR, expires_at=NOW), RejectReason.EXPIRED),
        (make_fake_key(FPR, can_encrypt=False), RejectReason.NO_ENCRYPTION_KEY),
        (make_fake_key(FPR, encryption_expires_at=NOW), RejectReason.ENCRYPTION_KEY_EXPIRED),
    ],
)
def test_refusals(fake: FakeOpenPGP, text: str, reason: RejectReason) -> None:
    assert rejection(fake, text).reason == reason


def test_expiry_boundaries(fake: FakeOpenPGP) -> None:
    key = make_fake_key(FPR, expires_at=NOW)
    assert fake.inspect_public_key(key, now=NOW - timedelta(seconds=1)).expires_at == NOW
    error = rejection(fake, key)
    assert error.message == (
        f"The key {FPR} expired on 2026-03-01 12:00 UTC. Extend it (gpg --quick-set-expire "
        f"{FPR} 1y, then the same with '*' for its subkeys) and upload it again."
    )
    subkey = make_fake_key(FPR, encryption_expires_at=NOW)
    info = fake.inspect_public_key(subkey, now=NOW - timedelta(seconds=1))
    assert info.can_encrypt is True
    assert rejection(fake, subkey).message == (
        f"The encryption subkey of {FPR} expired on 2026-03-01 12:00 UTC. Extend it "
        f"(gpg --quick-set-expire {FPR} 1y '*') and upload the key again."
    )


def test_multiple_keys_are_counted(fake: FakeOpenPGP) -> None:
    assert rejection(fake, ALICE * 3).message == (
        "The block holds 3 keys; upload one key at a time."
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "x" * (MAX_KEY_BYTES + 1),
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nxx\n-----END PGP PRIVATE KEY BLOCK-----\n",
    ],
)
def test_real_and_fake_refuse_alike(fake: FakeOpenPGP, text: str) -> None:
    fake_text = text.replace("BEGIN PGP", "BEGIN FAKE PGP").replace("END PGP", "END FAKE PGP")
    real = rejection(SequoiaOpenPGP(), text)
    mimic = rejection(fake, fake_text)
    assert (mimic.reason, mimic.message) == (real.reason, real.message)


def test_real_key_is_not_fake_armour(fake: FakeOpenPGP) -> None:
    public, _ = SequoiaOpenPGP().generate_key("Real <real@example.org>")
    assert rejection(fake, public).reason == RejectReason.NOT_ARMOR


def test_now_must_be_aware(fake: FakeOpenPGP) -> None:
    with pytest.raises(ValueError, match="now must carry a time zone"):
        fake.inspect_public_key(ALICE, now=datetime(2030, 1, 1))  # noqa: DTZ001


# -- generate, encrypt, decrypt ------------------------------------------------------------


def test_generate_key_is_deterministic(fake: FakeOpenPGP) -> None:
    public, secret = fake.generate_key("Bob <bob@example.org>")
    assert fake.generate_key("Bob <bob@example.org>") == (public, secret)
    assert fake.generate_key("Carol <carol@example.org>")[0] != public
    info = fake.inspect_public_key(public, now=NOW)
    # sha256("Bob <bob@example.org>"), first 40 hex digits (checked with sha256sum)
    assert info.fingerprint == "CEE807A550A0FC43ED59A2A3FAFE81F7EA225FB4"
    assert (info.user_ids, info.created_at, info.expires_at) == (
        ("Bob <bob@example.org>",),
        GENERATED_AT,
        None,
    )
    assert secret.startswith("-----BEGIN FAKE PGP PRIVATE KEY-----\n")
    assert rejection(fake, secret).reason == RejectReason.SECRET_KEY
    with pytest.raises(ValueError, match="user_id must not be empty"):
        fake.generate_key("")


def test_encrypt_decrypt_round_trip(fake: FakeOpenPGP) -> None:
    bob, bob_secret = fake.generate_key("Bob <bob@example.org>")
    carol, carol_secret = fake.generate_key("Carol <carol@example.org>")
    _, eve_secret = fake.generate_key("Eve <eve@example.org>")
    plaintext = bytes(range(256))
    message = fake.encrypt(plaintext, recipients=[bob, carol])
    assert message.startswith("-----BEGIN FAKE PGP MESSAGE-----\n")
    assert '"NOT ENCRYPTED": "fake OpenPGP, for tests only"' in message
    assert fake.encrypt(plaintext, recipients=[bob, carol]) == message
    assert fake.decrypt(message, secret_key=bob_secret) == plaintext
    assert fake.decrypt(message, secret_key=carol_secret) == plaintext
    with pytest.raises(DecryptionFailed, match="could not be decrypted with this key"):
        fake.decrypt(message, secret_key=eve_secret)


def test_decrypt_refusals(fake: FakeOpenPGP) -> None:
    bob, secret = fake.generate_key("Bob <bob@example.org>")
    message = fake.encrypt(b"x", recipients=[bob])
    with pytest.raises(ValueError, match="no usable"):
        fake.decrypt(message, secret_key=bob)
    for not_encrypted in ("", "plain text", block("{}", "MESSAGE"), block("[1]", "MESSAGE")):
        with pytest.raises(DecryptionFailed, match="The message is not encrypted"):
            fake.decrypt(not_encrypted, secret_key=secret)
    fingerprint = fake.inspect_public_key(bob, now=NOW).fingerprint
    damaged = block(json.dumps({"to": [fingerprint], "data": "***"}), "MESSAGE")
    with pytest.raises(DecryptionFailed, match="could not be decrypted"):
        fake.decrypt(damaged, secret_key=secret)


def test_encrypt_checks_recipients_at_the_clock(fake: FakeOpenPGP) -> None:
    key = make_fake_key(FPR, expires_at=NOW)
    with pytest.raises(ValueError, match="at least one recipient"):
        fake.encrypt(b"x", recipients=[])
    with time_machine.travel(NOW - timedelta(seconds=1), tick=False):
        assert fake.encrypt(b"x", recipients=[key]).startswith("-----BEGIN FAKE PGP MESSAGE")
    with time_machine.travel(NOW, tick=False), pytest.raises(KeyRejected) as caught:
        fake.encrypt(b"x", recipients=[key])
    assert caught.value.reason == RejectReason.EXPIRED


# -- get_openpgp ---------------------------------------------------------------------------


@pytest.fixture
def django_settings() -> None:
    # Under pytest-django the test settings are already configured; bare pytest needs this.
    if not settings.configured:
        settings.configure()


@pytest.mark.usefixtures("django_settings")
def test_get_openpgp_follows_the_setting() -> None:
    with override_settings(LOCKSTEP_OPENPGP_BACKEND="lockstep.mailgw.crypto.fake.FakeOpenPGP"):
        chosen = get_openpgp()
        assert type(chosen) is FakeOpenPGP
        assert get_openpgp() is chosen  # one instance per dotted path
    with override_settings(
        LOCKSTEP_OPENPGP_BACKEND="lockstep.mailgw.crypto.openpgp.SequoiaOpenPGP"
    ):
        assert type(get_openpgp()) is SequoiaOpenPGP


@pytest.mark.usefixtures("django_settings")
def test_get_openpgp_defaults_to_sequoia() -> None:
    with override_settings():
        del settings.LOCKSTEP_OPENPGP_BACKEND
        assert type(get_openpgp()) is SequoiaOpenPGP


@pytest.mark.usefixtures("django_settings")
def test_get_openpgp_names_a_missing_backend() -> None:
    with (
        override_settings(LOCKSTEP_OPENPGP_BACKEND="lockstep.mailgw.crypto.nope.Nope"),
        pytest.raises(ImportError, match="nope"),
    ):
        get_openpgp()
