"""The API contract in the suite: schemathesis against a served demo instance
(tests/contract/run_schemathesis.py), 25 examples per operation, a fixed seed so a failure
repeats. No operation may answer 5xx or a status the OpenAPI document does not list.

On the SQLite run of the suite the server uses SQLite; on the PostgreSQL run, a database of
its own (made and dropped here). About 80 seconds each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.run_schemathesis import run
from tests.flows.test_outbox_sigkill import database

pytestmark = pytest.mark.slow
SEED = 20261207
__all__ = ["database"]  # the fixture: a PostgreSQL database of its own, or "" (SQLite)


def test_every_api_answer_is_documented_and_none_is_a_server_error(
    tmp_path: Path, database: str
) -> None:
    code = run(max_examples=25, seed=SEED, keep=tmp_path, database_url=database)
    assert code == 0, f"schemathesis found failures (output above; server log: {tmp_path})"
