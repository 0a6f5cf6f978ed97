"""Pure logic of the REST API connector: config, env references, paths, pagination, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from citydata.spec.sources import source_union
from connectors.base import ConnectorError, resolve_env
from connectors.sources._rest_json import MISSING, Number, dig, dumps, later, loads, records_of, state_value
from connectors.sources._rest_paging import (
    CursorPagination,
    LinkHeaderPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
    PageRequest,
    ServedPage,
)
from connectors.sources.rest_api import RestApiConfig, parse_retry_after, redact

BASE = "https://api.hcmc.gov.vn/v1/ho-so"


def follow(pagination, request, body=None, count=10, links=None):
    return pagination.next(request, ServedPage(body, count, BASE, links or {}))


def test_spec_source_section_selects_the_rest_config():
    source = TypeAdapter(source_union()).validate_python(
        {
            "type": "rest_api",
            "url": BASE,
            "headers": {"Authorization": "env:AGENCY_X_TOKEN"},
            "records_path": "data.items",
            "pagination": {"type": "cursor", "cursor_path": "meta.next"},
            "incremental": {"param": "updated_since", "field": "updated_at"},
        }
    )
    assert isinstance(source, RestApiConfig)
    assert isinstance(source.pagination, CursorPagination)


def test_config_validation():
    assert isinstance(RestApiConfig(type="rest_api", url=BASE).pagination, NoPagination)
    short = RestApiConfig.model_validate({"type": "rest_api", "url": BASE, "pagination": "link_header"})
    assert isinstance(short.pagination, LinkHeaderPagination)
    with pytest.raises(ValidationError, match="env:NAME"):
        RestApiConfig.model_validate({"type": "rest_api", "url": BASE, "headers": {"X-Key": "env:BAD-NAME"}})
    with pytest.raises(ValidationError, match=r"size_param needs pagination\.size"):
        RestApiConfig.model_validate(
            {"type": "rest_api", "url": BASE, "pagination": {"type": "page_number", "size_param": "n"}}
        )
    with pytest.raises(ValidationError):
        RestApiConfig.model_validate({"type": "rest_api", "url": "ftp://x", "pagination": "none"})
    with pytest.raises(ValidationError):
        RestApiConfig.model_validate({"type": "rest_api", "url": BASE, "pagination": "sideways"})


def test_env_references(monkeypatch):
    monkeypatch.setenv("AGENCY_X_TOKEN", "Bearer bí-mật")
    secrets: list[str] = []
    assert resolve_env("env:AGENCY_X_TOKEN", secrets) == "Bearer bí-mật"
    assert secrets == ["Bearer bí-mật"]
    assert resolve_env("application/json", secrets) == "application/json"
    assert resolve_env("env:not valid", secrets) == "env:not valid"  # not a reference (refused by config)
    monkeypatch.delenv("AGENCY_X_TOKEN")
    with pytest.raises(ConnectorError, match="AGENCY_X_TOKEN is not set"):
        resolve_env("env:AGENCY_X_TOKEN")


def test_redact_raw_and_url_encoded():
    secrets = ["khoá bí/mật"]
    text = "https://x/?key=kho%C3%A1+b%C3%AD%2Fm%E1%BA%ADt&a=1 khoá bí/mật kho%C3%A1%20b%C3%AD%2Fm%E1%BA%ADt"
    assert redact(text, secrets) == "https://x/?key=***&a=1 *** ***"


def test_dig_and_records():
    body = {"data": {"items": [{"id": 1}, {"id": 2}], "empty": None}, "list": [[{"a": 1}]]}
    assert dig(body, "data.items.1.id") == 2
    assert dig(body, "list.0.0.a") == 1
    assert dig(body, "data.nope") is MISSING and dig(body, "data.items.5") is MISSING
    assert dig(body, None) is body
    assert records_of(body, "data.items") == [{"id": 1}, {"id": 2}]
    assert records_of(body, "data.empty") == []
    assert records_of([{"id": 1}], None) == [{"id": 1}]
    with pytest.raises(ValueError, match="not found"):
        records_of(body, "data.items_")
    with pytest.raises(ValueError, match="set records_path"):
        records_of(body, None)


def test_later_compares_numbers_and_iso_text():
    assert later(10, 9) and not later(9, 10) and later(2.5, 2)
    assert later("2024-03-10T00:00:00+07:00", "2024-03-09T23:59:59+07:00")
    assert later("10", 9) is False  # mixed: compared as text ("10" < "9")


def test_numbers_survive_parse_and_dump_exactly():
    text = (
        '{"b": 1.50, "a": [1e-7, 12345678901234567890123, -0.0], "t": "Thủ Đức \\u2013 \\"Q9\\"", "n": null}'
    )
    value = loads(text)
    assert isinstance(value["b"], Number) and value["b"] == "1.50"
    assert (
        dumps(value) == '{"b":1.50,"a":[1e-7,12345678901234567890123,-0.0],"t":"Thủ Đức – \\"Q9\\"","n":null}'
    )
    assert dumps(value, sort_keys=True).startswith('{"a":[1e-7,')
    assert (
        later(Number("10.5"), 9) and later(Number("2.50"), Number("2.4")) and not later(Number("1e-7"), 0.1)
    )
    assert state_value(Number("1.50")) == 1.5 and state_value(Number("1e5")) == 100000
    assert state_value("2024-03-01") == "2024-03-01"


def test_parse_retry_after():
    now = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0 and parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Fri, 01 Mar 2024 08:00:30 GMT", now) == 30.0
    assert parse_retry_after("Fri, 01 Mar 2024 07:00:00 GMT", now) == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


def test_page_number_urls():
    pagination = PageNumberPagination(type="page_number", param="trang", size_param="so_dong", size=50)
    first = pagination.first(BASE + "?tinh=79", {"loai": "hộ kinh doanh"})
    assert first.full_url() == BASE + "?tinh=79&loai=h%E1%BB%99+kinh+doanh&trang=1&so_dong=50"
    second = follow(pagination, first, count=50)
    assert second is not None and second.params["trang"] == "2" and second.position == 2
    assert follow(pagination, second, count=49) is None  # short page
    assert follow(pagination, second, count=0) is None


def test_offset_urls_follow_records_received():
    pagination = OffsetPagination(type="offset", limit=100, stop_on_short_page=False)
    first = pagination.first(BASE, {})
    assert first.full_url() == BASE + "?offset=0&limit=100"
    second = follow(pagination, first, count=40)  # the server capped the page at 40
    assert second is not None and second.full_url() == BASE + "?offset=40&limit=100"
    assert follow(pagination, second, count=0) is None
    assert follow(OffsetPagination(type="offset", limit=100), first, count=40) is None


def test_cursor_urls():
    pagination = CursorPagination(type="cursor", cursor_path="meta.next", param="after")
    first = pagination.first(BASE, {"q": "x"})
    assert first.full_url() == BASE + "?q=x"
    second = follow(pagination, first, body={"meta": {"next": "YWJj/+="}})
    assert second is not None and second.full_url() == BASE + "?q=x&after=YWJj%2F%2B%3D"
    assert follow(pagination, second, body={"meta": {"next": None}}) is None
    assert follow(pagination, second, body={"meta": {}}) is None
    assert follow(pagination, second, body={"meta": {"next": "zzz"}}, count=0) is None
    with pytest.raises(ValueError, match="same cursor"):
        follow(pagination, second, body={"meta": {"next": "YWJj/+="}})


def test_next_url_and_link_header():
    nxt = NextUrlPagination(type="next_url", next_path="links.next")
    start = PageRequest(BASE, {"page_size": "10"})
    found = follow(nxt, start, body={"links": {"next": "/v1/ho-so?page=2"}})
    assert found == PageRequest("https://api.hcmc.gov.vn/v1/ho-so?page=2", {})
    assert follow(nxt, start, body={"links": {"next": None}}) is None
    link = LinkHeaderPagination(type="link_header")
    links = {"next": {"url": "?page=3", "rel": "next"}, "last": {"url": "?page=9", "rel": "last"}}
    found = follow(link, start, links=links)
    assert found is not None and found.full_url() == BASE + "?page=3"
    assert follow(link, start, links={"last": links["last"]}) is None
    assert follow(NoPagination(), start) is None
