"""The CVE rules: ID syntax, the block setting, states, retries, staleness, record checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockstep.core.errors import Conflict, ValidationError
from lockstep.cve.models import CveState
from lockstep.cve.policy import (
    BlockRange,
    CveIdParts,
    allocation_order,
    allowed_transitions,
    check_record,
    check_reject_reason,
    check_transition,
    cna_container,
    first_free,
    format_cve_id,
    is_cve_id,
    parse_block,
    parse_cve_id,
    retry_delay,
    stale_reserved,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "year", "number"),
    [
        ("CVE-2026-1234", 2026, 1234),
        ("CVE-1999-0001", 1999, 1),
        ("  CVE-2026-50000 ", 2026, 50000),
        ("CVE-2026-" + "9" * 19, 2026, int("9" * 19)),
    ],
)
def test_valid_cve_ids(text: str, year: int, number: int) -> None:
    assert parse_cve_id(text) == CveIdParts(year, number)
    assert is_cve_id(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("CVE-2026-123", "4 to 19 digits"),
        ("CVE-2026-" + "1" * 20, "4 to 19 digits"),
        ("cve-2026-1234", "spelt CVE-YYYY-NNNN"),
        ("CVE-26-1234", "four-digit year"),
        ("CVE-2026-12a4", "not a CVE ID"),
        ("GHSA-xxxx-yyyy-zzzz", "not a CVE ID"),
        ("", "not a CVE ID"),
        ("CVE-1998-1234", "CVE IDs start in 1999"),
    ],
)
def test_invalid_cve_ids_say_why(text: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why) as raised:
        parse_cve_id(text)
    assert raised.value.field == "cve_id"
    assert not is_cve_id(text)


def test_formatting_pads_to_four_digits_only() -> None:
    assert format_cve_id(2026, 7) == "CVE-2026-0007"
    assert format_cve_id(2026, 123456) == "CVE-2026-123456"
    assert CveIdParts(2026, 42).text == "CVE-2026-0042"


@given(st.integers(1999, 9999), st.integers(0, 10**19 - 1))
def test_format_then_parse_round_trips(year: int, number: int) -> None:
    assert parse_cve_id(format_cve_id(year, number)) == CveIdParts(year, number)


def test_block_with_several_ranges_and_years() -> None:
    ranges = parse_block(
        "CVE-2026-50000..CVE-2026-50999, CVE-2027-1000..CVE-2027-1999,,CVE-2026-0007..CVE-2026-0007"
    )
    assert ranges == (
        BlockRange(2026, 50000, 50999),
        BlockRange(2027, 1000, 1999),
        BlockRange(2026, 7, 7),
    )
    assert ranges[0].size == 1000
    assert ranges[0].text == "CVE-2026-50000..CVE-2026-50999"


def test_single_id_is_a_range_of_one_and_empty_is_no_block() -> None:
    assert parse_block("CVE-2026-1234") == (BlockRange(2026, 1234, 1234),)
    assert parse_block("") == ()
    assert parse_block(" , ") == ()


@pytest.mark.parametrize(
    ("setting", "why"),
    [
        ("CVE-2026-1..CVE-2026-2", "not a CVE ID"),
        ("CVE-2026-1000..CVE-2026-2000..CVE-2026-3000", "not a range"),
        ("CVE-2026-1000..CVE-2027-2000", "spans two years"),
        ("CVE-2026-2000..CVE-2026-1000", "ends before it starts"),
        ("CVE-2026-1000..CVE-2026-" + "9" * 19, "largest number"),
        ("CVE-2026-1000..CVE-2026-1999,CVE-2026-1500..CVE-2026-2500", "overlaps"),
        ("1000-1999", "not a CVE ID"),
    ],
)
def test_bad_block_settings_name_the_setting(setting: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why) as raised:
        parse_block(setting)
    assert raised.value.message.startswith("LOCKSTEP_CVE_BLOCK: ")
    assert raised.value.field == "LOCKSTEP_CVE_BLOCK"


def test_same_numbers_in_two_years_do_not_overlap() -> None:
    assert len(parse_block("CVE-2026-1000..CVE-2026-1999,CVE-2027-1000..CVE-2027-1999")) == 2


def test_allocation_prefers_the_current_year_then_setting_order() -> None:
    old, new, older = BlockRange(2026, 1, 9), BlockRange(2027, 1, 9), BlockRange(2025, 1, 9)
    assert allocation_order([old, new, older], 2027) == [new, old, older]
    assert allocation_order([old, new, older], 2030) == [old, new, older]


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        ([], 100),
        ([100, 101, 102], 103),
        ([102, 100], 101),  # a gap (never in practice: IDs are not deleted) is used first
        ([5, 100, 999], 101),  # numbers outside the range do not count
        ([100, 101, 102, 103, 104], None),
    ],
)
def test_first_free(used: list[int], expected: int | None) -> None:
    assert first_free(BlockRange(2026, 100, 104), used) == expected


@given(st.sets(st.integers(0, 30)))
def test_first_free_is_the_lowest_unused(used: set[int]) -> None:
    block = BlockRange(2026, 10, 20)
    free = [n for n in range(10, 21) if n not in used]
    assert first_free(block, used) == (free[0] if free else None)


def test_transitions_never_lead_back_to_reserved() -> None:
    assert allowed_transitions(CveState.RESERVED) == {CveState.PUBLISHED, CveState.REJECTED}
    assert allowed_transitions(CveState.PUBLISHED) == {CveState.REJECTED}
    assert allowed_transitions(CveState.REJECTED) == frozenset()
    assert allowed_transitions("unknown") == frozenset()
    for state in CveState.values:
        assert CveState.RESERVED not in allowed_transitions(state)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CveState.RESERVED, CveState.PUBLISHED),
        (CveState.RESERVED, CveState.REJECTED),
        (CveState.PUBLISHED, CveState.REJECTED),
    ],
)
def test_allowed_transitions_pass(current: str, target: str) -> None:
    check_transition("CVE-2026-1234", current, target)


@pytest.mark.parametrize(
    ("current", "target", "why"),
    [
        (CveState.PUBLISHED, CveState.PUBLISHED, "already published; update its record"),
        (CveState.REJECTED, CveState.PUBLISHED, "rejected ID is never published"),
        (CveState.REJECTED, CveState.REJECTED, "already rejected"),
        (CveState.PUBLISHED, CveState.RESERVED, "never returned to reserved"),
        (CveState.REJECTED, CveState.RESERVED, "from rejected to reserved"),
    ],
)
def test_refused_transitions_say_why(current: str, target: str, why: str) -> None:
    with pytest.raises(Conflict, match=why) as raised:
        check_transition("CVE-2026-1234", current, target)
    assert "CVE-2026-1234" in raised.value.message


def test_reject_reason_is_required() -> None:
    assert check_reject_reason("  Duplicate of CVE-2026-1111. ") == "Duplicate of CVE-2026-1111."
    with pytest.raises(ValidationError, match="Say why"):
        check_reject_reason(" \n")


def test_backoff_1m_5m_30m_then_2h() -> None:
    delays = [retry_delay(n) for n in range(6)]
    assert delays == [
        timedelta(minutes=1),
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=2),
    ]


@pytest.mark.parametrize(
    ("published_at", "stale"),
    [
        (None, False),
        (NOW - timedelta(hours=71, minutes=59), False),
        (NOW - timedelta(hours=72), False),
        (NOW - timedelta(hours=72, seconds=1), True),
        (NOW + timedelta(days=1), False),
    ],
)
def test_stale_reserved_after_72_hours_public(published_at: datetime | None, stale: bool) -> None:
    assert stale_reserved(NOW, published_at) is stale


def test_record_checks() -> None:
    check_record({"datePublic": "2026-11-25T10:00:00Z"}, due_at=NOW)
    check_record({"datePublic": "2026-11-25T09:00:00"}, due_at=NOW)  # no offset: UTC
    check_record({"title": "no date"}, due_at=NOW)
    for bad in ({}, [], "text", None):
        with pytest.raises(ValidationError, match="JSON object"):
            check_record(bad, due_at=NOW)
    with pytest.raises(ValidationError, match="not an ISO 8601"):
        check_record({"datePublic": "tomorrow"}, due_at=NOW)
    with pytest.raises(ValidationError, match="refuses a date in the future"):
        check_record({"datePublic": "2026-11-25T10:00:01Z"}, due_at=NOW)


def test_whole_records_are_checked_by_their_cna_container() -> None:
    whole = {"dataType": "CVE_RECORD", "containers": {"cna": {"datePublic": "2027-01-01"}}}
    assert cna_container(whole) == {"datePublic": "2027-01-01"}
    with pytest.raises(ValidationError, match="in the future"):
        check_record(whole, due_at=NOW)
    for broken in ({"dataType": "CVE_RECORD"}, {"dataType": "CVE_RECORD", "containers": []}):
        with pytest.raises(ValidationError, match=r"no containers\.cna"):
            cna_container(broken)
