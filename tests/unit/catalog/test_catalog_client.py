"""The CKAN client wrapper (typed errors, retries, write log) and dataset references, without a server."""

import ckanapi
import pytest
import requests

from catalog.client import (
    CatalogClient,
    CatalogError,
    CatalogUnavailable,
    NotAuthorizedError,
    NotFoundError,
    ValidationFailed,
    is_write,
)
from citydata.data import DatasetNotFound, parse_reference
from citydata.settings import Settings


class FakeCkan:
    address = "http://ckan.test/"

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def call_action(self, action, data, requests_kwargs=None):
        self.calls.append((action, data, requests_kwargs))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def client(*outcomes):
    return CatalogClient(Settings(), ckan=FakeCkan(*outcomes), backoff_s=0)


def test_reads_and_writes_are_told_apart():
    assert (
        not is_write("package_show") and not is_write("package_search") and not is_write("datastore_search")
    )
    assert not is_write("resource_view_list") and not is_write("datastore_info")
    assert is_write("package_update") and is_write("datastore_upsert") and is_write("dataset_purge")


def test_transient_failures_are_retried_and_writes_logged():
    c = client(
        requests.ConnectionError("down"), ckanapi.CKANAPIError("['u', 502, 'bad gateway']"), {"id": "x"}
    )
    assert c.call("package_update", id="x") == {"id": "x"}
    assert len(c.ckan.calls) == 3 and c.writes == ["package_update"] * 3
    assert c.ckan.calls[0][2] == {"timeout": c.timeout_s}
    c = client({"id": "x"})
    c.call("package_show", id="x")
    assert c.writes == []


def test_errors_are_typed():
    with pytest.raises(NotFoundError):
        client(ckanapi.NotFound("Dataset not found")).call("package_show", id="x")
    assert client(ckanapi.NotFound()).show("package_show", id="x") is None
    with pytest.raises(NotAuthorizedError):
        client(ckanapi.NotAuthorized("no")).call("package_show", id="x")
    with pytest.raises(ValidationFailed) as err:
        client(ckanapi.ValidationError({"notes": ["Missing value"], "__type": "Validation Error"})).call(
            "package_create", name="x"
        )
    assert err.value.errors == {"notes": ["Missing value"]}
    with pytest.raises(CatalogError, match="409"):
        client(ckanapi.CKANAPIError("['u', 409, 'conflict']")).call("package_create")
    with pytest.raises(CatalogUnavailable):
        client(*[requests.Timeout("slow")] * 4).call("package_show", id="x")


def test_dataset_references():
    base = "http://127.0.0.1:15000"
    assert parse_reference("bai-giu-xe", base) == (base, "bai-giu-xe")
    assert parse_reference("https://data.gov.vn/portal/dataset/bai-giu-xe/resource/1", base) == (
        "https://data.gov.vn/portal",
        "bai-giu-xe",
    )
    assert parse_reference("https://data.gov.vn/dataset/bai-giu-xe.ttl", base) == (
        "https://data.gov.vn",
        "bai-giu-xe",
    )
    with pytest.raises(DatasetNotFound):
        parse_reference("https://data.gov.vn/organization/so-gtvt", base)


def test_retry_policy_comes_from_settings_and_the_error_names_ckan():
    settings = Settings(ckan={"attempts": 2, "backoff_s": 0.0, "backoff_max_s": 0.0})  # type: ignore[arg-type]
    fake = FakeCkan(*[requests.ConnectionError("refused")] * 3)
    c = CatalogClient(settings, ckan=fake)
    expected = r"CKAN package_show: unavailable at http://ckan\.test"
    with pytest.raises(CatalogUnavailable, match=expected) as err:
        c.call("package_show", id="x")
    assert err.value.attempts == 2 and len(fake.calls) == 2
    capped = CatalogClient(Settings(ckan={"backoff_s": 1.0, "backoff_max_s": 3.0}), ckan=fake)  # type: ignore[arg-type]
    assert [capped.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]
