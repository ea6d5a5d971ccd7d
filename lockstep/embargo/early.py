"""Releasing before the disclosure date (the FAQ's last paragraph): the two options, and the
neutral changelog text for the one chosen. Pure: values in, text out.

A project that must ship before the date has two honest options. It can release without the
fix. Or it can release with the fix but say nothing of its security impact. The second is
discouraged: the source change itself tells an attacker where to look, so the embargo may
effectively end with the release.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lockstep.core.errors import ValidationError

VERSION_MAX = 128


class EarlyOption(StrEnum):
    WITHOUT_FIX = "without_fix"
    SILENT_FIX = "silent_fix"


@dataclass(frozen=True)
class OptionAdvice:
    option: EarlyOption
    title: str
    discouraged: bool
    explanation: str


OPTIONS: tuple[OptionAdvice, ...] = (
    OptionAdvice(
        EarlyOption.WITHOUT_FIX,
        "Release without the fix",
        discouraged=False,
        explanation=(
            "Ship the release as planned and leave the fix out. The fix ships in a release "
            "at the disclosure date. Nothing in this release points at the vulnerability."
        ),
    ),
    OptionAdvice(
        EarlyOption.SILENT_FIX,
        "Release with the fix, without mentioning its security impact",
        discouraged=True,
        explanation=(
            "Discouraged. The changed source code tells anyone who reads it where the "
            "vulnerability is, so attackers can find it before users know to upgrade. Choose "
            "this only when the release cannot wait and cannot leave the fix out. Tell the "
            "list: the embargo may have to end early if someone notices."
        ),
    ),
)


def advice_for(option: EarlyOption) -> OptionAdvice:
    return next(advice for advice in OPTIONS if advice.option == option)


def parse_option(raw: str) -> EarlyOption:
    try:
        return EarlyOption(raw)
    except ValueError:
        choices = ", ".join(o.value for o in EarlyOption)
        raise ValidationError(f"Choose one of: {choices}.", field="option") from None


def check_version(raw: str) -> str:
    version = raw.strip()
    if not version or len(version) > VERSION_MAX or any(ch.isspace() for ch in version):
        msg = f"Give the release's version, without spaces (at most {VERSION_MAX} characters)."
        raise ValidationError(msg, field="version")
    return version


def neutral_changelog(option: EarlyOption, *, project: str, version: str) -> str:
    """Changelog text that says nothing a reader could connect to the embargoed issue.

    Neither text names a component, a symptom or the word "security": any of them would point
    at the vulnerability before the date.
    """
    if option == EarlyOption.WITHOUT_FIX:
        lines = [
            f"{project} {version}",
            "",
            "* Maintenance release: bug fixes and improvements listed in the release notes.",
        ]
    else:
        lines = [
            f"{project} {version}",
            "",
            "* Bug fixes and robustness improvements.",
            "* All users are encouraged to upgrade.",
        ]
    return "\n".join(lines) + "\n"


def participant_warning(option: EarlyOption, *, project: str, version: str) -> str:
    """What every participant is told when the upstream records an early release."""
    if option == EarlyOption.WITHOUT_FIX:
        return (
            f"{project} {version} will be released before the disclosure date WITHOUT the fix. "
            "The embargo and its date are unchanged; the fix ships at the date. The release "
            "notes will not mention the issue."
        )
    return (
        f"{project} {version} will be released before the disclosure date WITH the fix, and "
        "its release notes will not mention any security impact. The code change is public "
        "from that moment and may reveal the issue: watch for signs of a leak, and be ready "
        "for the embargo to end early. This option is discouraged."
    )
