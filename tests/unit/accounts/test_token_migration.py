"""accounts 0004: tokens made before scopes and expiry keep working, for a while."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from lockstep.accounts.models import ApiToken

MIGRATION = importlib.import_module("lockstep.accounts.migrations.0004_apitoken_scopes_expiry")
BEFORE = ("accounts", "0003_mail_policy")
AFTER = ("accounts", "0004_apitoken_scopes_expiry")
MIGRATED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age_days", "left_days"),
    [(0, 90), (10, 80), (60, 30), (70, 30), (400, 30)],
)
def test_90_days_from_creation_but_never_under_30_from_the_migration(
    age_days: int, left_days: int
) -> None:
    created = MIGRATED - timedelta(days=age_days)
    expiry = MIGRATION.expiry_for(created, migrated_at=MIGRATED)
    assert expiry == MIGRATED + timedelta(days=left_days)


@pytest.mark.django_db(transaction=True)
def test_existing_tokens_get_every_scope_and_an_expiry() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    try:
        old = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
        user = old.get_model("accounts", "User").objects.create(email="old@example.org")
        tokens = old.get_model("accounts", "ApiToken").objects
        for name, age in (("recent", 10), ("old", 200)):
            tokens.create(
                user=user,
                name=name,
                prefix=f"lst_{name[:4]}",
                token_hash=f"{name:x<64}",
                created_at=MIGRATED - timedelta(days=age),
            )
        with time_machine.travel(MIGRATED, tick=False):
            MigrationExecutor(connection).migrate([AFTER])
    finally:
        MigrationExecutor(connection).migrate(latest)
    recent, old_one = ApiToken.objects.get(name="recent"), ApiToken.objects.get(name="old")
    assert recent.scopes == old_one.scopes == "read write publish"
    assert recent.expires_at == MIGRATED + timedelta(days=80)
    assert old_one.expires_at == MIGRATED + timedelta(days=30)
