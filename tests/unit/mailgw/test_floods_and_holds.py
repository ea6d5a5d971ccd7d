"""Flood limits for reports by mail, and who may let held mail through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lockstep.core.errors import ValidationError
from lockstep.mailgw.models import InboundMessage
from lockstep.mailin.floods import check_report_mail, may_acknowledge, report_limits
from lockstep.mailin.holds import can_release_held

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


def test_limits_count_sender_domain_client_and_instance() -> None:
    keys = [key for key, _limit, _where in report_limits("a@b.example", "203.0.113.9")]
    assert keys == [
        "report-mail:a@b.example",
        "report-mail-all",
        "report-mail-domain:b.example",
        "report-mail-client:203.0.113.9",
    ]
    # Behind Postfix every message comes from loopback: that is no client to count.
    local = [key for key, _limit, _where in report_limits("a@b.example", "127.0.0.1")]
    assert "report-mail-client:127.0.0.1" not in local
    assert next(k for k, _l, _w in report_limits("", "not-an-ip")) == "report-mail:?"


@pytest.mark.django_db
def test_a_client_address_is_capped(settings: Any) -> None:
    settings.LOCKSTEP_MAIL_REPORTS_PER_CLIENT = 2
    for n in range(2):
        check_report_mail(f"r{n}@x{n}.example", "198.51.100.7", now=NOW)
    with pytest.raises(ValidationError, match=r"from the client 198\.51\.100\.7"):
        check_report_mail("r9@x9.example", "198.51.100.7", now=NOW)


@pytest.mark.django_db
def test_acknowledgements_are_capped_per_address_and_domain(settings: Any) -> None:
    settings.LOCKSTEP_MAIL_ACKS_PER_ADDRESS = 2
    settings.LOCKSTEP_MAIL_ACKS_PER_DOMAIN = 3
    answers = [may_acknowledge("v@t.example", now=NOW) for _ in range(3)]
    assert answers == [True, True, False]
    assert may_acknowledge("w@t.example", now=NOW)
    assert not may_acknowledge("z@t.example", now=NOW)  # the domain has had its three


def _held(rule: str, *, case: int | None = None, project: int | None = None) -> InboundMessage:
    return InboundMessage(rule=rule, case_id=case, project_id=project)


@pytest.mark.parametrize(
    ("message", "led", "maintained", "operator", "allowed"),
    [
        (_held("unverified", case=1), {1}, set(), False, True),
        (_held("unverified", case=1), set(), set(), True, False),  # operator outside the case
        (_held("unverified", case=1), {2}, set(), False, False),
        (_held("refused", project=5), set(), {5}, False, True),
        (_held("refused", project=5), set(), set(), True, True),
        (_held("refused", project=5), set(), {6}, False, False),
        (_held("unverified"), set(), set(), True, True),  # a list's mail: operators
        (_held("unverified"), set(), set(), False, False),
        (_held("undecryptable", case=1), {1}, set(), True, False),
        (_held("postmaster"), set(), set(), True, False),
    ],
)
def test_who_may_let_held_mail_through(
    message: InboundMessage, led: set[int], maintained: set[int], operator: bool, allowed: bool
) -> None:
    assert (
        can_release_held(message, led_cases=led, maintained=maintained, operator=operator)
        is allowed
    )
