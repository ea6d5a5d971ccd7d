"""Embargo clocks: disclosure dates, suggestions and extensions, as tables and properties.

Calendar used throughout: 2025-03-03 is a Monday; NOW is that Monday at 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockstep.core.errors import ValidationError
from lockstep.embargo.policy import (
    DISTROS,
    KERNEL,
    KERNEL_EXCEPTIONAL,
    NIGHT_END_HOUR,
    NIGHT_START_HOUR,
    NINETY_DAY,
    SUGGESTED_HOUR,
    DateDecision,
    DateOutcome,
    EmbargoPolicy,
    ExtensionOutcome,
    NoticeCode,
    check_disclosure_date,
    decide_extension,
    suggest_disclosure_date,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
TOKYO = ZoneInfo("Asia/Tokyo")
ZONES = (UTC, BERLIN, NEW_YORK, KOLKATA, TOKYO, ZoneInfo("Pacific/Chatham"))


def at(day: int, hour: int = 14, minute: int = 0, *, month: int = 3, second: int = 0) -> datetime:
    """A 2025 date-time in UTC (March unless told)."""
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


NOW = at(3, 9)  # Monday
NAIVE = datetime(2025, 3, 5, 14, 0)  # noqa: DTZ001 - deliberately naive


def codes(decision: DateDecision) -> list[str]:
    return [notice.code for notice in decision.warnings]


# --- EmbargoPolicy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "fields", "label"),
    [
        (DISTROS, (14, 7, 24), "the distros policy"),
        (KERNEL, (7, 7, 0), "the Linux kernel policy"),
        (KERNEL_EXCEPTIONAL, (14, 7, 0), "the Linux kernel (exceptional) policy"),
        (NINETY_DAY, (90, 90, 24), "the 90-day policy"),
        (EmbargoPolicy(1, 1, 23), (1, 1, 23), "this embargo policy"),
    ],
)
def test_documented_policies(
    policy: EmbargoPolicy, fields: tuple[int, int, int], label: str
) -> None:
    assert (policy.max_days, policy.preferred_days, policy.min_hours) == fields
    assert policy.label == label


@pytest.mark.parametrize(
    ("max_days", "preferred", "min_hours", "message"),
    [
        (0, 1, 0, r"max_days must be at least 1 \(got 0\)"),
        (-3, 1, 0, r"max_days must be at least 1 \(got -3\)"),
        (7, 0, 0, r"preferred_days must be at least 1 \(got 0\)"),
        (7, 8, 0, r"preferred_days \(8\) exceeds max_days \(7\)"),
        (7, 7, -1, r"min_hours must not be negative \(got -1\)"),
        (1, 1, 24, r"min_hours \(24\) exceeds max_days \(1\)"),
        (14, 7, 400, r"min_hours \(400\) exceeds max_days \(14\)"),
    ],
)
def test_inconsistent_policy_is_refused(
    max_days: int, preferred: int, min_hours: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        EmbargoPolicy(max_days, preferred, min_hours)


# --- check_disclosure_date: the table ------------------------------------------------------------

START_TEXT = "clock start (2025-03-03T09:00Z (Monday))"


@pytest.mark.parametrize(
    ("policy", "requested", "clock_start", "decided", "outcome", "warnings"),
    [
        # distros: 14 days at most, 7 preferred, 1 day minimum
        (DISTROS, at(5), None, at(5), DateOutcome.ACCEPTED, []),
        (DISTROS, at(4, 9), None, at(4, 9), DateOutcome.ACCEPTED, []),  # exactly 24 hours
        (DISTROS, at(10, 9), None, at(10, 9), DateOutcome.ACCEPTED, []),  # exactly 7 days
        (DISTROS, at(10, 9, 1), None, at(10, 9, 1), DateOutcome.ACCEPTED, ["beyond-preferred"]),
        (DISTROS, at(17, 9), None, at(17, 9), DateOutcome.ACCEPTED, ["beyond-preferred"]),
        (DISTROS, at(17, 9, 1), None, at(17, 9), DateOutcome.SHORTENED, ["beyond-preferred"]),
        (DISTROS, at(30, month=4), None, at(17, 9), DateOutcome.SHORTENED, ["beyond-preferred"]),
        (DISTROS, at(8), None, at(8), DateOutcome.ACCEPTED, ["weekend"]),
        (DISTROS, at(9), None, at(9), DateOutcome.ACCEPTED, ["weekend"]),
        (DISTROS, at(5, 22), None, at(5, 22), DateOutcome.ACCEPTED, ["night"]),
        (DISTROS, at(6, 5, 59), None, at(6, 5, 59), DateOutcome.ACCEPTED, ["night"]),
        (DISTROS, at(6, 6), None, at(6, 6), DateOutcome.ACCEPTED, []),
        (DISTROS, at(5, 21, 59), None, at(5, 21, 59), DateOutcome.ACCEPTED, []),
        (DISTROS, at(6, 0), None, at(6, 0), DateOutcome.ACCEPTED, ["night", "no-time-given"]),
        (DISTROS, at(6, 0, second=1), None, at(6, 0), DateOutcome.ACCEPTED, ["night"]),
        (DISTROS, at(1, 0, month=4), None, at(17, 9), DateOutcome.SHORTENED, ["beyond-preferred"]),
        # clock started earlier than now (the first post to the list)
        (DISTROS, at(12), at(1, 10), at(12), DateOutcome.ACCEPTED, ["beyond-preferred"]),
        (
            DISTROS,
            at(16),
            at(1, 10),
            at(15, 10),
            DateOutcome.SHORTENED,
            ["beyond-preferred", "weekend"],
        ),
        # Linux kernel: 7 days from the start of the release process, no minimum notice
        (KERNEL, at(3, 9, 1), None, at(3, 9, 1), DateOutcome.ACCEPTED, []),
        (KERNEL, at(10, 9), None, at(10, 9), DateOutcome.ACCEPTED, []),
        (KERNEL, at(11), None, at(10, 9), DateOutcome.SHORTENED, []),
        (KERNEL, at(10), at(1, 10), at(8, 10), DateOutcome.SHORTENED, ["weekend"]),
        (KERNEL_EXCEPTIONAL, at(12), None, at(12), DateOutcome.ACCEPTED, ["beyond-preferred"]),
        (KERNEL_EXCEPTIONAL, at(20), None, at(17, 9), DateOutcome.SHORTENED, ["beyond-preferred"]),
        # 90 days: from 2025-01-01 00:00 the deadline is 2025-04-01 00:00, at night
        (NINETY_DAY, at(25), datetime(2025, 1, 1, tzinfo=UTC), at(25), DateOutcome.ACCEPTED, []),
        (
            NINETY_DAY,
            at(1, month=5),
            datetime(2025, 1, 1, tzinfo=UTC),
            at(1, 0, month=4),
            DateOutcome.SHORTENED,
            ["night"],
        ),
    ],
)
def test_disclosure_date_table(
    *,
    policy: EmbargoPolicy,
    requested: datetime,
    clock_start: datetime | None,
    decided: datetime,
    outcome: DateOutcome,
    warnings: list[str],
) -> None:
    decision = check_disclosure_date(policy, requested=requested, now=NOW, clock_start=clock_start)
    assert decision.decided == decided
    assert decision.outcome is outcome
    assert codes(decision) == warnings
    assert decision.requested == requested
    assert len(decision.reasons) == 1


def test_accepted_reason_states_the_window() -> None:
    decision = check_disclosure_date(DISTROS, requested=at(5), now=NOW)
    expected = (
        "2025-03-05T14:00Z (Wednesday) is within the maximum of 14 days that the distros policy "
        f"allows from the {START_TEXT}, until 2025-03-17T09:00Z (Monday)."
    )
    assert decision.reasons == (expected,)


def test_request_beyond_the_maximum_is_cut_back_and_the_reporter_told() -> None:
    decision = check_disclosure_date(DISTROS, requested=at(30, month=4), now=NOW)
    assert decision.outcome is DateOutcome.SHORTENED
    assert decision.decided == at(17, 9)
    expected = (
        "2025-04-30T14:00Z (Wednesday) is beyond the maximum of 14 days that the distros policy "
        f"allows from the {START_TEXT}. The date was cut back to 2025-03-17T09:00Z (Monday), "
        "the latest the policy allows."
    )
    assert decision.reasons == (expected,)


def test_one_day_maximum_is_singular() -> None:
    one_day = EmbargoPolicy(1, 1, 0, "one-day")
    decision = check_disclosure_date(one_day, requested=at(5), now=NOW)
    assert decision.decided == at(4, 9)
    assert "the maximum of 1 day that the one-day policy allows" in decision.reasons[0]


def test_warning_messages_are_sentences_for_humans() -> None:
    decision = check_disclosure_date(DISTROS, requested=at(15, 23, 30), now=NOW)
    assert decision.warnings[0].code is NoticeCode.BEYOND_PREFERRED
    assert codes(decision) == ["beyond-preferred", "weekend", "night"]
    beyond, weekend, night = (notice.message for notice in decision.warnings)
    assert beyond == (
        "2025-03-15T23:30Z (Saturday) is 12 days 14 hours 30 minutes after the clock start; "
        "the distros policy prefers 7 days or fewer. Every day of embargo is a day in which the "
        "issue can leak."
    )
    assert weekend == (
        "2025-03-15T23:30Z (Saturday) falls on a Saturday (UTC). Many security teams are off at "
        "weekends, so fixed packages may ship late; Tuesday to Thursday is safest."
    )
    assert night == (
        "23:30 UTC is at night (22:00 to 06:00 UTC). The reporter, upstream and every "
        "distribution must be awake to publish together; 14:00 UTC suits Europe and the "
        "Americas."
    )


def test_beyond_preferred_wording() -> None:
    decision = check_disclosure_date(DISTROS, requested=at(11), now=NOW)
    assert decision.warnings[0].message.startswith(
        "2025-03-11T14:00Z (Tuesday) is 8 days 5 hours after the clock start; "
        "the distros policy prefers 7 days or fewer."
    )


# --- time zones and truncation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "decided", "warnings"),
    [
        (datetime(2025, 3, 5, 19, 30, tzinfo=KOLKATA), at(5), []),
        (datetime(2025, 3, 5, 15, 0, tzinfo=BERLIN), at(5), []),
        (datetime(2025, 3, 5, 9, 0, tzinfo=NEW_YORK), at(5), []),
        (datetime(2025, 3, 5, 23, 0, tzinfo=TOKYO), at(5), []),
        # midnight where it was given: a date picked without a time
        (datetime(2025, 3, 6, 0, 0, tzinfo=BERLIN), at(5, 23), ["night", "no-time-given"]),
        (datetime(2025, 3, 6, 0, 0, tzinfo=NEW_YORK), at(6, 5), ["night", "no-time-given"]),
        (datetime(2025, 3, 6, 0, 0, tzinfo=TOKYO), at(5, 15), ["no-time-given"]),
        # seconds are dropped
        (at(5, 14, 0, second=59), at(5), []),
        (datetime(2025, 3, 5, 14, 0, 59, 999_999, tzinfo=UTC), at(5), []),
    ],
)
def test_requested_is_converted_to_utc_and_truncated(
    requested: datetime, decided: datetime, warnings: list[str]
) -> None:
    decision = check_disclosure_date(
        DISTROS, requested=requested, now=NOW.astimezone(NEW_YORK), clock_start=NOW
    )
    assert decision.decided == decided
    assert decision.decided.tzinfo is UTC
    assert (decision.decided.second, decision.decided.microsecond) == (0, 0)
    assert decision.requested == requested
    assert decision.requested.tzinfo is UTC
    assert codes(decision) == warnings


def test_no_time_given_names_what_was_given() -> None:
    requested = datetime(2025, 3, 6, 0, 0, tzinfo=BERLIN)
    decision = check_disclosure_date(DISTROS, requested=requested, now=NOW)
    assert decision.warnings[-1].message == (
        "The date was given as midnight exactly (2025-03-06T00:00:00+01:00). If you meant only a "
        "day, give a time as well: a day begins at different moments around the world."
    )


@pytest.mark.parametrize("field", ["requested", "now", "clock_start"])
def test_naive_datetimes_are_refused_with_their_field(field: str) -> None:
    values = {"requested": at(5), "now": NOW, "clock_start": NOW} | {field: NAIVE}
    with pytest.raises(ValidationError, match="must carry a time zone") as caught:
        check_disclosure_date(
            DISTROS,
            requested=values["requested"],
            now=values["now"],
            clock_start=values["clock_start"],
        )
    assert caught.value.field == field


def test_embargo_counts_elapsed_hours_across_a_daylight_saving_change() -> None:
    start = datetime(
        2025, 3, 28, 12, 0, tzinfo=BERLIN
    )  # 11:00 UTC; Berlin moves to CEST on the 30th
    decision = check_disclosure_date(KERNEL, requested=at(10, month=4), now=start)
    assert decision.decided == at(4, 11, month=4)  # 13:00 in Berlin: 7 x 24 hours later
    assert decision.outcome is DateOutcome.SHORTENED


# --- check_disclosure_date: refusals -------------------------------------------------------------


@pytest.mark.parametrize(
    "requested",
    [NOW, NOW - timedelta(days=1), NOW + timedelta(seconds=30), at(1, month=1)],
)
def test_date_not_in_the_future_is_refused(requested: datetime) -> None:
    with pytest.raises(ValidationError, match="is not in the future") as caught:
        check_disclosure_date(DISTROS, requested=requested, now=NOW, allow_short=True)
    assert caught.value.field == "requested"
    assert "it is now 2025-03-03T09:00Z (Monday)" in caught.value.message


def test_date_under_the_minimum_is_refused_with_the_earliest_allowed() -> None:
    with pytest.raises(ValidationError) as caught:
        check_disclosure_date(DISTROS, requested=at(4, 8, 59), now=NOW)
    assert caught.value.field == "requested"
    assert caught.value.message == (
        "2025-03-04T08:59Z (Tuesday) is 23 hours 59 minutes from now. Under the distros "
        "policy, members get at least 24 hours to prepare fixed packages: choose "
        "2025-03-04T09:00Z (Tuesday) or later, or ask a coordinator to allow a shorter embargo "
        "if the case is extreme (for example, the issue is being exploited)."
    )


def test_earliest_allowed_is_rounded_up_to_the_minute() -> None:
    now = at(3, 9, 0, second=30)
    with pytest.raises(ValidationError) as caught:
        check_disclosure_date(DISTROS, requested=at(3, 9, 1), now=now)
    assert "2025-03-03T09:01Z (Monday) is less than a minute from now." in caught.value.message
    assert "choose 2025-03-04T09:01Z (Tuesday) or later" in caught.value.message


@pytest.mark.parametrize(
    ("requested", "decided", "outcome", "message"),
    [
        (
            at(3, 11),
            at(3, 11),
            DateOutcome.ACCEPTED,
            (
                "2025-03-03T11:00Z (Monday) is 2 hours from now, under the minimum of 24 hours "
                "that the distros policy gives members to prepare. A coordinator allowed it for an "
                "extreme case: tell members at once."
            ),
        ),
        (at(3, 9, 1), at(3, 9, 1), DateOutcome.ACCEPTED, "is 1 minute from now"),
    ],
)
def test_coordinator_may_allow_a_short_embargo(
    requested: datetime, decided: datetime, outcome: DateOutcome, message: str
) -> None:
    decision = check_disclosure_date(DISTROS, requested=requested, now=NOW, allow_short=True)
    assert (decision.decided, decision.outcome) == (decided, outcome)
    assert codes(decision) == ["short-notice"]
    assert message in decision.warnings[0].message


@pytest.mark.parametrize("allow_short", [False, True])
def test_embargo_that_already_ended_is_exhausted(*, allow_short: bool) -> None:
    for clock_start in (at(10, 9, month=2), at(17, 9, month=2)):  # ended; ends exactly now
        with pytest.raises(ValidationError) as caught:
            check_disclosure_date(
                DISTROS, requested=at(5), now=NOW, clock_start=clock_start, allow_short=allow_short
            )
        assert caught.value.field == "requested"
        assert caught.value.message.startswith("The embargo period is exhausted: the maximum of")
        assert caught.value.message.endswith(
            "Disclose now: post the full details to the public list."
        )


def test_embargo_ending_within_the_minimum_is_exhausted_unless_allowed() -> None:
    clock_start = at(17, 12, month=2)  # the 14 days end today at 12:00, 3 hours from now
    with pytest.raises(ValidationError) as caught:
        check_disclosure_date(DISTROS, requested=at(3, 11), now=NOW, clock_start=clock_start)
    assert caught.value.message == (
        "The embargo period is exhausted: the maximum of 14 days that the distros policy allows "
        "from the clock start (2025-02-17T12:00Z (Monday)), which ends at 2025-03-03T12:00Z "
        "(Monday), less than the minimum notice of 24 hours from now. Disclose by "
        "2025-03-03T12:00Z (Monday) at the latest; a coordinator may allow the short notice."
    )
    decision = check_disclosure_date(
        DISTROS, requested=at(5), now=NOW, clock_start=clock_start, allow_short=True
    )
    assert (decision.decided, decision.outcome) == (at(3, 12), DateOutcome.SHORTENED)
    assert codes(decision) == ["short-notice", "beyond-preferred"]


# --- suggest_disclosure_date ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "now", "clock_start", "suggested"),
    [
        (DISTROS, NOW, None, at(6)),  # Mon: the Thursday before the 7th day
        (DISTROS, at(4, 10), None, at(6)),
        (DISTROS, at(4, 15), None, at(11)),  # the 7th day at 14:00 is still within 7 days
        (DISTROS, at(7, 16), None, at(13)),  # Fri: the Thursday before the Friday a week on
        (DISTROS, NOW, at(1, 10), at(6)),
        (DISTROS, at(2, 20), at(17, 20, month=2), at(3, 20)),  # no 14:00 slot left: the deadline
        (KERNEL, NOW, None, at(6)),
        (KERNEL, at(3, 15), at(3, 13), at(6)),
        (KERNEL, at(1, 9), at(24, 16, month=2), at(3)),  # only Sat, Sun, Mon left: Monday
        (KERNEL, at(1, 9), at(23, 16, month=2), at(2)),  # only Sat, Sun left: nearer the 7th day
        (KERNEL_EXCEPTIONAL, NOW, None, at(6)),
        (NINETY_DAY, NOW, None, at(29, month=5)),  # day 90 is a Sunday: the Thursday before
        (DISTROS, NOW.astimezone(TOKYO), None, at(6)),
    ],
)
def test_suggested_date(
    policy: EmbargoPolicy, now: datetime, clock_start: datetime | None, suggested: datetime
) -> None:
    result = suggest_disclosure_date(policy, now=now, clock_start=clock_start)
    assert result == suggested
    assert result.tzinfo is UTC


def test_suggestion_for_exhausted_embargo_is_refused() -> None:
    with pytest.raises(ValidationError, match="exhausted") as caught:
        suggest_disclosure_date(DISTROS, now=NOW, clock_start=at(17, 12, month=2))
    assert caught.value.field == "clock_start"
    with pytest.raises(ValidationError, match="exhausted"):
        suggest_disclosure_date(KERNEL, now=NOW, clock_start=at(24, 9, month=2))


@pytest.mark.parametrize("field", ["now", "clock_start"])
def test_suggestion_needs_aware_datetimes(field: str) -> None:
    values = {"now": NOW, "clock_start": NOW} | {field: NAIVE}
    with pytest.raises(ValidationError) as caught:
        suggest_disclosure_date(DISTROS, **values)
    assert caught.value.field == field


# --- decide_extension ----------------------------------------------------------------------------

CURRENT = at(10)  # Monday a week on, 14:00
EXT_NOW = at(5, 12)


def extend(
    requested: datetime,
    *,
    reason: str = "A vendor is still testing the fix.",
    current: datetime = CURRENT,
    now: datetime = EXT_NOW,
    policy: EmbargoPolicy = DISTROS,
) -> tuple[ExtensionOutcome, datetime, tuple[str, ...]]:
    decision = decide_extension(
        policy, clock_start=NOW, current=current, requested=requested, reason=reason, now=now
    )
    return decision.outcome, decision.new_date, decision.reasons


@pytest.mark.parametrize(
    ("requested", "outcome", "new_date"),
    [
        (at(12), ExtensionOutcome.GRANTED, at(12)),
        (at(10, 14, 1), ExtensionOutcome.GRANTED, at(10, 14, 1)),
        (at(17, 9), ExtensionOutcome.GRANTED, at(17, 9)),
        (at(17, 9, 1), ExtensionOutcome.PARTIALLY_GRANTED, at(17, 9)),
        (at(30, month=4), ExtensionOutcome.PARTIALLY_GRANTED, at(17, 9)),
        (datetime(2025, 3, 12, 15, 0, tzinfo=BERLIN), ExtensionOutcome.GRANTED, at(12)),
        (at(10, 14, 0, second=30), ExtensionOutcome.REFUSED, CURRENT),  # truncates to current
        (CURRENT, ExtensionOutcome.REFUSED, CURRENT),
        (at(7), ExtensionOutcome.REFUSED, CURRENT),
    ],
)
def test_extension_table(
    requested: datetime, outcome: ExtensionOutcome, new_date: datetime
) -> None:
    got_outcome, got_date, reasons = extend(requested)
    assert (got_outcome, got_date) == (outcome, new_date)
    assert got_date.tzinfo is UTC
    assert len(reasons) == 1


def test_granted_extension_says_by_how_much_and_why() -> None:
    expected = (
        "The date moves from 2025-03-10T14:00Z (Monday) to 2025-03-12T14:00Z (Wednesday) "
        "(2 days more), within the maximum of 14 days that the distros policy allows from the "
        f"{START_TEXT}. Reason given: A vendor is still testing the fix."
    )
    assert extend(at(12))[2] == (expected,)


def test_extension_beyond_the_maximum_is_cut_back() -> None:
    expected = (
        "2025-03-20T14:00Z (Thursday) is beyond the maximum of 14 days that the distros policy "
        f"allows from the {START_TEXT}. The date moves from 2025-03-10T14:00Z (Monday) to "
        "2025-03-17T09:00Z (Monday), the latest the policy allows. Reason given: Fix not ready."
    )
    assert extend(at(20), reason="  Fix not ready.  ")[2] == (expected,)


@pytest.mark.parametrize(
    ("kwargs", "requested", "message"),
    [
        ({"reason": ""}, at(12), "No reason was given."),
        ({"reason": " \n\t"}, at(12), "No reason was given."),
        ({"now": CURRENT}, at(12), "The embargo already ended at 2025-03-10T14:00Z (Monday)"),
        ({"now": at(11)}, at(12), "so it cannot be extended. Post the full details"),
        ({}, CURRENT, "is not later than the current date 2025-03-10T14:00Z (Monday)"),
        ({}, at(9), "not an extension. To disclose earlier, propose a new date instead."),
        ({"current": at(17, 9)}, at(18), "is already at the maximum of 14 days"),
        ({"current": at(17, 9), "policy": KERNEL}, at(18), "maximum of 7 days that the Linux"),
    ],
)
def test_extension_refusals_say_why(
    kwargs: dict[str, object], requested: datetime, message: str
) -> None:
    outcome, new_date, reasons = extend(requested, **kwargs)  # type: ignore[arg-type]
    assert outcome is ExtensionOutcome.REFUSED
    assert new_date == kwargs.get("current", CURRENT)
    assert len(reasons) == 1
    assert message in reasons[0]


def test_every_refusal_reason_is_given_at_once() -> None:
    outcome, new_date, reasons = extend(at(1), reason="", current=at(17, 9), now=at(18))
    assert (outcome, new_date) == (ExtensionOutcome.REFUSED, at(17, 9))
    assert [reason.split(" ")[:3] for reason in reasons] == [
        ["No", "reason", "was"],
        ["The", "embargo", "already"],
        ["2025-03-01T14:00Z", "(Saturday)", "is"],
        ["The", "current", "date"],
    ]


@pytest.mark.parametrize("field", ["clock_start", "current", "requested", "now"])
def test_extension_needs_aware_datetimes(field: str) -> None:
    values = {"clock_start": NOW, "current": CURRENT, "requested": at(12), "now": EXT_NOW}
    with pytest.raises(ValidationError) as caught:
        decide_extension(DISTROS, reason="testing", **(values | {field: NAIVE}))
    assert caught.value.field == field


# --- properties ----------------------------------------------------------------------------------

aware = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - Hypothesis bounds are naive
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)


@st.composite
def policies(draw: st.DrawFn) -> EmbargoPolicy:
    max_days = draw(st.integers(1, 120))
    preferred = draw(st.integers(1, max_days))
    min_hours = draw(st.integers(0, max_days * 24 - 1))
    return EmbargoPolicy(max_days, preferred, min_hours)


def window(policy: EmbargoPolicy, now: datetime, elapsed: timedelta) -> tuple[datetime, ...]:
    """clock_start (in now's zone), the deadline and the earliest allowed moment.

    Computed independently and in UTC: an embargo counts elapsed hours, and arithmetic in a
    local zone across a daylight-saving change would be an hour off.
    """
    utc_now = now.astimezone(UTC)
    start = (utc_now - elapsed).astimezone(now.tzinfo)
    deadline = utc_now - elapsed + timedelta(days=policy.max_days)
    earliest = utc_now + timedelta(hours=policy.min_hours)
    return start, deadline.replace(second=0, microsecond=0), earliest


elapsed_times = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=125))


@given(
    policy=policies(),
    now=aware,
    elapsed=elapsed_times,
    ahead=st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=150)),
    allow_short=st.booleans(),
)
def test_decided_date_always_respects_the_policy(
    *,
    policy: EmbargoPolicy,
    now: datetime,
    elapsed: timedelta,
    ahead: timedelta,
    allow_short: bool,
) -> None:
    start, deadline, earliest = window(policy, now, elapsed)
    requested = now + ahead
    wanted = requested.astimezone(UTC).replace(second=0, microsecond=0)
    best = min(wanted, deadline)
    if best <= now or (not allow_short and best < earliest):  # no acceptable date: refused
        with pytest.raises(ValidationError) as caught:
            check_disclosure_date(
                policy, requested=requested, now=now, clock_start=start, allow_short=allow_short
            )
        assert caught.value.field == "requested"
        return
    decision = check_disclosure_date(
        policy, requested=requested, now=now, clock_start=start, allow_short=allow_short
    )
    decided = decision.decided
    assert decided.tzinfo is UTC
    assert (decided.second, decided.microsecond) == (0, 0)
    assert now < decided <= deadline
    assert decided <= requested
    assert allow_short or decided >= earliest
    assert (NoticeCode.SHORT_NOTICE in codes(decision)) == (decided < earliest)
    if decision.outcome is DateOutcome.ACCEPTED:
        assert decided == wanted
    else:
        assert decided == deadline < wanted


@given(policy=policies(), now=aware, elapsed=elapsed_times)
def test_suggestion_is_always_acceptable(
    policy: EmbargoPolicy, now: datetime, elapsed: timedelta
) -> None:
    start, deadline, earliest = window(policy, now, elapsed)
    try:
        suggested = suggest_disclosure_date(policy, now=now, clock_start=start)
    except ValidationError:
        assert deadline <= now or deadline < earliest
        return
    assert max(now, earliest) <= suggested <= deadline
    assert suggested > now
    assert suggested.tzinfo is UTC
    decision = check_disclosure_date(policy, requested=suggested, now=now, clock_start=start)
    assert (decision.outcome, decision.decided) == (DateOutcome.ACCEPTED, suggested)
    if deadline - earliest >= timedelta(days=7):
        assert (suggested.hour, suggested.minute) == (SUGGESTED_HOUR, 0)
        assert suggested.weekday() < 5
        assert NIGHT_END_HOUR <= suggested.hour < NIGHT_START_HOUR


@given(
    policy=policies(),
    now=aware,
    elapsed=elapsed_times,
    current_ahead=st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=130)),
    requested_ahead=st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=150)),
    reason=st.sampled_from(["", "  ", "The fix needs another review."]),
)
def test_extension_never_moves_the_date_earlier_or_past_the_maximum(
    *,
    policy: EmbargoPolicy,
    now: datetime,
    elapsed: timedelta,
    current_ahead: timedelta,
    requested_ahead: timedelta,
    reason: str,
) -> None:
    start, deadline, _ = window(policy, now, elapsed)
    current = now + current_ahead
    requested = current + requested_ahead
    wanted = requested.astimezone(UTC).replace(second=0, microsecond=0)
    decision = decide_extension(
        policy, clock_start=start, current=current, requested=requested, reason=reason, now=now
    )
    assert decision.new_date >= current
    assert decision.new_date.tzinfo is UTC
    assert decision.reasons
    if decision.outcome is ExtensionOutcome.REFUSED:
        # Compared in UTC: PEP 495 makes == across zones False for an ambiguous local time.
        assert decision.new_date == current.astimezone(UTC)
        assert not reason.strip() or current <= now or wanted <= current or current >= deadline
        return
    assert reason.strip()
    assert current > now
    assert current < decision.new_date <= deadline
    assert decision.new_date <= requested
    partial = decision.outcome is ExtensionOutcome.PARTIALLY_GRANTED
    assert partial == (decision.new_date == deadline < wanted)
    assert partial or decision.new_date == wanted
