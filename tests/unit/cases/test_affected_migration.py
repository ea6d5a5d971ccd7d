"""cases 0007: stored ranges become OSV events and keep meaning the same."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.affected import parse_affected
from lockstep.cases.models import Vulnerability
from lockstep.cases.queries import access_case_by_id
from tests.conftest import actor_for
from tests.factories.cases import build_case_world

MIGRATION = importlib.import_module("lockstep.cases.migrations.0007_vulnerability_affected_events")

OLD = [
    {"introduced": "0"},
    {"introduced": "1.0", "fixed": "1.2"},
    {"introduced": "2.0", "last_affected": "2.4"},
]


@pytest.mark.parametrize("span", OLD)
def test_each_old_range_becomes_the_same_events(span: dict[str, str]) -> None:
    new = MIGRATION._to_events(span)
    assert new["type"] == "ECOSYSTEM"
    old_package = [{"purl": "pkg:pypi/q", "ranges": [span]}]
    new_package = [{"purl": "pkg:pypi/q", "ranges": [new]}]
    assert parse_affected(new_package) == parse_affected(old_package)
    assert MIGRATION._to_events(new) == new  # a second run changes nothing
    assert MIGRATION._to_old(new) == [span]


def test_backwards_splits_pairs_and_ends_an_open_pair_at_its_limit() -> None:
    span: dict[str, Any] = {
        "type": "ECOSYSTEM",
        "events": [
            {"introduced": "1.0"},
            {"fixed": "1.2"},
            {"introduced": "2.0"},
            {"limit": "2.5"},
        ],
    }
    assert MIGRATION._to_old(span) == [
        {"introduced": "1.0", "fixed": "1.2"},
        {"introduced": "2.0", "fixed": "2.5"},
    ]


@pytest.mark.django_db
def test_stored_rows_are_converted() -> None:
    world = build_case_world()
    lead = actor_for(world.maintainer)
    vuln = do_add_vulnerability(
        access_case_by_id(lead, world.case.pk), VulnerabilityInput(title="t"), actor=lead
    )
    old = [{"purl": "pkg:pypi/q", "ranges": OLD, "versions": ["0.9"]}]
    Vulnerability.objects.filter(pk=vuln.pk).update(affected=old)
    MIGRATION.forwards(apps, None)
    vuln.refresh_from_db()
    assert vuln.affected[0]["ranges"][1] == {
        "type": "ECOSYSTEM",
        "events": [{"introduced": "1.0"}, {"fixed": "1.2"}],
    }
    assert parse_affected(vuln.affected) == parse_affected(old)
    MIGRATION.backwards(apps, None)
    vuln.refresh_from_db()
    assert vuln.affected == old
