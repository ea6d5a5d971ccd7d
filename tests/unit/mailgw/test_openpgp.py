"""SequoiaOpenPGP against real keys made by GnuPG (the `gpg` CLI) and by pysequoia.

GnuPG keys are made once per module in a temporary GNUPGHOME. Keys that must be expired
*now* are made with `--faked-system-time` in 2020, so every check below runs at the real
clock unless a test passes its own `now`.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pysequoia
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysequoia.packet import Packet, PacketPile, SignatureType, Tag

from lockstep.mailgw.crypto.base import (
    MAX_KEY_BYTES,
    DecryptionFailed,
    KeyRejected,
    RejectReason,
)
from lockstep.mailgw.crypto.openpgp import SequoiaOpenPGP

PASSPHRASE = "correct horse"  # gpg 2.2 will not revoke a subkey of an unprotected key in batch
OLD = "20200101T000000!"  # gpg --faked-system-time: keys "made" on 2020-01-01 00:00 UTC


@dataclass(frozen=True)
class GpgKey:
    public: str
    fingerprint: str  # from gpg's own `fpr` line
    created_at: datetime
    expires_at: datetime | None


class Gpg:
    """Run the real gpg CLI in its own home directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "GNUPGHOME": str(home)}

    def run(self, *args: str, stdin: bytes = b"", faked: str = "") -> bytes:
        cmd = ["gpg", "--batch", "--yes", "--pinentry-mode", "loopback"]
        cmd += ["--passphrase", PASSPHRASE, "--trust-model", "always"]
        cmd += ["--faked-system-time", faked] if faked else []
        done = subprocess.run(
            [*cmd, *args], input=stdin, env=self.env, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    def generate(self, user_id: str, algo: str, usage: str, expire: str, faked: str = "") -> str:
        self.run("--quick-gen-key", user_id, algo, usage, expire, faked=faked)
        return self.fingerprint(f"={user_id}")  # "=": an exact user ID, not a substring

    def fingerprint(self, who: str) -> str:
        colons = self.run("--with-colons", "--list-keys", who).decode()
        return next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr"))

    def export(self, who: str, *, secret: bool = False) -> str:
        option = "--export-secret-keys" if secret else "--export"
        return self.run("--armor", option, who).decode()

    def show(self, armored: str) -> GpgKey:
        """What gpg itself reads from `armored`: `pub` and `fpr` lines of --show-keys."""
        path = self.home / "show.asc"
        path.write_text(armored)
        lines = [
            x.split(":")
            for x in self.run("--with-colons", "--show-keys", str(path)).decode().splitlines()
        ]
        pub = next(x for x in lines if x[0] == "pub")
        return GpgKey(
            public=armored,
            fingerprint=next(x[9] for x in lines if x[0] == "fpr"),
            created_at=datetime.fromtimestamp(int(pub[5]), tz=UTC),
            expires_at=datetime.fromtimestamp(int(pub[6]), tz=UTC) if pub[6] else None,
        )


@dataclass(frozen=True)
class Keys:
    gpg: Gpg
    alice: GpgKey  # cv25519 default, expires in 1 year
    alice_secret: str
    rsa: GpgKey  # RSA 2048 primary (sign) + RSA 2048 encryption subkey
    sign_only: GpgKey  # ed25519, no encryption subkey
    expired: GpgKey  # made 2020-01-01, expired 2020-01-02
    subkey_expired: GpgKey  # primary never expires; its only encryption subkey expired 2020
    revoked: GpgKey  # revoked with gpg's own revocation certificate
    subkey_revoked: GpgKey  # its only encryption subkey is revoked
    keyring: str  # alice and rsa in one armour block
    certified: GpgKey  # two user IDs, one revoked; certified by the RSA key (third party)
    no_signing: GpgKey  # certify-only primary, encryption subkey, revoked signing subkey


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    gpg = Gpg(tmp_path_factory.mktemp("gnupg"))
    gpg.home.chmod(0o700)
    # The agent calibrates passphrase hashing to ~0.5 s per key operation; test keys need none.
    (gpg.home / "gpg-agent.conf").write_text("s2k-count 65536\n")
    alice = gpg.generate("Alice <alice@example.org>", "future-default", "default", "1y")
    rsa = gpg.generate("Rsa <rsa@example.org>", "rsa2048", "sign", "never")
    gpg.run("--quick-add-key", rsa, "rsa2048", "encr", "never")
    sign_only = gpg.generate("Sign Only <sign@example.org>", "ed25519", "sign", "never")
    old = gpg.generate("Old <old@example.org>", "future-default", "default", "1d", faked=OLD)
    sub = gpg.generate("Sub <sub@example.org>", "ed25519", "sign", "never", faked=OLD)
    gpg.run("--quick-add-key", sub, "cv25519", "encr", "1d", faked="20200101T000100!")
    revoked = gpg.generate("Rev <rev@example.org>", "future-default", "default", "never")
    certificate = (gpg.home / "openpgp-revocs.d" / f"{revoked}.rev").read_text()
    gpg.run("--import", stdin=certificate.replace(":-----BEGIN", "-----BEGIN").encode())
    subrev = gpg.generate("Subrev <subrev@example.org>", "future-default", "default", "never")
    edit = f"key 1\nrevkey\ny\n0\n\ny\n{PASSPHRASE}\nsave\n".encode()
    gpg.run("--command-fd", "0", "--edit-key", subrev, stdin=edit)
    # Made in the past so that the user ID's revocation is strictly newer than its binding
    # (in the same second, which one wins is not defined).
    certified = gpg.generate(
        "Cert <cert@example.org>", "future-default", "default", "never", faked=OLD
    )
    gpg.run("--quick-add-uid", certified, "Old Name <old-name@example.org>", faked=OLD)
    gpg.run("--quick-revoke-uid", certified, "Old Name <old-name@example.org>")
    gpg.run("--default-key", rsa, "--quick-sign-key", certified)
    no_signing = gpg.generate("Nosign <nosign@example.org>", "ed25519", "cert", "never")
    gpg.run("--quick-add-key", no_signing, "cv25519", "encr", "never")
    gpg.run("--quick-add-key", no_signing, "ed25519", "sign", "never")
    edit = f"key 2\nrevkey\ny\n0\n\ny\n{PASSPHRASE}\nsave\n".encode()
    gpg.run("--command-fd", "0", "--edit-key", no_signing, stdin=edit)
    yield Keys(
        gpg=gpg,
        alice=gpg.show(gpg.export(alice)),
        alice_secret=gpg.export(alice, secret=True),
        rsa=gpg.show(gpg.export(rsa)),
        sign_only=gpg.show(gpg.export(sign_only)),
        expired=gpg.show(gpg.export(old)),
        subkey_expired=gpg.show(gpg.export(sub)),
        revoked=gpg.show(gpg.export(revoked)),
        subkey_revoked=gpg.show(gpg.export(subrev)),
        keyring=gpg.run("--armor", "--export", alice, rsa).decode(),
        certified=gpg.show(gpg.export(certified)),
        no_signing=gpg.show(gpg.export(no_signing)),
    )
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=gpg.env, check=False)


@pytest.fixture(scope="module")
def adapter() -> SequoiaOpenPGP:
    return SequoiaOpenPGP()


def now() -> datetime:
    """The real time. Keys made by the fixtures are younger than the module, so never cache it."""
    return datetime.now(tz=UTC)


def rejection(adapter: SequoiaOpenPGP, armored: str, *, at: datetime | None = None) -> KeyRejected:
    with pytest.raises(KeyRejected) as caught:
        adapter.inspect_public_key(armored, now=at or now())
    assert caught.value.code == "bad_key"
    assert caught.value.field == "armored"
    return caught.value


def _rearmour(packets: list[bytes]) -> str:
    return pysequoia.armor(b"".join(packets), pysequoia.ArmorKind.PublicKey)


# -- accepted keys -------------------------------------------------------------------------


def test_gnupg_default_key_is_read_as_gnupg_reads_it(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    info = adapter.inspect_public_key(keys.alice.public, now=now())
    assert info.fingerprint == keys.alice.fingerprint
    assert len(info.fingerprint) == 40
    assert info.user_ids == ("Alice <alice@example.org>",)
    assert info.created_at == keys.alice.created_at
    assert keys.alice.expires_at is not None
    assert info.expires_at == keys.alice.expires_at
    assert info.expires_at - keys.alice.created_at == timedelta(days=365)
    assert (info.can_encrypt, info.can_sign) == (True, True)
    assert info.algorithm == "EdDSA (Ed25519)"


def test_rsa_key_with_encryption_subkey(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    info = adapter.inspect_public_key(keys.rsa.public, now=now())
    assert info.fingerprint == keys.rsa.fingerprint
    assert info.user_ids == ("Rsa <rsa@example.org>",)
    assert info.expires_at is None
    assert (info.can_encrypt, info.can_sign) == (True, True)
    assert info.algorithm == "RSA 2048"


def test_armour_is_ours_public_only_and_gnupg_reads_it(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    info = adapter.inspect_public_key(keys.alice.public, now=now())
    assert info.armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
    assert info.armored != keys.alice.public  # re-armoured (Sequoia adds Comment: lines)
    assert "PRIVATE" not in info.armored
    assert keys.gpg.show(info.armored) == GpgKey(
        info.armored, keys.alice.fingerprint, keys.alice.created_at, keys.alice.expires_at
    )
    assert adapter.inspect_public_key(info.armored, now=now()) == info


def test_third_party_signatures_and_revoked_user_ids(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    armored = keys.certified.public
    packets = list(PacketPile.from_bytes(armored.encode()))
    issuers = {p.issuer_fingerprint for p in packets if p.tag == Tag.Signature}
    assert issuers == {keys.certified.fingerprint.lower(), keys.rsa.fingerprint.lower()}
    kinds = [p.signature_type for p in packets if p.tag == Tag.Signature]
    assert SignatureType.CertificationRevocation in kinds
    info = adapter.inspect_public_key(armored, now=now())
    assert info.fingerprint == keys.certified.fingerprint
    assert info.user_ids == ("Cert <cert@example.org>",)  # the revoked one is left out
    assert (info.can_encrypt, info.can_sign) == (True, True)


def test_can_sign_ignores_revoked_signing_subkeys(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    colons = keys.gpg.run("--with-colons", "--list-keys", keys.no_signing.fingerprint).decode()
    rows = [line.split(":") for line in colons.splitlines() if line[:3] in ("pub", "sub")]
    # gpg agrees: its encryption subkey is fine ("-": validity not computed under
    # --trust-model always), its signing subkey is revoked ("r"), and the key as a whole can
    # certify and encrypt but not sign ("cEC": upper case is the whole key's capabilities).
    assert [(row[1], row[11]) for row in rows][1:] == [("-", "e"), ("r", "s")]
    assert rows[0][11] == "cEC"
    info = adapter.inspect_public_key(keys.no_signing.public, now=now())
    assert (info.can_encrypt, info.can_sign) == (True, False)


def test_leading_marker_packet_is_ignored(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    marker = bytes([0xCA, 0x03]) + b"PGP"  # RFC 9580 section 5.8, old and obsolete but legal
    raw = [marker, *(bytes(p) for p in PacketPile.from_bytes(keys.alice.public.encode()))]
    info = adapter.inspect_public_key(_rearmour(raw), now=now())
    assert (info.fingerprint, info.algorithm) == (keys.alice.fingerprint, "EdDSA (Ed25519)")


def test_text_around_the_block_and_crlf_line_ends_are_fine(
    adapter: SequoiaOpenPGP, keys: Keys
) -> None:
    pasted = (
        "Hi, here is my key:\r\n\r\n" + keys.alice.public.replace("\n", "\r\n") + "\r\n-- \r\nA"
    )
    assert adapter.inspect_public_key(pasted, now=now()).fingerprint == keys.alice.fingerprint


def test_expiry_is_judged_at_the_given_now(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    expires = keys.alice.expires_at
    assert expires is not None
    before = adapter.inspect_public_key(keys.alice.public, now=expires - timedelta(seconds=1))
    assert before.fingerprint == keys.alice.fingerprint
    error = rejection(adapter, keys.alice.public, at=expires)
    assert error.reason == RejectReason.EXPIRED
    when = f"{expires:%Y-%m-%d %H:%M} UTC"
    assert error.message == (
        f"The key {keys.alice.fingerprint} expired on {when}. Extend it (gpg --quick-set-expire "
        f"{keys.alice.fingerprint} 1y, then the same with '*' for its subkeys) and upload it again."
    )


def test_now_must_be_aware(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    with pytest.raises(ValueError, match="now must carry a time zone"):
        adapter.inspect_public_key(keys.alice.public, now=datetime(2030, 1, 1))  # noqa: DTZ001


def test_fingerprints_match_gnupg_for_pysequoia_keys(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    public, _secret = adapter.generate_key("Bob <bob@example.org>")
    info = adapter.inspect_public_key(public, now=now())
    gnupg = keys.gpg.show(public)
    assert info.fingerprint == gnupg.fingerprint
    assert info.created_at == gnupg.created_at
    assert (info.expires_at, gnupg.expires_at) == (None, None)
    assert info.user_ids == ("Bob <bob@example.org>",)
    assert (info.can_encrypt, info.can_sign, info.algorithm) == (True, True, "EdDSA (Ed25519)")


def test_rfc9580_v6_key(adapter: SequoiaOpenPGP) -> None:
    tsk = pysequoia.Tsk.generate("Six <six@example.org>", profile=pysequoia.Profile.RFC9580)
    public = str(tsk.extract_certificate())
    info = adapter.inspect_public_key(public, now=now())
    assert info.fingerprint == tsk.extract_certificate().fingerprint.upper()
    assert len(info.fingerprint) == 64
    assert (info.algorithm, info.can_encrypt, info.can_sign) == ("Ed25519", True, True)
    message = adapter.encrypt(b"v6 PKESK", recipients=[public])
    assert adapter.decrypt(message, secret_key=str(tsk)) == b"v6 PKESK"


def test_nist_p256_key(adapter: SequoiaOpenPGP) -> None:
    tsk = pysequoia.Tsk.generate("P <p@example.org>", cipher_suite=pysequoia.CipherSuite.P256)
    info = adapter.inspect_public_key(str(tsk.extract_certificate()), now=now())
    assert info.algorithm == "ECDSA (NIST P-256)"


# -- rejections ----------------------------------------------------------------------------

NOT_ARMOR = (
    "This is not an ASCII-armoured OpenPGP public key. Paste the output of "
    "gpg --armor --export YOUR-EMAIL; it begins with -----BEGIN PGP PUBLIC KEY BLOCK-----"
)
UNREADABLE = (
    "The key block could not be read: it is damaged or incomplete. Copy the whole block again, "
    "from -----BEGIN PGP PUBLIC KEY BLOCK----- to -----END PGP PUBLIC KEY BLOCK-----."
)
SECRET = (
    "This is a PRIVATE key: upload only the public key (gpg --armor --export YOUR-EMAIL). "
    "Nothing was stored. Consider this private key compromised if it was shared, and replace it."
)


@pytest.mark.parametrize("text", ["", "   \n\t\n", "\r\n"])
def test_empty_input(adapter: SequoiaOpenPGP, text: str) -> None:
    error = rejection(adapter, text)
    assert error.reason == RejectReason.EMPTY
    assert error.message == (
        "No key was given. Paste your OpenPGP public key; it begins with "
        "-----BEGIN PGP PUBLIC KEY BLOCK-----"
    )


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "DCBC7869C32D18C79BC43628237605907DBBEF6F",
    ],
)
def test_not_openpgp_armour(adapter: SequoiaOpenPGP, text: str) -> None:
    error = rejection(adapter, text)
    assert (error.reason, error.message) == (RejectReason.NOT_ARMOR, NOT_ARMOR)


def test_binary_key_is_not_armour(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    binary = bytes(pysequoia.Cert.from_bytes(keys.alice.public.encode()))
    error = rejection(adapter, binary.decode("latin-1"))
    assert error.reason == RejectReason.NOT_ARMOR


def test_armoured_message_is_not_a_key(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    message = adapter.encrypt(b"hello", recipients=[keys.alice.public])
    error = rejection(adapter, message)
    assert error.reason == RejectReason.NOT_PUBLIC_KEY
    assert error.message == (
        "This is an OpenPGP message, not a public key. "
        "Paste the output of gpg --armor --export YOUR-EMAIL."
    )


def test_armoured_signature_is_not_a_key(adapter: SequoiaOpenPGP) -> None:
    tsk = pysequoia.Tsk.generate("S")
    signature = pysequoia.sign(tsk.signer(), b"x", mode=pysequoia.SignatureMode.DETACHED).decode()
    assert rejection(adapter, signature).message.startswith("This is an OpenPGP signature, not")


def _damaged(public: str) -> list[str]:
    lines = public.splitlines()
    body = [i for i, line in enumerate(lines) if line and not line.startswith(("-", "="))][1:]
    garbage = "\n".join([lines[0], "", "bm90IGEga2V5IGF0IGFsbA==", lines[-1]])
    truncated = "\n".join([*lines[: body[1]], lines[-1]])
    no_end = "\n".join(lines[:-1])
    return [garbage, truncated, no_end]


@pytest.mark.parametrize("case", [0, 1, 2], ids=["garbage", "truncated", "no-end-line"])
def test_armour_that_does_not_parse(adapter: SequoiaOpenPGP, keys: Keys, case: int) -> None:
    error = rejection(adapter, _damaged(keys.alice.public)[case])
    assert (error.reason, error.message) == (RejectReason.UNREADABLE, UNREADABLE)


def test_secret_key_is_refused_and_not_echoed(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    assert keys.alice_secret.startswith("-----BEGIN PGP PRIVATE KEY BLOCK-----")
    error = rejection(adapter, keys.alice_secret)
    assert (error.reason, error.message) == (RejectReason.SECRET_KEY, SECRET)
    body = [line for line in keys.alice_secret.splitlines() if len(line) > 20]
    assert not any(line in str(error) or line in repr(error.args) for line in body)
    assert error.__cause__ is None
    assert error.__context__ is None


def test_secret_key_under_a_public_header_is_still_refused(
    adapter: SequoiaOpenPGP, keys: Keys
) -> None:
    disguised = keys.alice_secret.replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK")
    error = rejection(adapter, disguised)
    assert (error.reason, error.message) == (RejectReason.SECRET_KEY, SECRET)


def test_secret_key_next_to_a_public_key_is_refused(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    error = rejection(adapter, keys.alice.public + keys.alice_secret)
    assert error.reason == RejectReason.SECRET_KEY


def test_two_certificates_in_one_block(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    assert keys.keyring.count("-----BEGIN PGP PUBLIC KEY BLOCK-----") == 1
    error = rejection(adapter, keys.keyring)
    assert error.reason == RejectReason.MULTIPLE_KEYS
    assert error.message == "The block holds 2 keys; upload one key at a time."


def test_two_blocks(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    error = rejection(adapter, keys.alice.public + "\n" + keys.rsa.public)
    assert error.reason == RejectReason.MULTIPLE_KEYS
    assert error.message == "The block holds 2 keys; upload one key at a time."


def test_revoked_by_gnupg(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    error = rejection(adapter, keys.revoked.public)
    assert error.reason == RejectReason.REVOKED
    assert error.message == (
        f"The key {keys.revoked.fingerprint} has been revoked by its owner. Upload a current key."
    )


def test_revoked_by_pysequoia(adapter: SequoiaOpenPGP) -> None:
    tsk = pysequoia.Tsk.generate("Carol <carol@example.org>")
    cert = tsk.extract_certificate()
    revoked = pysequoia.Cert.from_bytes(bytes(cert) + bytes(cert.revoke(tsk.certifier())))
    assert rejection(adapter, str(revoked)).reason == RejectReason.REVOKED


def test_expired_key(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    assert keys.expired.expires_at == datetime(2020, 1, 2, tzinfo=UTC)
    error = rejection(adapter, keys.expired.public)
    assert error.reason == RejectReason.EXPIRED
    assert f"The key {keys.expired.fingerprint} expired on 2020-01-02 00:00 UTC." in error.message


def test_pysequoia_key_with_short_validity_expires(adapter: SequoiaOpenPGP) -> None:
    tsk = pysequoia.Tsk.generate("Short <s@example.org>", validity_seconds=3600)
    public = str(tsk.extract_certificate())
    assert adapter.inspect_public_key(public, now=now()).expires_at is not None
    error = rejection(adapter, public, at=now() + timedelta(hours=2))
    assert error.reason == RejectReason.EXPIRED


def test_signing_only_key(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    error = rejection(adapter, keys.sign_only.public)
    fpr = keys.sign_only.fingerprint
    assert error.reason == RejectReason.NO_ENCRYPTION_KEY
    assert error.message == (
        f"The key {fpr} has no usable encryption subkey (it may be a signing-only key), "
        f"so mail to you could not be encrypted. Add one (gpg --quick-add-key {fpr} "
        "cv25519 encr) and upload the key again."
    )


def test_only_encryption_subkey_expired(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    assert keys.subkey_expired.expires_at is None  # the primary key itself never expires
    error = rejection(adapter, keys.subkey_expired.public)
    fpr = keys.subkey_expired.fingerprint
    assert error.reason == RejectReason.ENCRYPTION_KEY_EXPIRED
    assert error.message == (
        f"The encryption subkey of {fpr} expired on 2020-01-02 00:01 UTC. Extend it "
        f"(gpg --quick-set-expire {fpr} 1y '*') and upload the key again."
    )


def test_only_encryption_subkey_revoked(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    error = rejection(adapter, keys.subkey_revoked.public)
    assert error.reason == RejectReason.ENCRYPTION_KEY_REVOKED
    assert error.message.startswith(
        f"The encryption subkey of {keys.subkey_revoked.fingerprint} has been revoked."
    )


def test_encryption_subkey_is_judged_at_the_given_now(adapter: SequoiaOpenPGP) -> None:
    # Subkeys of a key made now are not bound yet at a `now` before their binding signature.
    public, _ = adapter.generate_key("Early <early@example.org>")
    error = rejection(adapter, public, at=now() - timedelta(days=1))
    assert error.reason == RejectReason.NO_ENCRYPTION_KEY


def test_broken_self_signature(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    packets = list(PacketPile.from_bytes(keys.alice.public.encode()))
    raw = [bytes(p) for p in packets]
    uid_sig = next(
        i for i, p in enumerate(packets) if p.signature_type == SignatureType.PositiveCertification
    )
    sig = raw[uid_sig]
    raw[uid_sig] = sig[:-3] + bytes([sig[-3] ^ 0xFF]) + sig[-2:]  # flip a bit of the signature
    error = rejection(adapter, _rearmour(raw))
    assert error.reason == RejectReason.NO_VALID_SELF_SIGNATURE
    assert error.message.startswith(
        f"The key {keys.alice.fingerprint} has no self-signature that is valid now"
    )


def test_broken_subkey_binding_means_no_encryption(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    packets = list(PacketPile.from_bytes(keys.alice.public.encode()))
    assert packets[-1].signature_type == SignatureType.SubkeyBinding
    raw = [bytes(p) for p in packets]
    raw[-1] = raw[-1][:-3] + bytes([raw[-1][-3] ^ 0xFF]) + raw[-1][-2:]
    assert rejection(adapter, _rearmour(raw)).reason == RejectReason.NO_ENCRYPTION_KEY


def test_block_without_a_key(adapter: SequoiaOpenPGP) -> None:
    tsk = pysequoia.Tsk.generate("S")
    detached = pysequoia.sign(
        tsk.signer(), b"x", mode=pysequoia.SignatureMode.DETACHED, armor=False
    )
    error = rejection(adapter, pysequoia.armor(detached, pysequoia.ArmorKind.PublicKey))
    assert error.reason == RejectReason.UNREADABLE


def test_too_large(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    padded = keys.alice.public + "\n" + "x" * MAX_KEY_BYTES
    error = rejection(adapter, padded)
    size = len(padded.encode())
    assert error.reason == RejectReason.TOO_LARGE
    assert error.message == (
        f"The key is too large ({size} bytes; the limit is 65536 bytes). Export it without "
        "third-party signatures: gpg --armor --export-options export-minimal --export YOUR-EMAIL"
    )
    just_fits = keys.alice.public + "x" * (MAX_KEY_BYTES - len(keys.alice.public))
    assert adapter.inspect_public_key(just_fits, now=now()).fingerprint == keys.alice.fingerprint


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300).map(
            lambda b: (
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
                + base64.b64encode(b).decode()
                + "\n-----END PGP PUBLIC KEY BLOCK-----\n"
            )
        ),
    )
)
def test_any_input_is_accepted_or_rejected_cleanly(text: str) -> None:
    assert _outcome(text) in {"accepted", *RejectReason}


def _outcome(text: str) -> str:
    try:
        SequoiaOpenPGP().inspect_public_key(text, now=now())
    except KeyRejected as error:
        return error.reason
    return "accepted"


# -- generate, encrypt, decrypt ------------------------------------------------------------


def test_generate_key(adapter: SequoiaOpenPGP) -> None:
    public, secret = adapter.generate_key("Dana <dana@example.org>")
    assert public.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert secret.startswith("-----BEGIN PGP PRIVATE KEY BLOCK-----")
    assert all(
        p.tag not in (Tag.SecretKey, Tag.SecretSubkey)
        for p in PacketPile.from_bytes(public.encode())
    )
    assert rejection(adapter, secret).reason == RejectReason.SECRET_KEY
    assert adapter.generate_key("Dana <dana@example.org>")[0] != public  # fresh key each time
    with pytest.raises(ValueError, match="user_id must not be empty"):
        adapter.generate_key("  ")


def test_encrypt_decrypt_round_trip_to_two_recipients(adapter: SequoiaOpenPGP) -> None:
    one, one_secret = adapter.generate_key("One <one@example.org>")
    two, two_secret = adapter.generate_key("Two <two@example.org>")
    plaintext = "Embargo ends 2031-01-01 — ünïcode\n".encode() + bytes(range(256))
    message = adapter.encrypt(plaintext, recipients=[one, two])
    assert message.startswith("-----BEGIN PGP MESSAGE-----")
    assert adapter.decrypt(message, secret_key=one_secret) == plaintext
    assert adapter.decrypt(message, secret_key=two_secret) == plaintext
    assert adapter.decrypt(adapter.encrypt(b"", recipients=[one]), secret_key=one_secret) == b""


def test_decrypt_with_the_wrong_key(adapter: SequoiaOpenPGP) -> None:
    one, _ = adapter.generate_key("One <one@example.org>")
    _, other_secret = adapter.generate_key("Other <other@example.org>")
    message = adapter.encrypt(b"secret", recipients=[one])
    with pytest.raises(DecryptionFailed, match="could not be decrypted with this key") as caught:
        adapter.decrypt(message, secret_key=other_secret)
    assert caught.value.code == "undecryptable"


def test_unencrypted_messages_are_refused_not_passed_through(
    adapter: SequoiaOpenPGP, keys: Keys
) -> None:
    _, secret = adapter.generate_key("Eve <eve@example.org>")
    tsk = pysequoia.Tsk.from_bytes(secret.encode())
    stored = keys.gpg.run("--armor", "--store", stdin=b"plain words").decode()
    signed = pysequoia.sign(tsk.signer(), b"signed words").decode()
    for message in (stored, signed):
        assert pysequoia.decrypt(message.encode(), decryptor=tsk.decryptor()).bytes  # the trap
        with pytest.raises(DecryptionFailed, match="The message is not encrypted"):
            adapter.decrypt(message, secret_key=secret)


@pytest.mark.parametrize("message", ["", "hello", "-----BEGIN PGP MESSAGE-----\n\nAAAA\n"])
def test_decrypt_garbage(adapter: SequoiaOpenPGP, message: str) -> None:
    _, secret = adapter.generate_key("G <g@example.org>")
    with pytest.raises(DecryptionFailed):
        adapter.decrypt(message, secret_key=secret)


def test_decrypt_needs_a_secret_key(adapter: SequoiaOpenPGP) -> None:
    public, _ = adapter.generate_key("P <p@example.org>")
    message = adapter.encrypt(b"x", recipients=[public])
    for not_secret in (public, "nonsense"):
        with pytest.raises(ValueError, match="no usable"):
            adapter.decrypt(message, secret_key=not_secret)


def test_encrypt_needs_recipients(adapter: SequoiaOpenPGP) -> None:
    with pytest.raises(ValueError, match="at least one recipient"):
        adapter.encrypt(b"x", recipients=[])


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("expired", RejectReason.EXPIRED),
        ("subkey_expired", RejectReason.ENCRYPTION_KEY_EXPIRED),
        ("revoked", RejectReason.REVOKED),
        ("sign_only", RejectReason.NO_ENCRYPTION_KEY),
    ],
)
def test_encrypt_refuses_unusable_recipients(
    adapter: SequoiaOpenPGP, keys: Keys, key: str, reason: RejectReason
) -> None:
    # pysequoia alone would encrypt to the first three (expired-subkey fallback, no revocation
    # check); the adapter re-checks every recipient first.
    gpg_key: GpgKey = getattr(keys, key)
    with pytest.raises(KeyRejected) as caught:
        adapter.encrypt(b"x", recipients=[keys.alice.public, gpg_key.public])
    assert caught.value.reason == reason


def test_a_checked_key_is_checked_again_once_it_expires(
    adapter: SequoiaOpenPGP, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # encrypt() remembers a key it has checked, but only until its validity can change.
    expires = keys.alice.expires_at
    assert expires is not None
    moments = iter([expires - timedelta(days=1), expires - timedelta(seconds=1), expires])
    monkeypatch.setattr("lockstep.mailgw.crypto.openpgp.clock.now", lambda: next(moments))
    adapter.encrypt(b"x", recipients=[keys.alice.public])
    adapter.encrypt(b"x", recipients=[keys.alice.public])  # remembered
    with pytest.raises(KeyRejected) as caught:
        adapter.encrypt(b"x", recipients=[keys.alice.public])
    assert caught.value.reason == RejectReason.EXPIRED


def test_a_checked_key_is_not_trusted_at_an_earlier_moment(
    adapter: SequoiaOpenPGP, monkeypatch: pytest.MonkeyPatch
) -> None:
    public, _ = adapter.generate_key("Fresh <fresh@example.org>")
    adapter.encrypt(b"x", recipients=[public])
    monkeypatch.setattr(
        "lockstep.mailgw.crypto.openpgp.clock.now", lambda: now() - timedelta(days=1)
    )
    with pytest.raises(KeyRejected):  # not yet bound a day ago: checked again, not remembered
        adapter.encrypt(b"x", recipients=[public])


# -- interoperability with GnuPG -----------------------------------------------------------


@pytest.mark.parametrize("key", ["alice", "rsa"])
def test_gnupg_decrypts_what_we_encrypt(adapter: SequoiaOpenPGP, keys: Keys, key: str) -> None:
    gpg_key: GpgKey = getattr(keys, key)
    plaintext = b"Lockstep to GnuPG\n" + os.urandom(64)
    message = adapter.encrypt(plaintext, recipients=[gpg_key.public])
    assert keys.gpg.run("--decrypt", stdin=message.encode()) == plaintext


def test_we_decrypt_what_gnupg_encrypts_to_our_key(adapter: SequoiaOpenPGP, keys: Keys) -> None:
    public, secret = adapter.generate_key("Gen <gen@example.org>")
    keys.gpg.run("--import", stdin=public.encode())
    plaintext = b"GnuPG to Lockstep\n" + os.urandom(64)
    message = keys.gpg.run("--encrypt", "--armor", "-r", "<gen@example.org>", stdin=plaintext)
    assert message.startswith(b"-----BEGIN PGP MESSAGE-----")
    assert adapter.decrypt(message.decode(), secret_key=secret) == plaintext


def test_gnupg_reads_our_secret_key_and_mail_we_encrypt_to_it(
    adapter: SequoiaOpenPGP, keys: Keys
) -> None:
    """Keys from generate_key advertise SEIPD v1 only (keygen.py), so Sequoia encrypts to them
    as to keys made by GnuPG, with v3 PKESK + SEIPD v1, and GnuPG 2.2 reads that (it cannot
    read the v6 PKESK + SEIPD v2 Sequoia sends to keys that advertise SEIPD v2)."""
    public, secret = adapter.generate_key("Imp <imp@example.org>")
    keys.gpg.run("--import", stdin=secret.encode())
    ours = adapter.encrypt(b"x", recipients=[public])
    theirs = adapter.encrypt(b"x", recipients=[keys.alice.public])
    assert [_first_packet_version(m) for m in (ours, theirs)] == [3, 3]
    assert keys.gpg.run("--decrypt", stdin=ours.encode()) == b"x"


def _first_packet_version(armored_message: str) -> int:
    first: Packet = next(iter(PacketPile.from_bytes(armored_message.encode())))
    assert first.tag == Tag.PKESK
    return first.body[0]
