"""The REST API connector against a real HTTP server on 127.0.0.1 (every pagination style)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.base import ConnectorError, FetchContext, FetchResult
from connectors.formats.base import FormatOptions, ReadInfo
from connectors.formats.registry import reader_for
from connectors.registry import connector_for
from connectors.sources.rest_api import RestApiConfig, RestApiConnector

pytestmark = pytest.mark.integration

NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Thị Dung", "Huỳnh Minh Đức", "Võ Thị Én"]
WARDS = ["Phường Bến Nghé", "Phường Đa Kao", "Phường Tân Định", "Phường Võ Thị Sáu", "Phường Thảo Điền"]


def make_records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i + 1,
            "ho_ten": NAMES[i % len(NAMES)],
            "phuong": WARDS[i % len(WARDS)],
            "so_tien": 1_500_000.5 + i,
            "cap_nhat": f"2024-03-{i + 1:02d}T08:00:00+07:00",
            "ghi_chu": None if i % 4 == 0 else "Đã xử lý hồ sơ",
        }
        for i in range(n)
    ]


EXACT_PAGE = (
    b'{"ket_qua": [\n  {"ma": 12345678901234567890123, "tien": 1.50, "ty_le": 1e-7,'
    b' "ten": "B\\u00e0 R\xe1\xbb\x8ba \\u2013 V\xc5\xa9ng T\xc3\xa0u", "con": {"x": [1, null, true]}}\n]}'
)
TOKEN = "Bearer s3cr3t-t0ken-xyz"
API_KEY = "khoa-bi-mat-123"


@dataclass
class Hit:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float
    status: int = 200
    body: bytes = b""


@dataclass
class Api:
    """The server's data and what it saw; reset before each test."""

    records: list[dict[str, Any]] = field(default_factory=lambda: make_records(23))
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]


API = Api()


def dump(value: Any) -> bytes:
    # Pretty-printed and unescaped: the raw pages must keep these exact bytes.
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        hit = Hit(parts.path, query, dict(self.headers.items()), time.monotonic())
        with API.lock:
            API.hits.append(hit)
            seen = len(API.paths(parts.path))
        status, headers, body = self.route(parts.path, query, seen)
        hit.status, hit.body = status, body
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=do-not-keep")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def route(self, path: str, q: dict[str, str], seen: int) -> tuple[int, dict[str, str], bytes]:
        data = API.records
        if path == "/page":
            size = int(q.get("page_size", "10"))
            start = (int(q.get("page", "1")) - 1) * size
            return 200, {}, dump({"data": {"items": data[start : start + size]}, "meta": {"page": q["page"]}})
        if path == "/offset":
            offset, limit = int(q["offset"]), min(int(q["limit"]), 8)  # the server caps limit at 8
            return 200, {}, dump({"results": data[offset : offset + limit], "count": len(data)})
        if path == "/cursor":
            start = int(q["cursor"].removeprefix("tok-")) if "cursor" in q else 0
            end = start + 7
            nxt = f"tok-{end}" if end < len(data) else None
            return 200, {}, dump({"items": data[start:end], "paging": {"next_cursor": nxt}})
        if path == "/loop":
            return 200, {}, dump({"items": data[:2], "paging": {"next_cursor": "same"}})
        if path == "/link":
            page = int(q.get("page", "1"))
            start = (page - 1) * 10
            links = [f'</link?page={page + 1}>; rel="next"'] if start + 10 < len(data) else []
            links.append('<http://127.0.0.1/link?page=3>; rel="last"')
            return 200, {"Link": ", ".join(links)}, dump(data[start : start + 10])
        if path == "/next":
            page = int(q.get("p", "1"))
            start = (page - 1) * 9
            nxt = f"/next?p={page + 1}" if start + 9 < len(data) else None
            return 200, {}, dump({"next": nxt, "results": data[start : start + 9]})
        if path == "/exact":
            return 200, {}, EXACT_PAGE
        if path == "/single":
            return 200, {}, dump(data)
        if path == "/flaky429":
            if seen == 1:
                return 429, {"Retry-After": "1"}, dump({"error": "Quá nhiều yêu cầu"})
            return 200, {}, dump(data[:3])
        if path == "/flaky500":
            if seen == 1:
                return 500, {}, dump({"error": "Lỗi máy chủ"})
            return 200, {}, dump(data[:3])
        if path == "/always503":
            return 503, {}, dump({"error": "Bảo trì hệ thống"})
        if path == "/incremental":
            since = q.get("updated_since", "")
            newer = [r for r in data if r["cap_nhat"] > since]
            size, page = int(q["page_size"]), int(q["page"])
            return 200, {}, dump({"data": newer[(page - 1) * size : page * size]})
        if path == "/secure":
            if q.get("api_key") != API_KEY or self.headers.get("Authorization") != TOKEN:
                return 401, {}, dump({"error": "Không có quyền truy cập"})
            return 200, {}, dump({"data": data[:2]})
        return 404, {}, dump({"error": f"Không tìm thấy {path}"})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def fresh_api() -> None:
    API.records = make_records(23)
    API.hits.clear()


@pytest.fixture
def context(settings, tmp_path) -> FetchContext:
    return FetchContext(settings=settings, dataset_id="ho-so-thu-nghiem", workdir=tmp_path / "work")


def pull(context: FetchContext, state: dict[str, Any] | None = None, /, **source: Any) -> FetchResult:
    config = RestApiConfig.model_validate({"type": "rest_api", **source})
    assert connector_for(config) is RestApiConnector
    return RestApiConnector(config, context).fetch(state or {})


def records_of(result: FetchResult) -> list[dict[str, Any]]:
    first = result.objects[0]
    assert first.name == "records.jsonl"
    assert first.media_type == "application/x-ndjson"
    text = first.read_bytes().decode("utf-8")
    assert "Phường " in text  # UTF-8, not \u escapes
    return [json.loads(line) for line in text.splitlines()]


def assert_pages_are_raw(result: FetchResult, path: str) -> None:
    pages = result.objects[1:]
    served = [h for h in API.paths(path) if h.status == 200]
    assert [p.name for p in pages] == [f"page-{i:04d}.json" for i in range(1, len(served) + 1)]
    for page, hit in zip(pages, served, strict=True):
        assert page.read_bytes() == hit.body
        assert urlsplit(page.source_uri).path == path
        assert parse_qs(urlsplit(page.source_uri).query) == {k: [v] for k, v in hit.query.items()}
        assert page.media_type == "application/json; charset=utf-8"
        assert "Set-Cookie" not in page.headers and page.headers["Content-Length"] == str(len(hit.body))


def test_page_number_pagination(server, context):
    result = pull(
        context,
        url=f"{server}/page",
        records_path="data.items",
        pagination={"type": "page_number", "param": "page", "size_param": "page_size", "size": 10},
    )
    assert records_of(result) == API.records
    # 10 + 10 + 3: the short third page is the last one, no extra request.
    assert [h.query for h in API.paths("/page")] == [{"page": str(p), "page_size": "10"} for p in (1, 2, 3)]
    assert_pages_are_raw(result, "/page")
    # The project's reader picks records.jsonl as JSON Lines and reads every record.
    jsonl = result.objects[0]
    reader = reader_for(jsonl.name, None, jsonl.media_type)
    batches = list(reader.read(jsonl, FormatOptions(), ReadInfo()))
    assert reader.name == "jsonl" and sum(b.table.num_rows for b in batches) == 23
    assert batches[0].table.column("ho_ten")[0].as_py() == "Nguyễn Văn An"
    assert result.stats == {
        "pages": 3,
        "records": 23,
        "requests": 3,
        "retries": 0,
        "bytes": result.stats["bytes"],
    }
    assert not result.unchanged


def test_page_number_without_size_stops_on_empty_page(server, context):
    result = pull(context, url=f"{server}/page", records_path="data.items", pagination="page_number")
    assert records_of(result) == API.records
    assert [h.query["page"] for h in API.paths("/page")] == ["1", "2", "3", "4"]
    assert len(result.objects) == 1 + 4


def test_offset_pagination_advances_by_records_received(server, context):
    # The server caps limit at 8 while we ask for 10: offsets follow what was actually received.
    result = pull(
        context,
        url=f"{server}/offset",
        params={"loai": "hộ kinh doanh"},
        records_path="results",
        pagination={"type": "offset", "limit": 10, "stop_on_short_page": False},
    )
    assert records_of(result) == API.records
    assert [h.query for h in API.paths("/offset")] == [
        {"loai": "hộ kinh doanh", "offset": str(o), "limit": "10"} for o in (0, 8, 16, 23)
    ]
    assert_pages_are_raw(result, "/offset")


def test_cursor_pagination(server, context):
    result = pull(
        context,
        url=f"{server}/cursor",
        records_path="items",
        pagination={"type": "cursor", "cursor_path": "paging.next_cursor", "param": "cursor"},
    )
    assert records_of(result) == API.records
    assert [h.query.get("cursor") for h in API.paths("/cursor")] == [None, "tok-7", "tok-14", "tok-21"]
    assert_pages_are_raw(result, "/cursor")


def test_repeated_cursor_fails(server, context):
    with pytest.raises(ConnectorError, match="same cursor twice"):
        pull(
            context,
            url=f"{server}/loop",
            records_path="items",
            pagination={"type": "cursor", "cursor_path": "paging.next_cursor"},
        )
    assert len(API.paths("/loop")) == 2


def test_link_header_pagination(server, context):
    result = pull(context, url=f"{server}/link", pagination="link_header")
    assert records_of(result) == API.records
    assert [h.query for h in API.paths("/link")] == [{}, {"page": "2"}, {"page": "3"}]
    assert_pages_are_raw(result, "/link")
    assert 'rel="next"' in result.objects[1].headers["Link"]


def test_next_url_pagination(server, context):
    result = pull(
        context,
        url=f"{server}/next",
        records_path="results",
        pagination={"type": "next_url", "next_path": "next"},
    )
    assert records_of(result) == API.records
    assert [h.query for h in API.paths("/next")] == [{}, {"p": "2"}, {"p": "3"}]


def test_max_pages_is_a_hard_cap(server, context):
    with pytest.raises(ConnectorError, match="max_pages=2"):
        pull(
            context,
            url=f"{server}/page",
            records_path="data.items",
            pagination={"type": "page_number", "size_param": "page_size", "size": 5},
            max_pages=2,
        )
    assert len(API.paths("/page")) == 2


def test_rate_limit_spaces_requests(server, context):
    result = pull(
        context,
        url=f"{server}/page",
        records_path="data.items",
        pagination={"type": "page_number", "size_param": "page_size", "size": 5},
        rate_limit_per_s=4,
    )
    assert len(records_of(result)) == 23
    times = [h.at for h in API.paths("/page")]
    assert len(times) == 5
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.25 - 0.02, gaps


def test_429_waits_for_retry_after(server, context):
    result = pull(context, url=f"{server}/flaky429", backoff_s=0.01)
    hits = API.paths("/flaky429")
    assert [h.status for h in hits] == [429, 200]
    assert hits[1].at - hits[0].at >= 0.95  # Retry-After: 1, not the 0.01 s backoff
    assert records_of(result) == API.records[:3]
    assert result.stats["requests"] == 2 and result.stats["retries"] == 1
    assert len(result.objects) == 2  # the failed attempt is not a page


def test_500_is_retried_with_backoff(server, context):
    result = pull(context, url=f"{server}/flaky500", backoff_s=0.2)
    hits = API.paths("/flaky500")
    assert [h.status for h in hits] == [500, 200]
    assert hits[1].at - hits[0].at >= 0.19
    assert records_of(result) == API.records[:3]


def test_persistent_503_fails_after_retries(server, context):
    with pytest.raises(ConnectorError, match=r"HTTP 503 .* after 3 attempts"):
        pull(context, url=f"{server}/always503", retries=2, backoff_s=0.01)
    assert len(API.paths("/always503")) == 3


def test_client_error_is_not_retried(server, context):
    with pytest.raises(ConnectorError, match=r"/khong-co: HTTP 404"):
        pull(context, url=f"{server}/khong-co")
    assert len(API.paths("/khong-co")) == 1


def test_unreachable_server_fails_cleanly(context):
    with pytest.raises(ConnectorError, match="request failed after 2 attempts"):
        pull(context, url="http://127.0.0.1:9/khong-ton-tai", retries=1, backoff_s=0.01, timeout_s=2)


def test_env_secrets_are_sent_and_never_shown(server, context, monkeypatch):
    monkeypatch.setenv("AGENCY_X_TOKEN", TOKEN)
    monkeypatch.setenv("AGENCY_X_KEY", API_KEY)
    source = {
        "url": f"{server}/secure",
        "headers": {"Authorization": "env:AGENCY_X_TOKEN"},
        "params": {"api_key": "env:AGENCY_X_KEY"},
        "records_path": "data",
    }
    result = pull(context, **source)
    assert records_of(result) == API.records[:2]
    hit = API.paths("/secure")[0]
    assert hit.headers["Authorization"] == TOKEN and hit.query["api_key"] == API_KEY
    for obj in result.objects:
        assert API_KEY not in json.dumps(obj.metadata()) and "s3cr3t" not in json.dumps(obj.metadata())
        assert "api_key=***" in obj.source_uri

    monkeypatch.setenv("AGENCY_X_TOKEN", "Bearer wrong")
    with pytest.raises(ConnectorError) as failed:
        pull(context, **source)
    assert "HTTP 401" in str(failed.value) and API_KEY not in str(failed.value)

    monkeypatch.delenv("AGENCY_X_TOKEN")
    with pytest.raises(ConnectorError, match="AGENCY_X_TOKEN is not set"):
        pull(context, **source)


def test_unchanged_when_records_are_identical(server, context):
    first = pull(context, url=f"{server}/single")
    assert not first.unchanged and len(records_of(first)) == 23
    second = pull(context, first.state, url=f"{server}/single")
    assert second.unchanged and second.objects == [] and second.state == first.state
    API.records[5]["ghi_chu"] = "Đã cập nhật"
    third = pull(context, second.state, url=f"{server}/single")
    assert not third.unchanged and records_of(third)[5]["ghi_chu"] == "Đã cập nhật"


def test_incremental_param_from_state(server, context):
    source = {
        "url": f"{server}/incremental",
        "records_path": "data",
        "pagination": {"type": "page_number", "size_param": "page_size", "size": 10},
        "incremental": {"param": "updated_since", "field": "cap_nhat"},
    }
    first = pull(context, **source)
    assert records_of(first) == API.records
    assert "updated_since" not in API.paths("/incremental")[0].query
    assert first.state["incremental_value"] == "2024-03-23T08:00:00+07:00"

    API.hits.clear()
    second = pull(context, first.state, **source)
    assert second.unchanged and second.objects == []
    assert [h.query for h in API.paths("/incremental")] == [
        {"updated_since": "2024-03-23T08:00:00+07:00", "page": "1", "page_size": "10"}
    ]
    assert second.state == first.state

    new = {**make_records(24)[23], "ho_ten": "Đặng Thị Giang", "cap_nhat": "2024-04-02T09:30:00+07:00"}
    API.records.append(new)
    third = pull(context, second.state, **source)
    assert records_of(third) == [new]
    assert third.state["incremental_value"] == "2024-04-02T09:30:00+07:00"
    assert third.state["records"] == 1


def test_records_keep_numbers_exactly_as_served(server, context):
    result = pull(context, url=f"{server}/exact", records_path="ket_qua")
    assert result.objects[1].read_bytes() == EXACT_PAGE
    line = result.objects[0].read_bytes().decode()
    assert line == (
        '{"ma":12345678901234567890123,"tien":1.50,"ty_le":1e-7,'
        '"ten":"Bà Rịa – Vũng Tàu","con":{"x":[1,null,true]}}\n'
    )


def test_no_records_keeps_pages_only(server, context):
    API.records = []
    result = pull(context, url=f"{server}/single")
    assert [o.name for o in result.objects] == ["page-0001.json"]  # no empty records.jsonl
    assert result.stats["records"] == 0 and not result.unchanged
    assert pull(context, result.state, url=f"{server}/single").unchanged
