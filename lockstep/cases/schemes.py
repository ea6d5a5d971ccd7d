"""How each ecosystem orders its versions: `parse_version(purl_type, text)`.

`SCHEMES` maps purl types to version classes (mostly `univers`); purl types missing from it use
`_GenericVersion`: runs of digits compare as numbers, words as pre-releases (see `_token_key`).
`parse_version` returns None for text the scheme cannot parse; comparisons of parsed versions
can still raise one of `VERSION_ERRORS`, which callers treat as "no match".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from itertools import zip_longest
from typing import ClassVar

from typing_extensions import override
from univers.nuget import InvalidNuGetVersion
from univers.versions import (
    AlpineLinuxVersion,
    DebianVersion,
    GolangVersion,
    MavenVersion,
    NugetVersion,
    PypiVersion,
    RpmVersion,
    RubygemsVersion,
    SemverVersion,
    Version,
)

from lockstep.cases.affected import MAX_VERSION

# What univers' parsers and comparisons raise on strings they do not accept. NuGet's error
# derives from Exception, not ValueError; Maven and RPM comparisons can raise Runtime/TypeError.
VERSION_ERRORS = (ValueError, TypeError, RuntimeError, AttributeError, InvalidNuGetVersion)


# ---------------------------------------------------------------------------------------------
# Version schemes


def _strip_build(text: str) -> str:
    """Drop semver build metadata ("+build"): it does not take part in precedence."""
    return text.split("+", 1)[0]


def _drop_v(text: str) -> str:
    """Remove one leading "v" before a digit ("v1.2" -> "1.2")."""
    stripped = "".join(text.split())
    if stripped[:1] in {"v", "V"} and stripped[1:2].isdigit():
        return stripped[1:]
    return stripped


class _SemverVersion(SemverVersion):
    """SemVer 2.0 as npm, crates.io and Hex use it: build metadata is ignored when ordering."""

    @override
    @classmethod
    def normalize(cls, string: str) -> str:
        return _strip_build(_drop_v(string))


class _GolangVersion(GolangVersion):
    """Go module versions: "v1.2.3" and "1.2.3" are equal; "+incompatible" is ignored."""

    @override
    @classmethod
    def normalize(cls, string: str) -> str:
        return _strip_build(_drop_v(string))


_Token = tuple[int, int, str]
# A missing token compares as the number 0, so "1.0" == "1.0.0" and "1.0rc1" < "1.0".
_PAD: _Token = (1, 0, "")
_TOKENS = re.compile(r"[0-9]+|[a-z]+")


@functools.total_ordering
class _TokenKey:
    """Comparable value of a version split into tokens; shorter keys are padded with zeros."""

    __slots__ = ("tokens",)

    def __init__(self, tokens: tuple[_Token, ...]) -> None:
        end = len(tokens)
        while end and tokens[end - 1] == _PAD:
            end -= 1
        self.tokens = tokens[:end]

    @override
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _TokenKey):
            return NotImplemented
        return self.tokens == other.tokens

    def __lt__(self, other: _TokenKey) -> bool:
        for mine, theirs in zip_longest(self.tokens, other.tokens, fillvalue=_PAD):
            if mine != theirs:
                return mine < theirs
        return False

    @override
    def __hash__(self) -> int:
        return hash(self.tokens)


def _token_key(text: str, words: dict[str, int], *, strict: bool) -> _TokenKey:
    """Split `text` into runs of digits and of letters; everything else separates.

    A number N is (1, N, ""). A word in `words` with a rank below 0 is a pre-release and sorts
    below any number or end of version: (0, 100 + rank, word); rank 0 means "ignore this word";
    a rank above 0 is a post-release, just above a 0 in that place: (1, 0, word). A word not in
    `words` is an error when `strict`, else an unranked pre-release (0, 0, word) ordered by
    spelling. When `strict`, the version must also start with a number.
    """
    tokens: list[_Token] = []
    for run in _TOKENS.findall(text.lower()):
        if run.isdigit():
            tokens.append((1, int(run), ""))
            continue
        rank = words.get(run)
        if rank is None:
            if strict:
                raise ValueError(f"unknown word {run!r} in version {text!r}")
            tokens.append((0, 0, run))
        elif rank < 0:
            tokens.append((0, 100 + rank, run))
        elif rank > 0:
            tokens.append((1, 0, run))
    if not tokens:
        raise ValueError(f"version {text!r} has neither digits nor letters")
    if strict and tokens[0][0] != 1:
        raise ValueError(f"version {text!r} does not start with a number")
    return _TokenKey(tuple(tokens))


# Words of the generic scheme: dev < alpha < beta < rc < release < post.
_GENERIC_WORDS = {
    "dev": -5,
    "snapshot": -5,
    "alpha": -4,
    "a": -4,
    "beta": -3,
    "b": -3,
    "pre": -2,
    "preview": -2,
    "c": -2,
    "rc": -2,
    "cr": -2,
    "final": 0,
    "ga": 0,
    "release": 0,
    "post": 1,
    "patch": 1,
    "pl": 1,
    "p": 1,
    "r": 1,
    "rev": 1,
}
# Composer's stability flags (its VersionParser): dev < alpha < beta < RC < stable < patch.
_COMPOSER_WORDS = {
    "dev": -5,
    "alpha": -4,
    "a": -4,
    "beta": -3,
    "b": -3,
    "rc": -2,
    "stable": 0,
    "patch": 1,
    "pl": 1,
    "p": 1,
}


class _GenericVersion(Version):
    """Fallback for schemes univers does not cover (e.g. CRAN "1.2-3", Hackage "1.2.3.4").

    Any string with a letter or digit parses. Digits compare as numbers (1.10 > 1.9), missing
    parts as 0 (1.0 == 1.0.0), known pre-release words below the release (1.0rc1 < 1.0),
    post-release words just above it (1.0 < 1.0.post1 < 1.0.1), other words like pre-releases,
    by spelling ("build-7" < "build-8"); case and punctuation are ignored.
    """

    words: ClassVar[dict[str, int]] = _GENERIC_WORDS
    strict: ClassVar[bool] = False

    @override
    @classmethod
    def normalize(cls, string: str) -> str:
        return _drop_v(string)

    @override
    @classmethod
    def is_valid(cls, string: str) -> bool:
        try:
            _token_key(string, cls.words, strict=cls.strict)
        except ValueError:
            return False
        return True

    @override
    @classmethod
    def build_value(cls, string: str) -> _TokenKey:
        return _token_key(string, cls.words, strict=cls.strict)


class _ComposerVersion(_GenericVersion):
    """Composer (Packagist): numbers (1.0 == 1.0.0.0), then Composer's stability flags.

    univers' ComposerVersion is plain semver and so orders "1.0-RC1" below "1.0-beta".
    Branch names ("dev-main", "2.x-dev") are not versions that can be ordered and do not parse.
    """

    words: ClassVar[dict[str, int]] = _COMPOSER_WORDS
    strict: ClassVar[bool] = True


@dataclass(frozen=True)
class Scheme:
    label: str
    version_class: type[Version]
    example: str


_GENERIC = Scheme("generic", _GenericVersion, "1.2.3")
_SEMVER = Scheme("SemVer", _SemverVersion, "1.2.3")

# How each purl type orders its versions. Types not listed here use _GENERIC.
SCHEMES: dict[str, Scheme] = {
    "pypi": Scheme("PEP 440", PypiVersion, "2.4.1"),
    "npm": _SEMVER,
    "cargo": _SEMVER,
    "hex": _SEMVER,
    "swift": _SEMVER,
    # Pub orders build metadata ("1.0.0+1" > "1.0.0"), so it keeps univers' semver as is.
    "pub": Scheme("SemVer", SemverVersion, "1.2.3"),
    "golang": Scheme("Go module", _GolangVersion, "v1.2.3"),
    "gem": Scheme("RubyGems", RubygemsVersion, "1.2.3"),
    "maven": Scheme("Maven", MavenVersion, "1.2.3"),
    "nuget": Scheme("NuGet", NugetVersion, "1.2.3"),
    "composer": Scheme("Composer", _ComposerVersion, "1.2.3"),
    "deb": Scheme("Debian", DebianVersion, "1:1.2.3-1"),
    "apk": Scheme("Alpine", AlpineLinuxVersion, "1.2.3-r0"),
    "rpm": Scheme("RPM", RpmVersion, "1.2.3-1.el9"),
}


# SemVer 2.0.0, as given by semver.org (no leading "v"): what OSV's SEMVER ranges hold.
_SEMVER_TEXT = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
SEMVER_SCHEME = Scheme("SemVer 2.0", _SemverVersion, "1.2.3, without a leading v")


def is_semver(version: str) -> bool:
    return bool(_SEMVER_TEXT.match(version))


def scheme_for(purl_type: str) -> Scheme:
    return SCHEMES.get(purl_type, _GENERIC)


@functools.lru_cache(maxsize=8192)
def parse_version(purl_type: str, text: str) -> Version | None:
    """The version `text` in the scheme of `purl_type`, or None if it does not parse."""
    if not text or len(text) > MAX_VERSION or any(ch.isspace() for ch in text):
        return None
    try:
        return scheme_for(purl_type).version_class(text)
    except VERSION_ERRORS:
        return None
