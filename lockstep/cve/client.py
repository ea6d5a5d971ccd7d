"""The CVE authority adapter: who reserves IDs and publishes records, when it is not us.

`LOCKSTEP_CVE_MODE` chooses:

- `"local"` (the default): this instance is a CNA with its own block of IDs
  (`LOCKSTEP_CVE_BLOCK`). Allocation needs the database, so it lives in `lockstep.cve.actions`
  and there is no remote authority: `get_cve_authority()` returns None and publishing a record
  is a state change in Lockstep.
- `"services"`: CVE Services (the CVE Program's API) through cvelib's `CveApi`, with the account
  in `LOCKSTEP_CVE_API_URL`, `LOCKSTEP_CVE_USER`, `LOCKSTEP_CVE_ORG` (the CNA's short name),
  `LOCKSTEP_CVE_API_KEY` and optionally `LOCKSTEP_CVE_ORG_ID` (the CNA's UUID; without it
  cvelib asks the service for it on every publication).

Adapters never touch the ORM. Every failure is a `CveAuthorityError` whose `retryable` says
whether the same call may succeed later (network trouble, 5xx, 429) or needs a person (4xx,
an invalid record).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, cast

import requests
from cvelib.cve_api import (  # type: ignore[import-untyped]
    CveApi,
    CveRecord,
    CveRecordValidationError,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jsonschema_rs import Draft7Validator

from lockstep.core.errors import LockstepError, ValidationError
from lockstep.cve.policy import cna_container, parse_cve_id

RECORD_EXISTS = "CVE_RECORD_EXISTS"
_PLACEHOLDER_ORG_ID = "00000000-0000-4000-8000-000000000000"
_MAX_DETAIL = 600


class CveMode(StrEnum):
    LOCAL = "local"
    SERVICES = "services"


class CveAuthorityError(LockstepError):
    """The CVE authority refused or could not be reached; `message` says which and why."""

    code = "cve_authority"

    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, error: str = ""
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status  # the HTTP status, when the service answered
        self.error = error  # the service's error code, e.g. "CVE_RECORD_EXISTS"


class CveAuthority(Protocol):
    """A remote CVE authority (CVE Services). Methods raise `CveAuthorityError` only."""

    def reserve(self, year: int) -> str:
        """Reserve one ID of `year`; return it (`CVE-YYYY-NNNN`)."""
        ...

    def publish(self, cve_id: str, record: dict[str, Any]) -> None:
        """Publish the record (CNA container or whole CVE JSON 5 record) of a reserved ID.

        Idempotent: if a record already exists (an earlier push succeeded but was not
        recorded), it is replaced by this one.
        """
        ...

    def update(self, cve_id: str, record: dict[str, Any]) -> None:
        """Replace the record of a published ID."""
        ...

    def reject(self, cve_id: str, reason: str) -> None:
        """Reject a reserved or published ID, saying why. Idempotent."""
        ...


def cve_mode() -> CveMode:
    raw = str(getattr(settings, "LOCKSTEP_CVE_MODE", "") or CveMode.LOCAL)
    try:
        return CveMode(raw.strip().lower())
    except ValueError:
        msg = f"LOCKSTEP_CVE_MODE must be 'local' or 'services' (got {raw!r})."
        raise ImproperlyConfigured(msg) from None


def get_cve_authority() -> CveAuthority | None:
    """CVE Services in "services" mode; None in "local" mode, where Lockstep is the authority."""
    if cve_mode() is CveMode.LOCAL:
        return None
    return services_authority()


def services_authority() -> CveServicesAuthority:
    """CVE Services with the configured account, whatever the mode (for IDs reserved there)."""
    return CveServicesAuthority(ServicesAccount.from_settings())


@dataclass(frozen=True)
class ServicesAccount:
    url: str
    user: str
    org: str
    api_key: str
    org_id: str = ""

    @classmethod
    def from_settings(cls) -> ServicesAccount:
        values = {
            name: str(getattr(settings, name, "") or "").strip()
            for name in (
                "LOCKSTEP_CVE_API_URL",
                "LOCKSTEP_CVE_USER",
                "LOCKSTEP_CVE_ORG",
                "LOCKSTEP_CVE_API_KEY",
                "LOCKSTEP_CVE_ORG_ID",
            )
        }
        missing = [name for name, value in values.items() if not value]
        missing = [name for name in missing if name != "LOCKSTEP_CVE_ORG_ID"]
        if missing:
            msg = (
                f"CVE Services is not configured: set {', '.join(missing)} (the API URL is "
                "https://cveawg.mitre.org/api/, or https://cveawg-test.mitre.org/api/ to try)."
            )
            # Retryable: once the operator sets them, held records go out on the next try.
            raise CveAuthorityError(msg, retryable=True)
        url = values["LOCKSTEP_CVE_API_URL"]
        return cls(
            # cvelib joins paths onto the URL: without the final slash "api/" would be lost.
            url=url if url.endswith("/") else f"{url}/",
            user=values["LOCKSTEP_CVE_USER"],
            org=values["LOCKSTEP_CVE_ORG"],
            api_key=values["LOCKSTEP_CVE_API_KEY"],
            org_id=values["LOCKSTEP_CVE_ORG_ID"],
        )


def _body(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return cast("dict[str, Any]", data) if isinstance(data, dict) else {}


def _refusal(what: str, response: requests.Response | None) -> CveAuthorityError:
    if response is None:
        return CveAuthorityError(f"CVE Services failed to {what}.", retryable=True)
    status = response.status_code
    body = _body(response)
    error = str(body.get("error", "") or "")
    text = str(body.get("message", "") or response.reason or "")
    details = body.get("details")
    if details:
        text = f"{text} {details}"
    if status == 401:  # noqa: PLR2004 - HTTP status
        text = f"{text} (check LOCKSTEP_CVE_USER, LOCKSTEP_CVE_ORG and LOCKSTEP_CVE_API_KEY)"
    label = f"{status} {error}".strip()
    return CveAuthorityError(
        f"CVE Services refused to {what} ({label}): {text.strip()[:_MAX_DETAIL]}",
        retryable=status >= 500 or status == 429,  # noqa: PLR2004 - HTTP statuses
        status=status,
        error=error,
    )


@contextmanager
def _calling(what: str) -> Iterator[None]:
    """Turn whatever cvelib and requests raise into one `CveAuthorityError`."""
    try:
        yield
    except CveRecordValidationError as exc:
        msg = f"The CVE record is not valid, so it was not sent to {what}: {exc}"
        raise CveAuthorityError(msg[:_MAX_DETAIL], retryable=False) from exc
    except requests.HTTPError as exc:
        raise _refusal(what, exc.response) from exc
    except requests.RequestException as exc:
        msg = f"CVE Services could not be reached to {what}: {exc}"
        raise CveAuthorityError(msg[:_MAX_DETAIL], retryable=True) from exc


def _exists(exc: requests.HTTPError) -> bool:
    response = exc.response
    return response is not None and _body(response).get("error") == RECORD_EXISTS


class CveServicesAuthority:
    """CVE Services through cvelib. Records are copied before cvelib adds to them."""

    def __init__(self, account: ServicesAccount) -> None:
        self.account = account
        self._api = CveApi(
            username=account.user, org=account.org, api_key=account.api_key, url=account.url
        )

    def _container(self, record: dict[str, Any]) -> dict[str, Any]:
        container = copy.deepcopy(cna_container(record))
        if self.account.org_id and "providerMetadata" not in container:
            container["providerMetadata"] = {"orgId": self.account.org_id}
        return container

    def reserve(self, year: int) -> str:
        with _calling(f"reserve a CVE ID for {year}"):
            answer = self._api.reserve(count=1, random=False, year=str(year))
        try:
            cve_id = str(answer["cve_ids"][0]["cve_id"])
            parse_cve_id(cve_id)
        except (KeyError, IndexError, TypeError, ValidationError):
            msg = f"CVE Services answered a reservation with no usable CVE ID: {answer!r}"
            raise CveAuthorityError(msg[:_MAX_DETAIL], retryable=False) from None
        return cve_id

    def publish(self, cve_id: str, record: dict[str, Any]) -> None:
        container = self._container(record)
        with _calling(f"publish {cve_id}"):
            try:
                self._api.publish(cve_id, copy.deepcopy(container))
            except requests.HTTPError as exc:
                if not _exists(exc):
                    raise
                self._api.update_published(cve_id, container)

    def update(self, cve_id: str, record: dict[str, Any]) -> None:
        with _calling(f"update {cve_id}"):
            self._api.update_published(cve_id, self._container(record))

    def reject(self, cve_id: str, reason: str) -> None:
        container = self._container({"rejectedReasons": [{"lang": "en", "value": reason}]})
        with _calling(f"reject {cve_id}"):
            try:
                self._api.reject(cve_id, copy.deepcopy(container))
            except requests.HTTPError as exc:
                if not _exists(exc):
                    raise
                self._api.update_rejected(cve_id, container)


def check_cve_record(record: dict[str, Any]) -> None:
    """Check a record against the CVE JSON 5 published CNA container schema (cvelib's copy).

    `providerMetadata` may be left out: it is filled in when the record is sent.
    """
    container = copy.deepcopy(cna_container(record))
    container.setdefault("providerMetadata", {"orgId": _PLACEHOLDER_ORG_ID})
    errors = list(_cna_validator().iter_errors(container))
    if errors:
        problems = "; ".join(sorted({error.message for error in errors})[:5])
        msg = f"The CVE record does not follow the CVE JSON 5 schema: {problems}"
        raise ValidationError(msg[:_MAX_DETAIL], field="record")


@functools.cache
def _cna_validator() -> Draft7Validator:
    """cvelib's published-CNA-container schema, compiled once (cvelib's own `validate` reads
    and compiles it on every call), checked by jsonschema-rs: the Python `jsonschema` package
    took about 7 ms a record, this about 0.8 ms. As cvelib checks it, `format` is not asserted."""
    with Path(CveRecord.Schemas.CNA_PUBLISHED).open(encoding="utf-8") as handle:
        return Draft7Validator(json.load(handle), validate_formats=False)
