"""The WKD hash against GnuPG's own, and the per-address copy of the list certificate."""

from __future__ import annotations

from pathlib import Path

import pysequoia
import pytest

from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP
from lockstep.mailgw.crypto.signing import public_half
from lockstep.mailgw.wkd import (
    armored_certificate_for,
    certificate_for,
    fingerprint,
    wkd_hash,
    zbase32,
)
from tests.factories.gpg import GnuPG
from tests.factories.keys import key_pair
from tests.factories.wks import gnupg_wkd_hash

LIST_UID = "Lockstep <lockstep@lists.example.org>"


@pytest.mark.parametrize(
    ("data", "encoded"),
    [
        (b"", ""),
        (b"\x00", "yy"),
        (b"\xff", "9h"),
        (b"\xf0\xbf\xc7", "6n9hq"),  # 11110 00010 11111 11100 0111(0): 30 2 31 28 14
    ],
)
def test_zbase32(data: bytes, encoded: str) -> None:
    assert zbase32(data) == encoded


def test_the_drafts_example() -> None:
    # draft-koch-openpgp-webkey-service, section 3.1: "Joe.Doe@Example.ORG".
    assert wkd_hash("Joe.Doe") == "iy9q119eutrkn8s1mk4r39qejnbu3n5q"


@pytest.mark.parametrize(
    "address",
    [
        "security-libquokka@lockstep.example.org",
        "Security-LibQ@Example.org",  # only the local part counts, lower-cased
        "oss-security@lockstep.example.org",
        "case-12-0123456789ab@lockstep.example.org",
        "Ärger-Ü@example.org",  # GnuPG lower-cases ASCII letters only
    ],
)
def test_wkd_hash_is_gnupgs(address: str) -> None:
    assert wkd_hash(address.rpartition("@")[0]) == gnupg_wkd_hash(address)


def _gpg_user_ids(gpg: GnuPG, armored: str) -> list[str]:
    colons = gpg.run(
        "--with-colons", "--import-options", "show-only", "--import", stdin=armored.encode()
    )
    return [line.split(":")[9] for line in colons.decode().splitlines() if line.startswith("uid")]


def test_the_copy_carries_the_address_and_no_secrets(tmp_path: Path) -> None:
    pair = key_pair(LIST_UID)
    address = "security-libquokka@lists.example.org"
    binary = certificate_for(pair.secret, address)
    armored = armored_certificate_for(pair.secret, address)
    assert binary[:1] != b"-"  # binary, not armour (WKD serves binary)
    assert armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    gpg = GnuPG(tmp_path / "gpg")
    packets = gpg.run("--list-packets", stdin=binary).decode()
    assert ":secret key packet:" not in packets
    assert ":secret sub key packet:" not in packets
    assert sorted(_gpg_user_ids(gpg, armored)) == [LIST_UID, address]
    assert fingerprint(armored) == fingerprint(pair.public) == fingerprint(public_half(pair.secret))
    # Made once per key and address: every answer is the same bytes.
    assert certificate_for(pair.secret, address) == binary


def test_an_address_the_key_already_has_is_not_added_again(tmp_path: Path) -> None:
    pair = key_pair(LIST_UID)
    gpg = GnuPG(tmp_path / "gpg")
    own = armored_certificate_for(pair.secret, "LOCKSTEP@lists.example.org")
    assert _gpg_user_ids(gpg, own) == [LIST_UID]
    bare = key_pair("bare@lists.example.org")
    assert _gpg_user_ids(gpg, armored_certificate_for(bare.secret, "bare@lists.example.org")) == [
        "bare@lists.example.org"
    ]


def test_gnupg_encrypts_to_the_added_address_so_that_lockstep_can_read_it(
    tmp_path: Path,
) -> None:
    # A user ID without cipher preferences would make GnuPG fall back to 3DES, which
    # Sequoia refuses: the mail would arrive and never be read.
    pair = key_pair(LIST_UID)
    address = "security-libquokka@lists.example.org"
    reporter = GnuPG(tmp_path / "reporter")
    reporter.run("--import", stdin=certificate_for(pair.secret, address))
    sealed = reporter.run(
        "--armor", "--trust-model", "always", "--encrypt", "-r", address, stdin=b"details"
    )
    assert SequoiaOpenPGP().decrypt(sealed.decode(), secret_key=pair.secret) == b"details"


def test_a_key_keygen_did_not_make_is_published_as_it_is(tmp_path: Path) -> None:
    made = pysequoia.Tsk.generate(
        LIST_UID, profile=pysequoia.Profile.RFC4880, cipher_suite=pysequoia.CipherSuite.P256
    )
    served = armored_certificate_for(str(made), "security-libquokka@lists.example.org")
    assert _gpg_user_ids(GnuPG(tmp_path / "gpg"), served) == [LIST_UID]
