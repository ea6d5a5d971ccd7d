"""security.txt (RFC 9116): exact output, and each refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lockstep.core.errors import ValidationError
from lockstep.intake.securitytxt import SecurityTxt, recommended_expires, render_security_txt

NOW = datetime(2026, 11, 25, 14, 30, 15, 123, tzinfo=UTC)


def test_full_document_in_rfc_order() -> None:
    doc = SecurityTxt(
        contacts=("security@libquokka.example", "https://lockstep.example/projects/q/report/"),
        expires=datetime(2027, 5, 24, 16, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        encryption=("https://lockstep.example/projects/q/openpgp.asc",),
        acknowledgments=("https://libquokka.example/thanks",),
        policy=("https://libquokka.example/security",),
        preferred_languages=("en", "de"),
        canonical=("https://lockstep.example/projects/q/security.txt",),
        hiring=("https://libquokka.example/jobs",),
        comment="security.txt for libquokka",
    )
    assert render_security_txt(doc, now=NOW) == (
        "# security.txt for libquokka\n"
        "Contact: mailto:security@libquokka.example\n"
        "Contact: https://lockstep.example/projects/q/report/\n"
        "Expires: 2027-05-24T14:00:00Z\n"
        "Encryption: https://lockstep.example/projects/q/openpgp.asc\n"
        "Acknowledgments: https://libquokka.example/thanks\n"
        "Preferred-Languages: en, de\n"
        "Canonical: https://lockstep.example/projects/q/security.txt\n"
        "Policy: https://libquokka.example/security\n"
        "Hiring: https://libquokka.example/jobs\n"
    )


def test_minimal_document() -> None:
    doc = SecurityTxt(contacts=("tel:+1-201-555-0123",), expires=recommended_expires(NOW))
    assert render_security_txt(doc, now=NOW) == (
        "Contact: tel:+1-201-555-0123\nExpires: 2027-05-24T14:30:15Z\n"
    )


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (SecurityTxt(contacts=(), expires=NOW + timedelta(days=1)), "Contact"),
        (SecurityTxt(contacts=("ftp://x",), expires=NOW + timedelta(days=1)), "Contact"),
        (SecurityTxt(contacts=("a@b.example",), expires=NOW), "Expires"),
        (SecurityTxt(contacts=("a@b.example",), expires=NOW.replace(tzinfo=None)), "Expires"),
        (
            SecurityTxt(contacts=("a@b.example\nContact: evil",), expires=NOW + timedelta(1)),
            "Contact",
        ),
        (
            SecurityTxt(
                contacts=("a@b.example",), expires=NOW + timedelta(1), policy=("http://x",)
            ),
            "Policy",
        ),
        (
            SecurityTxt(
                contacts=("a@b.example",), expires=NOW + timedelta(1), encryption=("ftp://k",)
            ),
            "Encryption",
        ),
    ],
)
def test_refusals(doc: SecurityTxt, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        render_security_txt(doc, now=NOW)
    assert caught.value.field == field


def test_openpgp4fpr_encryption_is_accepted() -> None:
    doc = SecurityTxt(
        contacts=("a@b.example",),
        expires=NOW + timedelta(days=1),
        encryption=("openpgp4fpr:0AEFD7C8C22BA2797A5CFA94868CEC4659457BDB",),
    )
    assert "Encryption: openpgp4fpr:0AEF" in render_security_txt(doc, now=NOW)


def test_notes_are_comment_lines_after_the_first() -> None:
    doc = SecurityTxt(
        contacts=("mailto:security-q@lists.example",),
        expires=NOW + timedelta(days=1),
        comment="security.txt for Lockstep",
        notes=("Mail about a project: security-<project>@lists.example", "Second note"),
    )
    assert render_security_txt(doc, now=NOW).splitlines()[:4] == [
        "# security.txt for Lockstep",
        "# Mail about a project: security-<project>@lists.example",
        "# Second note",
        "Contact: mailto:security-q@lists.example",
    ]
    forged = SecurityTxt(
        contacts=("a@b.example",), expires=NOW + timedelta(days=1), notes=("x\nContact: evil",)
    )
    with pytest.raises(ValidationError):
        render_security_txt(forged, now=NOW)
