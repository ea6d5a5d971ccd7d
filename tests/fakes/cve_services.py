"""A fake CVE Services: a real HTTP server on 127.0.0.1 that follows the API as cvelib uses it.

Only what Lockstep needs, with the service's rules that matter to it:

- every request carries CVE-API-ORG / CVE-API-USER / CVE-API-KEY, else 401;
- `POST /api/cve-id?amount=&cve_year=&short_name=[&batch_type=]` reserves IDs (sequential
  numbers from `first_number`), within a quota;
- `GET /api/cve-id/{id}`, `GET /api/cve/{id}`, `GET /api/org/{short_name}`;
- `POST /api/cve/{id}/cna` publishes a reserved (or rejected) ID: 404 unknown, 403 when another
  CNA owns it, 400 `CVE_RECORD_EXISTS` when it has a published record, 400 when the container
  does not follow cvelib's CNA published container schema, 400 when `datePublic` is in the
  future (the real service refuses those);
- `PUT /api/cve/{id}/cna` updates a published record;
- `POST /api/cve/{id}/reject` rejects a reserved or published ID with a rejected container
  (400 `CVE_RECORD_EXISTS` if it is rejected already); `PUT` updates a rejected record;
- `fail_next(n)` answers the next n requests with 503 (or another status).

Errors have the service's shape: `{"error": "CODE", "message": "…", "details": …}`.
The clock is `datetime.now(UTC)`, so time-machine moves it with the test.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cvelib.cve_api import CveRecord, CveRecordValidationError

ORG = "lockstep-test"
USER = "cna@lockstep.example.org"
API_KEY = "fake-cve-services-key"
ORG_ID = "5b4cd2c9-8c6c-4f5f-8b8a-3f4b2b6b7c1d"


class Refusal(Exception):
    def __init__(self, status: int, error: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": error, "message": message}
        if details is not None:
            self.body["details"] = details


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class CveEntry:
    cve_id: str
    year: int
    owning_cna: str
    user: str
    reserved: datetime
    state: str = "RESERVED"
    cna: dict[str, Any] | None = None  # the CNA container, published or rejected
    date_published: datetime | None = None
    date_updated: datetime | None = None

    def id_json(self) -> dict[str, Any]:
        return {
            "cve_id": self.cve_id,
            "cve_year": str(self.year),
            "state": self.state,
            "owning_cna": self.owning_cna,
            "requested_by": {"cna": self.owning_cna, "user": self.user},
            "reserved": _stamp(self.reserved),
            "time": {
                "created": _stamp(self.reserved),
                "modified": _stamp(self.date_updated or self.reserved),
            },
        }

    def record_json(self, org_id: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "cveId": self.cve_id,
            "assignerOrgId": org_id,
            "assignerShortName": self.owning_cna,
            "state": self.state,
            "dateReserved": _stamp(self.reserved),
        }
        if self.date_published is not None:
            meta["datePublished"] = _stamp(self.date_published)
        if self.date_updated is not None:
            meta["dateUpdated"] = _stamp(self.date_updated)
        return {
            "dataType": "CVE_RECORD",
            "dataVersion": "5.1",
            "cveMetadata": meta,
            "containers": {"cna": self.cna},
        }


@dataclass
class FakeCveServices:
    """The service's state; `serve()` puts it on the network."""

    org: str = ORG
    user: str = USER
    api_key: str = API_KEY
    org_id: str = ORG_ID
    first_number: int = 20000
    quota: int = 100
    ids: dict[str, CveEntry] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    url: str = ""
    _next: dict[int, int] = field(default_factory=dict)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # Test controls ---------------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` requests with `status`, whatever they ask."""
        with self._lock:
            self._failures.extend([status] * count)

    def add_foreign_id(self, cve_id: str, org: str = "other-cna") -> None:
        """An ID another CNA reserved (publishing it is forbidden to us)."""
        year = int(cve_id.split("-")[1])
        self.ids[cve_id] = CveEntry(cve_id, year, org, f"someone@{org}", _now())

    def published_record(self, cve_id: str) -> dict[str, Any] | None:
        entry = self.ids[cve_id]
        return entry.cna if entry.state == "PUBLISHED" else None

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(pattern, p))

    # Requests --------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        split = urlsplit(target)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        with self._lock:
            self.requests.append((method, path))
            if self._failures:
                status = self._failures.pop(0)
                return status, {"error": "SERVICE_UNAVAILABLE", "message": "Try again later."}
            try:
                self._authenticate(headers)
                return 200, self._route(method, path, query, body)
            except Refusal as refusal:
                return refusal.status, refusal.body

    def _authenticate(self, headers: dict[str, str]) -> None:
        given = (
            headers.get("cve-api-org"),
            headers.get("cve-api-user"),
            headers.get("cve-api-key"),
        )
        if given != (self.org, self.user, self.api_key):
            raise Refusal(401, "UNAUTHORIZED", "Unauthorized")

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        routes: list[tuple[str, str, Callable[..., dict[str, Any]]]] = [
            ("POST", r"/api/cve-id", lambda: self._reserve(query)),
            ("GET", r"/api/cve-id/(?P<cve>[^/]+)", self._show_id),
            ("GET", r"/api/org/(?P<org>[^/]+)", self._show_org),
            ("GET", r"/api/cve/(?P<cve>[^/]+)", self._show_record),
            ("POST", r"/api/cve/(?P<cve>[^/]+)/cna", lambda cve: self._publish(cve, body)),
            ("PUT", r"/api/cve/(?P<cve>[^/]+)/cna", lambda cve: self._update(cve, body)),
            ("POST", r"/api/cve/(?P<cve>[^/]+)/reject", lambda cve: self._reject(cve, body)),
            ("PUT", r"/api/cve/(?P<cve>[^/]+)/reject", lambda cve: self._update_reject(cve, body)),
        ]
        for verb, pattern, handler in routes:
            found = re.fullmatch(pattern, path)
            if verb == method and found is not None:
                return handler(**found.groupdict())
        raise Refusal(404, "NOT_FOUND", f"No route for {method} {path}")

    def _reserve(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            amount = int(query.get("amount", ""))
            year = int(query.get("cve_year", ""))
        except ValueError:
            raise Refusal(400, "BAD_INPUT", "amount and cve_year are required numbers") from None
        if query.get("short_name") != self.org:
            raise Refusal(403, "NOT_SAME_ORG_OR_SECRETARIAT", "short_name is not your CNA")
        if amount < 1:
            raise Refusal(400, "BAD_INPUT", "amount must be at least 1")
        if amount > 1 and query.get("batch_type") not in {"sequential", "nonsequential"}:
            raise Refusal(400, "NO_BATCH_TYPE", "batch_type is required when amount > 1")
        if amount > self.quota:
            raise Refusal(403, "EXCEEDED_ID_QUOTA", "The CNA has no quota left")
        self.quota -= amount
        reserved = []
        for _ in range(amount):
            number = self._next.get(year, self.first_number)
            self._next[year] = number + 1
            entry = CveEntry(f"CVE-{year}-{number:04d}", year, self.org, self.user, _now())
            self.ids[entry.cve_id] = entry
            reserved.append(entry.id_json())
        return {"cve_ids": reserved, "meta": {"remaining_quota": self.quota}}

    def _entry(self, cve: str) -> CveEntry:
        entry = self.ids.get(cve)
        if entry is None:
            raise Refusal(404, "CVE_ID_NOT_FOUND", f"{cve} does not exist")
        return entry

    def _owned(self, cve: str) -> CveEntry:
        entry = self._entry(cve)
        if entry.owning_cna != self.org:
            raise Refusal(403, "NOT_OWNER_CNA", f"{cve} is not owned by {self.org}")
        return entry

    def _show_id(self, cve: str) -> dict[str, Any]:
        return self._entry(cve).id_json()

    def _show_org(self, org: str) -> dict[str, Any]:
        if org != self.org:
            raise Refusal(404, "ORG_DNE", f"{org} does not exist")
        return {"UUID": self.org_id, "short_name": self.org, "name": "Lockstep test CNA"}

    def _show_record(self, cve: str) -> dict[str, Any]:
        entry = self._entry(cve)
        if entry.cna is None:
            raise Refusal(404, "CVE_RECORD_DNE", f"{cve} has no record")
        return entry.record_json(self.org_id)

    def _container(self, body: bytes, schema: str, key: str = "cnaContainer") -> dict[str, Any]:
        try:
            container = json.loads(body or b"{}")[key]
        except (ValueError, KeyError, TypeError):
            raise Refusal(400, "BAD_INPUT", f"The body must be a JSON object with {key}") from None
        try:
            CveRecord.validate(container, schema)
        except CveRecordValidationError as exc:
            details = [error.message for error in exc.errors]
            raise Refusal(400, "BAD_INPUT", "Parameters were invalid", details) from None
        if container["providerMetadata"].get("orgId") != self.org_id:
            raise Refusal(403, "NOT_SAME_ORG", "providerMetadata.orgId is not your CNA")
        return dict(container)

    def _check_date_public(self, container: dict[str, Any]) -> None:
        raw = container.get("datePublic")
        if raw is None:
            return
        when = datetime.fromisoformat(raw)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when > _now():
            raise Refusal(400, "BAD_INPUT", "datePublic cannot be in the future")

    def _publish(self, cve: str, body: bytes) -> dict[str, Any]:
        entry = self._owned(cve)
        if entry.state == "PUBLISHED":
            raise Refusal(400, "CVE_RECORD_EXISTS", f"{cve} already has a record")
        container = self._container(body, CveRecord.Schemas.CNA_PUBLISHED)
        self._check_date_public(container)
        entry.state, entry.cna = "PUBLISHED", container
        entry.date_published = entry.date_updated = _now()
        return {
            "message": f"{cve} record was successfully created.",
            "created": entry.record_json(self.org_id),
        }

    def _update(self, cve: str, body: bytes) -> dict[str, Any]:
        entry = self._owned(cve)
        if entry.state != "PUBLISHED":
            raise Refusal(400, "CVE_RECORD_DNE", f"{cve} has no published record to update")
        container = self._container(body, CveRecord.Schemas.CNA_PUBLISHED)
        self._check_date_public(container)
        entry.cna, entry.date_updated = container, _now()
        return {
            "message": f"{cve} record was successfully updated.",
            "updated": entry.record_json(self.org_id),
        }

    def _reject(self, cve: str, body: bytes) -> dict[str, Any]:
        entry = self._owned(cve)
        if entry.state == "REJECTED" and entry.cna is not None:
            raise Refusal(400, "CVE_RECORD_EXISTS", f"{cve} already has a rejected record")
        container = self._container(body, CveRecord.Schemas.CNA_REJECTED)
        entry.state, entry.cna, entry.date_updated = "REJECTED", container, _now()
        return {
            "message": f"{cve} record was successfully created.",
            "created": entry.record_json(self.org_id),
        }

    def _update_reject(self, cve: str, body: bytes) -> dict[str, Any]:
        entry = self._owned(cve)
        if entry.state != "REJECTED":
            raise Refusal(400, "CVE_RECORD_DNE", f"{cve} is not rejected")
        container = self._container(body, CveRecord.Schemas.CNA_REJECTED)
        entry.cna, entry.date_updated = container, _now()
        return {
            "message": f"{cve} record was successfully updated.",
            "updated": entry.record_json(self.org_id),
        }


def _handler_for(service: FakeCveServices) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, payload = service.handle(self.command, self.path, headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            return

    return Handler


@contextmanager
def serve(service: FakeCveServices | None = None) -> Iterator[FakeCveServices]:
    """Run the fake on 127.0.0.1 (a free port) for the block; `service.url` ends in /api/."""
    service = service or FakeCveServices()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(service))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="fake-cve-services", daemon=True
    )
    thread.start()
    service.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def settings_for(service: FakeCveServices) -> dict[str, str]:
    """The LOCKSTEP_CVE_* settings that point Lockstep at this fake."""
    return {
        "LOCKSTEP_CVE_MODE": "services",
        "LOCKSTEP_CVE_API_URL": service.url,
        "LOCKSTEP_CVE_USER": service.user,
        "LOCKSTEP_CVE_ORG": service.org,
        "LOCKSTEP_CVE_API_KEY": service.api_key,
        "LOCKSTEP_CVE_ORG_ID": service.org_id,
    }


def sample_record(
    *, date_public: str | None = "2026-12-02T14:00:00Z", **extra: Any
) -> dict[str, Any]:
    """A CNA container that passes cvelib's schema, with everything cvelib would add."""
    record: dict[str, Any] = {
        "providerMetadata": {"orgId": ORG_ID},
        "title": "Heap overflow in inflate()",
        "descriptions": [
            {"lang": "en", "value": "A crafted stream overflows a heap buffer in inflate()."}
        ],
        "affected": [
            {
                "vendor": "libquokka",
                "product": "libquokka",
                "versions": [
                    {
                        "version": "0",
                        "lessThan": "1.2.4",
                        "status": "affected",
                        "versionType": "semver",
                    }
                ],
                "defaultStatus": "unaffected",
            }
        ],
        "references": [{"url": "https://lockstep.example.org/advisories/LSA-2026-0001"}],
        "x_generator": {"engine": "Lockstep tests"},
    }
    if date_public is not None:
        record["datePublic"] = date_public
    record.update(extra)
    return record
