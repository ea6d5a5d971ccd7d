"""CVE rules as pure functions: ID syntax, the local block setting, states, retries, staleness.

No ORM, no I/O, no clock: `now` is always a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lockstep.core.errors import Conflict, ValidationError
from lockstep.cve.models import CveState

# CVE JSON 5: "CVE-" + a year + "-" + 4 to 19 digits.
_CVE_ID = re.compile(r"CVE-(?P<year>[0-9]{4})-(?P<number>[0-9]{4,19})")
FIRST_YEAR = 1999  # the first CVE IDs
# The allocator keeps numbers in a 64-bit column; real blocks are far smaller.
MAX_BLOCK_NUMBER = 2**63 - 1
BLOCK_SETTING = "LOCKSTEP_CVE_BLOCK"

# CNA rule: the record is public within 72 hours of the issue becoming public.
STALE_AFTER = timedelta(hours=72)

# Retry delays after the 1st, 2nd, 3rd, 4th and later failed pushes to CVE Services.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


# RESERVED -> PUBLISHED, RESERVED -> REJECTED, PUBLISHED -> REJECTED; never back to RESERVED.
TRANSITIONS: dict[str, frozenset[str]] = {
    CveState.RESERVED: frozenset({CveState.PUBLISHED, CveState.REJECTED}),
    CveState.PUBLISHED: frozenset({CveState.REJECTED}),
    CveState.REJECTED: frozenset(),
}

_REFUSALS: dict[tuple[str, str], str] = {
    (CveState.PUBLISHED, CveState.PUBLISHED): "{cve} is already published; update its record "
    "instead.",
    (CveState.REJECTED, CveState.PUBLISHED): "{cve} was rejected; a rejected ID is never "
    "published.",
    (CveState.REJECTED, CveState.REJECTED): "{cve} is already rejected.",
}


@dataclass(frozen=True, order=True)
class CveIdParts:
    year: int
    number: int

    @property
    def text(self) -> str:
        return format_cve_id(self.year, self.number)


def format_cve_id(year: int, number: int) -> str:
    """The canonical spelling: at least four digits, zero-padded below 1000."""
    return f"CVE-{year}-{number:04d}"


def parse_cve_id(text: str, *, field: str = "cve_id") -> CveIdParts:
    """Split `CVE-YYYY-NNNN…` into its year and number; ValidationError says what is wrong."""
    found = _CVE_ID.fullmatch(text.strip())
    if found is None:
        msg = (
            f"{text.strip()[:40]!r} is not a CVE ID: it is spelt CVE-YYYY-NNNN, "
            "with a four-digit year and 4 to 19 digits (for example CVE-2026-1234)."
        )
        raise ValidationError(msg, field=field)
    year, number = int(found["year"]), int(found["number"])
    if year < FIRST_YEAR:
        msg = f"{text.strip()} has the year {year}; CVE IDs start in {FIRST_YEAR}."
        raise ValidationError(msg, field=field)
    return CveIdParts(year, number)


def is_cve_id(text: str) -> bool:
    try:
        parse_cve_id(text)
    except ValidationError:
        return False
    return True


@dataclass(frozen=True)
class BlockRange:
    """A run of consecutive IDs of one year held by this CNA, both ends included."""

    year: int
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def text(self) -> str:
        return f"{format_cve_id(self.year, self.first)}..{format_cve_id(self.year, self.last)}"

    def overlaps(self, other: BlockRange) -> bool:
        return self.year == other.year and self.first <= other.last and other.first <= self.last


def _block_error(message: str) -> ValidationError:
    return ValidationError(f"{BLOCK_SETTING}: {message}", field=BLOCK_SETTING)


def _parse_range(item: str) -> BlockRange:
    ends = [end.strip() for end in item.split("..")]
    if len(ends) > 2:  # noqa: PLR2004 - a range has two ends
        msg = f"{item!r} is not a range: write FIRST..LAST, e.g. CVE-2026-50000..CVE-2026-50999."
        raise _block_error(msg)
    try:
        first = parse_cve_id(ends[0])
        last = parse_cve_id(ends[-1])
    except ValidationError as exc:
        raise _block_error(exc.message) from None
    if first.year != last.year:
        msg = f"{item!r} spans two years; write one range per year."
        raise _block_error(msg)
    if first.number > last.number:
        msg = f"{item!r} ends before it starts."
        raise _block_error(msg)
    if last.number > MAX_BLOCK_NUMBER:
        msg = f"{item!r} goes beyond {MAX_BLOCK_NUMBER}, the largest number this instance keeps."
        raise _block_error(msg)
    return BlockRange(first.year, first.number, last.number)


def parse_block(setting: str) -> tuple[BlockRange, ...]:
    """Parse `LOCKSTEP_CVE_BLOCK`: comma-separated `FIRST..LAST` ranges (or single IDs).

    `""` is no block at all. Ranges must not overlap; their order is kept (it is the order
    in which IDs of one year are handed out).
    """
    ranges: list[BlockRange] = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        block = _parse_range(item)
        for earlier in ranges:
            if block.overlaps(earlier):
                msg = f"{block.text} overlaps {earlier.text}."
                raise _block_error(msg)
        ranges.append(block)
    return tuple(ranges)


def allocation_order(ranges: Sequence[BlockRange], year: int) -> list[BlockRange]:
    """Ranges to draw from: those of `year` first, then the others, each in setting order.

    An ID's year says when it was reserved, not when the issue was found or published, so
    the current year's range is preferred; a CNA whose block for the new year has not come
    yet keeps using last year's.
    """
    return [r for r in ranges if r.year == year] + [r for r in ranges if r.year != year]


def first_free(block: BlockRange, used: Iterable[int]) -> int | None:
    """The lowest number of `block` not in `used` (any order, may hold numbers outside it)."""
    taken = sorted({n for n in used if block.first <= n <= block.last})
    candidate = block.first
    for number in taken:
        if number != candidate:
            break
        candidate += 1
    return candidate if candidate <= block.last else None


def allowed_transitions(state: str) -> frozenset[str]:
    return TRANSITIONS.get(state, frozenset())


def check_transition(cve: str, current: str, target: str) -> None:
    """Raise Conflict, saying why, unless `current -> target` is allowed."""
    if target in allowed_transitions(current):
        return
    template = _REFUSALS.get(
        (current, target),
        "{cve} cannot go from {current} to {target}: an ID is never returned to reserved.",
    )
    raise Conflict(template.format(cve=cve, current=current, target=target))


def check_reject_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        msg = "Say why the ID is rejected (it is shown in the public record)."
        raise ValidationError(msg, field="reason")
    return text


def check_record(record: Any, *, due_at: datetime) -> None:  # noqa: ANN401 - JSON from callers
    """A record to hold must be a JSON object whose `datePublic` is not after its due time.

    CVE Services refuses a `datePublic` in the future, so a record pushed at `due_at` must
    not claim a later one. The schema itself is checked by the client (`check_cve_record`).
    """
    if not isinstance(record, dict) or not record:
        msg = "A CVE record is a JSON object (the CNA container or the whole CVE JSON 5 record)."
        raise ValidationError(msg, field="record")
    container = cna_container(record)
    date_public = container.get("datePublic")
    if date_public is None:
        return
    try:
        when = datetime.fromisoformat(str(date_public))
    except ValueError:
        msg = f"datePublic {date_public!r} is not an ISO 8601 date-time."
        raise ValidationError(msg, field="record") from None
    if when.tzinfo is None:  # the schema says: no offset means UTC
        when = when.replace(tzinfo=UTC)
    if when > due_at:
        msg = (
            f"datePublic ({date_public}) is after the time the record is to be published "
            f"({due_at.isoformat()}); CVE Services refuses a date in the future."
        )
        raise ValidationError(msg, field="record")


def cna_container(record: dict[str, Any]) -> dict[str, Any]:
    """The CNA container of a whole CVE JSON 5 record, or the record if it is one already."""
    if record.get("dataType") == "CVE_RECORD":
        containers = record.get("containers")
        cna = containers.get("cna") if isinstance(containers, dict) else None
        if not isinstance(cna, dict):
            msg = "The CVE record has no containers.cna object."
            raise ValidationError(msg, field="record")
        return cna
    return record


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed push (1 min, 5 min, 30 min, 2 h…)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def stale_reserved(now: datetime, published_at: datetime | None) -> bool:
    """An ID still RESERVED more than 72 hours after its issue became public breaks the CNA
    rule (publish within 72 hours of disclosure): the dashboard warns about it."""
    return published_at is not None and now - published_at > STALE_AFTER
