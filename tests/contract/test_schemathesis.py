"""The API contract in the suite: schemathesis against a served demo instance
(tests/contract/run_schemathesis.py), 25 examples per operation, a fixed seed so a failure
repeats. No operation may answer 5xx or a status the OpenAPI document does not list.

On the SQLite run of the suite the server uses SQLite; on the PostgreSQL run, a database of
its own (made and dropped here). About 80 seconds each.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from tests.contract.run_schemathesis import run

pytestmark = pytest.mark.slow
URL = os.environ.get("LOCKSTEP_DATABASE_URL", "")
SEED = 20261207


@pytest.fixture
def database_url() -> Iterator[str]:
    """Empty on SQLite; a fresh PostgreSQL database when the suite runs on PostgreSQL."""
    if not URL.startswith("postgres"):
        yield ""
        return
    name = f"lockstep_contract_{secrets.token_hex(4)}"
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(URL)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_api_answer_is_documented_and_none_is_a_server_error(
    tmp_path: Path, database_url: str
) -> None:
    code = run(max_examples=25, seed=SEED, keep=tmp_path, database_url=database_url)
    assert code == 0, f"schemathesis found failures (output above; server log: {tmp_path})"
