"""A missing database or a full disk: the API answers 503 or 507 in its JSON error shape, with
Retry-After, and never the words of the driver (hosts, ports); pages get a plain 503 or 507.

How the failures are made:
- a real outage on PostgreSQL (the connection pointed at a port where nothing listens) and a
  real full database on SQLite (`PRAGMA max_page_count` caps the file at the pages it has);
- elsewhere Django's own hook around every query (`connection.execute_wrapper`) raises what
  the driver would, so the same tests run on both databases;
- a throwaway ninja API with the real handlers raises the OS's errors (a full disk when
  writing an attachment) on demand, as tests/api/test_errors.py does for the domain errors;
- a middleware of the tests' own reads the database before the view, as the session and
  user middlewares do, to show the answer does not depend on the view's handlers.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest
from django.test import Client
from ninja import NinjaAPI
from ninja.testing import TestClient

from lockstep.accounts.scopes import ALL_SCOPES
from lockstep.accounts.tokens import do_create_api_token
from lockstep.api.errors import install_error_handlers
from lockstep.ops.resources import Shortage, shortage_of
from tests.conftest import actor_for
from tests.factories.world import ProjectFactory, UserFactory
from tests.flows.test_serve import free_port

DRIVER_WORDS = 'connection to server at "db.internal" (10.0.0.7), port 5432 failed: refused'
UNAVAILABLE = "The service cannot reach its database at the moment. Try again in a little while."
NO_SPACE = "The server has run out of storage space. Try again later."


@contextmanager
def queries_fail(error: Callable[[], Exception]) -> Iterator[None]:
    def wrapper(*_args: Any) -> None:
        raise error()

    with connection.execute_wrapper(wrapper):
        yield


def _token() -> dict[str, str]:
    user = UserFactory()
    _, plaintext = do_create_api_token(user, name="ci", scopes=ALL_SCOPES, actor=actor_for(user))
    return {"Authorization": f"Bearer {plaintext}"}


def _assert_answer(response: Any, status: int, code: str, message: str, retry: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == retry
    assert json.loads(response.content) == {
        "error": {"code": code, "message": message, "field": None}
    }
    for leak in ("db.internal", "10.0.0.7", "5432", "127.0.0.1"):
        assert leak.encode() not in response.content


# --- through the real API ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_gone_during_a_request_is_503() -> None:
    headers = _token()
    with queries_fail(lambda: OperationalError(DRIVER_WORDS)):
        response = Client().get("/api/v1/me", headers=headers)
    _assert_answer(response, 503, "unavailable", UNAVAILABLE, "30")


@pytest.mark.django_db
def test_a_dropped_connection_is_503() -> None:
    headers = _token()
    with queries_fail(lambda: InterfaceError("connection already closed")):
        response = Client().get("/api/v1/tokens", headers=headers)
    _assert_answer(response, 503, "unavailable", UNAVAILABLE, "30")


def _postgres_disk_full() -> OperationalError:
    error = OperationalError("could not extend file: No space left on device")
    error.__cause__ = psycopg.errors.DiskFull("could not extend file")
    return error


@pytest.mark.django_db
@pytest.mark.parametrize(
    "full",
    [lambda: OperationalError("database or disk is full"), _postgres_disk_full],
    ids=["sqlite", "postgresql"],
)
def test_a_full_database_is_507(full: Callable[[], Exception]) -> None:
    project = ProjectFactory()
    report = {"project": project.slug, "title": "Overflow", "description": "A crafted stream."}
    with queries_fail(full):
        response = Client().post("/api/v1/reports", report, content_type="application/json")
    _assert_answer(response, 507, "insufficient_storage", NO_SPACE, "300")


@pytest.mark.django_db
def test_a_really_full_sqlite_database_is_507() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's page cap; PostgreSQL's full disk is simulated above")
    project = ProjectFactory()
    report = {"project": project.slug, "title": "Overflow", "description": "x" * 200_000}
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA max_page_count = 1")  # no page more than the file has now
    try:
        response = Client().post("/api/v1/reports", report, content_type="application/json")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 1073741823")
    _assert_answer(response, 507, "insufficient_storage", NO_SPACE, "300")
    assert not project.reports.exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_postgresql_outage_is_503(audit_head: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: an SQLite file does not go away")
    headers = _token()
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        response = Client().get("/api/v1/me", headers=headers)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved
    _assert_answer(response, 503, "unavailable", UNAVAILABLE, "30")


# --- before the view: a middleware that reads the database ------------------------------------


@pytest.fixture
def reads_first(settings: Any) -> Client:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.fakes.middleware.ReadsTheDatabaseFirst"]
    # The test client would re-raise what Django reports; a server answers instead.
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_a_middleware_that_meets_the_outage_still_answers_json(reads_first: Client) -> None:
    with queries_fail(lambda: OperationalError(DRIVER_WORDS)):
        response = reads_first.get("/api/v1/me")
    _assert_answer(response, 503, "unavailable", UNAVAILABLE, "30")
    with queries_fail(lambda: OperationalError("database or disk is full")):
        response = reads_first.get("/api/v1/me")
    _assert_answer(response, 507, "insufficient_storage", NO_SPACE, "300")


@pytest.mark.django_db
def test_pages_get_a_plain_503_page(reads_first: Client) -> None:
    with queries_fail(lambda: OperationalError(DRIVER_WORDS)):
        response = reads_first.get("/login/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Lockstep is unavailable" in page
    assert UNAVAILABLE in page
    assert "db.internal" not in page


@pytest.mark.django_db
def test_other_errors_stay_500_json_under_the_api_and_html_elsewhere(reads_first: Client) -> None:
    response = reads_first.get("/api/v1/me", headers={"X-Test-Bug": "1"})
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    assert "Retry-After" not in response
    page = reads_first.get("/login/", headers={"X-Test-Bug": "1"})
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


# --- the handlers, on a throwaway API ----------------------------------------------------------

api = NinjaAPI(urls_namespace="api-test-unavailable", docs_url=None)
install_error_handlers(api)
RAISED: dict[str, Exception] = {
    "no-space": OSError(errno.ENOSPC, "No space left on device", "/var/lib/lockstep/x"),
    "quota": OSError(errno.EDQUOT, "Disk quota exceeded"),
    "refused": OperationalError(DRIVER_WORDS),
    "dropped": InterfaceError("connection already closed"),
    "denied": PermissionError(errno.EACCES, "Permission denied", "/var/lib/lockstep/x"),
}


@api.get("/raise/{what}", auth=None)
def raise_it(request: HttpRequest, what: str) -> None:
    raise RAISED[what]


client = TestClient(api)


@pytest.mark.parametrize(
    ("what", "status", "retry"),
    [
        ("no-space", 507, "300"),
        ("quota", 507, "300"),
        ("refused", 503, "30"),
        ("dropped", 503, "30"),
    ],
)
def test_each_shortage_has_its_answer(what: str, status: int, retry: str) -> None:
    response = client.get(f"/raise/{what}")
    assert (response.status_code, response["Retry-After"]) == (status, retry)
    assert "/var/lib" not in response.content.decode()


def test_an_os_error_that_is_no_shortage_is_left_to_django() -> None:
    with pytest.raises(PermissionError):
        client.get("/raise/denied")


@pytest.mark.parametrize(
    ("exc", "shortage"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), Shortage.DISK),
        (OperationalError("database or disk is full"), Shortage.DISK),
        (_postgres_disk_full(), Shortage.DISK),
        (OperationalError("database is locked"), Shortage.DATABASE),
        (InterfaceError("connection already closed"), Shortage.DATABASE),
        (OSError(errno.ENOENT, "No such file"), None),
        (ValueError("no"), None),
    ],
)
def test_which_errors_are_shortages(exc: Exception, shortage: Shortage | None) -> None:
    assert shortage_of(exc) is shortage
