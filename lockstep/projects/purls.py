"""Package URL checks (pure): a project's package is a purl without a version."""

from __future__ import annotations

from packageurl import PackageURL

from lockstep.core.errors import ValidationError

PURL_MAX_LENGTH = 512


def parse_package_url(text: str, *, field: str, example: str = "pkg:pypi/requests") -> PackageURL:
    """The Package URL in `text` (surrounding space ignored), or ValidationError naming `field`."""
    raw = text.strip()
    if not raw:
        raise ValidationError(f"Give a Package URL, e.g. {example}.", field=field)
    if len(raw) > PURL_MAX_LENGTH:
        msg = f"A Package URL may be at most {PURL_MAX_LENGTH} characters long."
        raise ValidationError(msg, field=field)
    try:
        return PackageURL.from_string(raw)
    except ValueError as exc:
        msg = f"{raw!r} is not a valid Package URL ({exc}). Example: pkg:npm/%40scope/name."
        raise ValidationError(msg, field=field) from None


def normalise_package_purl(text: str, *, field: str = "purl") -> str:
    """Return the canonical form of a versionless Package URL, or raise ValidationError."""
    raw = text.strip()
    purl = parse_package_url(raw, field=field)
    if purl.version:
        msg = (
            f"{raw!r} names version {purl.version}; a project's package is identified "
            f"without a version (pkg:{purl.type}/...{purl.name}). Versions belong to advisories."
        )
        raise ValidationError(msg, field=field)
    return str(purl.to_string())
