"""The CVE Services adapter, through cvelib's real client, against the fake service on 127.0.0.1."""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import time_machine
from cvelib.cve_api import CveApi
from django.core.exceptions import ImproperlyConfigured

from lockstep.core.errors import ValidationError
from lockstep.cve.client import (
    CveAuthorityError,
    CveMode,
    CveServicesAuthority,
    ServicesAccount,
    check_cve_record,
    cve_mode,
    get_cve_authority,
    services_authority,
)
from tests.fakes.cve_services import ORG_ID, FakeCveServices, sample_record, serve, settings_for

CVE_ID = r"CVE-2026-2\d{4}"


@pytest.fixture
def fake() -> Iterator[FakeCveServices]:
    with time_machine.travel("2026-12-02 15:00:00+00:00", tick=False), serve() as service:
        yield service


def _authority(fake: FakeCveServices, **changes: str) -> CveServicesAuthority:
    account = {
        "url": fake.url,
        "user": fake.user,
        "org": fake.org,
        "api_key": fake.api_key,
        "org_id": fake.org_id,
        **changes,
    }
    return CveServicesAuthority(ServicesAccount(**account))


def _api(fake: FakeCveServices) -> CveApi:
    return CveApi(username=fake.user, org=fake.org, api_key=fake.api_key, url=fake.url)


def test_mode_selects_the_authority(settings: Any, fake: FakeCveServices) -> None:
    settings.LOCKSTEP_CVE_MODE = ""
    assert cve_mode() is CveMode.LOCAL
    assert get_cve_authority() is None
    for name, value in settings_for(fake).items():
        setattr(settings, name, value)
    settings.LOCKSTEP_CVE_MODE = " Services "
    authority = get_cve_authority()
    assert isinstance(authority, CveServicesAuthority)
    assert authority.account == ServicesAccount(
        fake.url, fake.user, fake.org, fake.api_key, fake.org_id
    )
    settings.LOCKSTEP_CVE_MODE = "mitre"
    with pytest.raises(ImproperlyConfigured, match="'local' or 'services'"):
        cve_mode()


def test_missing_account_settings_are_named(settings: Any) -> None:
    settings.LOCKSTEP_CVE_API_URL = "https://cveawg-test.mitre.org/api"
    settings.LOCKSTEP_CVE_USER = "cna@example.org"
    settings.LOCKSTEP_CVE_ORG = ""
    settings.LOCKSTEP_CVE_API_KEY = ""
    settings.LOCKSTEP_CVE_ORG_ID = ""
    with pytest.raises(CveAuthorityError, match="set LOCKSTEP_CVE_ORG, LOCKSTEP_CVE_API_KEY") as e:
        services_authority()
    assert e.value.retryable  # once the operator sets them, held records go out
    settings.LOCKSTEP_CVE_ORG, settings.LOCKSTEP_CVE_API_KEY = "example", "key"
    # cvelib joins paths onto the URL: the final slash is added so "api/" is kept.
    assert services_authority().account.url == "https://cveawg-test.mitre.org/api/"


def test_reserve_one_id_of_the_year(fake: FakeCveServices) -> None:
    authority = _authority(fake)
    first, second = authority.reserve(2026), authority.reserve(2026)
    assert (first, second) == ("CVE-2026-20000", "CVE-2026-20001")
    assert fake.ids[first].id_json()["requested_by"] == {"cna": fake.org, "user": fake.user}
    assert authority.reserve(2027) == "CVE-2027-20000"


def test_publish_sends_exactly_the_record(fake: FakeCveServices) -> None:
    authority = _authority(fake)
    cve_id = authority.reserve(2026)
    record = sample_record()
    sent = copy.deepcopy(record)
    authority.publish(cve_id, record)
    assert record == sent  # cvelib adds to what it is given: the adapter gave it a copy
    assert fake.published_record(cve_id) == sent
    assert _api(fake).show_cve_record(cve_id)["cveMetadata"]["state"] == "PUBLISHED"


def test_publish_fills_in_the_provider_from_settings_or_the_service(
    fake: FakeCveServices,
) -> None:
    bare = sample_record()
    del bare["providerMetadata"]
    with_id = _authority(fake)
    cve_id = with_id.reserve(2026)
    with_id.publish(cve_id, bare)
    assert fake.published_record(cve_id)["providerMetadata"] == {"orgId": ORG_ID}  # type: ignore[index]
    assert fake.count("GET", r"/api/org/.*") == 0
    without_id = _authority(fake, org_id="")
    other = without_id.reserve(2026)
    whole = {"dataType": "CVE_RECORD", "containers": {"cna": bare}}
    without_id.publish(other, whole)  # a whole record: its CNA container is sent
    assert fake.published_record(other)["providerMetadata"] == {"orgId": ORG_ID}  # type: ignore[index]
    assert fake.count("GET", r"/api/org/lockstep-test") == 1


def test_publish_again_replaces_the_record(fake: FakeCveServices) -> None:
    """A push that succeeded but was not recorded is pushed again: that must not fail."""
    authority = _authority(fake)
    cve_id = authority.reserve(2026)
    authority.publish(cve_id, sample_record())
    changed = sample_record(title="Heap overflow in inflate() (corrected)")
    authority.publish(cve_id, changed)
    assert fake.published_record(cve_id) == changed
    assert fake.count("PUT", rf"/api/cve/{cve_id}/cna") == 1


def test_update_and_reject(fake: FakeCveServices) -> None:
    authority = _authority(fake)
    cve_id = authority.reserve(2026)
    with pytest.raises(CveAuthorityError, match="CVE_RECORD_DNE") as refused:
        authority.update(cve_id, sample_record())
    assert not refused.value.retryable
    authority.publish(cve_id, sample_record())
    authority.update(cve_id, sample_record(title="Updated"))
    assert fake.published_record(cve_id)["title"] == "Updated"  # type: ignore[index]
    authority.reject(cve_id, "Not a vulnerability.")
    authority.reject(cve_id, "Not a vulnerability: the input is trusted.")  # idempotent
    entry = fake.ids[cve_id]
    assert entry.state == "REJECTED"
    assert entry.cna == {
        "providerMetadata": {"orgId": ORG_ID},
        "rejectedReasons": [{"lang": "en", "value": "Not a vulnerability: the input is trusted."}],
        "x_generator": {"engine": "cvelib 1.8.0"},
    }


def test_a_reserved_id_can_be_rejected(fake: FakeCveServices) -> None:
    authority = _authority(fake)
    cve_id = authority.reserve(2026)
    authority.reject(cve_id, "Reserved by mistake.")
    assert fake.ids[cve_id].state == "REJECTED"


def test_wrong_credentials_are_refused_not_retried(fake: FakeCveServices) -> None:
    with pytest.raises(CveAuthorityError, match="401 UNAUTHORIZED") as refused:
        _authority(fake, api_key="wrong").reserve(2026)
    assert not refused.value.retryable
    assert refused.value.status == 401
    assert "LOCKSTEP_CVE_API_KEY" in refused.value.message


def test_5xx_and_network_errors_are_retryable(fake: FakeCveServices) -> None:
    authority = _authority(fake)
    fake.fail_next(1)
    with pytest.raises(CveAuthorityError, match="503 SERVICE_UNAVAILABLE") as refused:
        authority.reserve(2026)
    assert refused.value.retryable
    assert refused.value.error == "SERVICE_UNAVAILABLE"
    fake.fail_next(1, status=429)
    with pytest.raises(CveAuthorityError) as limited:
        authority.reserve(2026)
    assert limited.value.retryable
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = _authority(fake, url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(CveAuthorityError, match="could not be reached") as unreachable:
        down.reserve(2026)
    assert unreachable.value.retryable
    assert unreachable.value.status is None


def test_refusals_by_the_service_are_not_retryable(fake: FakeCveServices) -> None:
    authority = _authority(fake)
    fake.add_foreign_id("CVE-2026-9999")
    with pytest.raises(CveAuthorityError, match="403 NOT_OWNER_CNA") as refused:
        authority.publish("CVE-2026-9999", sample_record())
    assert not refused.value.retryable
    cve_id = authority.reserve(2026)
    with pytest.raises(CveAuthorityError, match="datePublic cannot be in the future"):
        authority.publish(cve_id, sample_record(date_public="2026-12-03T00:00:00Z"))


def test_invalid_records_are_refused_before_sending(fake: FakeCveServices) -> None:
    authority = _authority(fake)
    cve_id = authority.reserve(2026)
    with pytest.raises(CveAuthorityError, match="not valid") as refused:
        authority.publish(cve_id, sample_record(references=[]))
    assert not refused.value.retryable
    assert fake.count("POST", rf"/api/cve/{cve_id}/cna") == 0


def test_unusable_answers(fake: FakeCveServices, monkeypatch: pytest.MonkeyPatch) -> None:
    authority = _authority(fake)
    fake.quota = 0
    with pytest.raises(CveAuthorityError, match="EXCEEDED_ID_QUOTA"):
        authority.reserve(2026)
    fake.quota = 5
    monkeypatch.setattr(fake, "_reserve", lambda _query: {"cve_ids": []})
    with pytest.raises(CveAuthorityError, match="no usable CVE ID") as empty:
        authority.reserve(2026)
    assert not empty.value.retryable


def test_an_answer_that_is_not_json(fake: FakeCveServices) -> None:
    response = requests.Response()
    response.status_code, response._content, response.reason = 502, b"<html>", "Bad Gateway"
    authority = _authority(fake)
    with pytest.raises(CveAuthorityError, match=r"502\): Bad Gateway") as refused:
        with_error(authority, requests.HTTPError(response=response))
    assert refused.value.retryable
    response._content = b"[1, 2]"
    with pytest.raises(CveAuthorityError, match="502"):
        with_error(authority, requests.HTTPError(response=response))
    response.status_code = 400
    response._content = b'{"error": "BAD_INPUT", "message": "Invalid", "details": ["no refs"]}'
    with pytest.raises(CveAuthorityError, match=r"\(400 BAD_INPUT\): Invalid \['no refs'\]"):
        with_error(authority, requests.HTTPError(response=response))
    with pytest.raises(CveAuthorityError, match="failed to reserve") as bare:
        with_error(authority, requests.HTTPError("no response"))
    assert bare.value.retryable


def with_error(authority: CveServicesAuthority, error: Exception) -> None:
    """Make cvelib raise `error` (as requests would) on the next call."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise error

    authority._api._post = broken
    authority.reserve(2026)


def test_check_cve_record() -> None:
    check_cve_record(sample_record())
    bare = sample_record()
    del bare["providerMetadata"]  # filled in when sent
    check_cve_record(bare)
    with pytest.raises(ValidationError, match=r"CVE JSON 5 schema: .*references") as refused:
        check_cve_record({k: v for k, v in sample_record().items() if k != "references"})
    assert refused.value.field == "record"


# The fake's own contract (so that the tests above test against something faithful) ---------


def test_fake_checks_what_cvelib_does_not(fake: FakeCveServices) -> None:
    api = _api(fake)
    cve_id = api.reserve(count=1, random=False, year="2026")["cve_ids"][0]["cve_id"]
    assert api.show_cve_id(cve_id)["state"] == "RESERVED"
    invalid = sample_record(references=[])
    with pytest.raises(requests.HTTPError) as refused:
        api.publish(cve_id, invalid, validate=False)
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["details"]
    stranger = sample_record(providerMetadata={"orgId": "8f7b3cc4-3b1f-4b53-9d6e-7e6c9f0e5a11"})
    with pytest.raises(requests.HTTPError, match="403"):
        api.publish(cve_id, stranger)
    with pytest.raises(requests.HTTPError, match="404"):
        api.show_cve_record(cve_id)
    with pytest.raises(requests.HTTPError, match="404"):
        api.show_cve_id("CVE-2026-0001")
    with pytest.raises(requests.HTTPError, match="400"):
        api.update_rejected(cve_id, {"rejectedReasons": [{"lang": "en", "value": "x"}]})
    api.reject(cve_id, {"rejectedReasons": [{"lang": "en", "value": "x"}]})
    api.update_rejected(cve_id, {"rejectedReasons": [{"lang": "en", "value": "y"}]})
    api.publish(cve_id, sample_record())  # a rejected ID may be published again
    with pytest.raises(requests.HTTPError, match="404"):
        api._get("nowhere")


def test_fake_reserves_in_batches_and_checks_input(fake: FakeCveServices) -> None:
    api = _api(fake)
    answer = api.reserve(count=3, random=False, year="2026")
    assert [i["cve_id"] for i in answer["cve_ids"]] == [
        "CVE-2026-20000",
        "CVE-2026-20001",
        "CVE-2026-20002",
    ]
    assert answer["meta"]["remaining_quota"] == 97
    for params in (
        {"amount": 2, "cve_year": 2026, "short_name": fake.org},
        {"amount": 0, "cve_year": 2026, "short_name": fake.org},
        {"amount": "x", "cve_year": 2026, "short_name": fake.org},
        {"amount": 1, "cve_year": 2026, "short_name": "other"},
    ):
        with pytest.raises(requests.HTTPError, match=r"40[03]"):
            api._post("cve-id", params=params)
    with pytest.raises(requests.HTTPError, match="400"):
        api._post(f"cve/{answer['cve_ids'][0]['cve_id']}/cna", data=b"not json")
    with pytest.raises(requests.HTTPError, match="404"):
        api._get("org/other")
