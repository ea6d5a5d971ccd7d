"""Package URL checks (pure): a project's package is a purl without a version; `package_key`
is the canonical form packages are compared by (project packages, advisories, queries)."""

from __future__ import annotations

import functools
import re

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


_PEP503 = re.compile(r"[-_.]+")


def key_of(parsed: PackageURL) -> str:
    name = str(parsed.name)
    if parsed.type == "pypi":
        name = _PEP503.sub("-", name).lower()
    bare = PackageURL(type=parsed.type, namespace=parsed.namespace, name=name)
    return str(bare.to_string())


@functools.lru_cache(maxsize=8192)
def package_key(purl: str) -> str:
    """The canonical versionless purl that packages are compared, indexed and matched by.

    The purl is normalised as `normalise_package_purl` does (packageurl's canonical form), then:
    any version, qualifiers and subpath are dropped (they do not change which package it is),
    and PyPI names are normalised per PEP 503 ("Foo_Bar.baz" -> "foo-bar-baz"), which
    packageurl only partly does. Raises ValidationError if invalid.
    """
    return key_of(parse_package_url(purl, field="purl", example="pkg:pypi/jinja2"))
