"""Keys with path traversal never reach the lake: refused at pull time, nothing stored.

Sources name their files: a drop-zone object key (SeaweedFS stores `%2e%2e` literally; AWS S3
would store `..` too) or an HTTP server's Content-Disposition. Each such name fails the pull with
an error naming it, and no object of the dataset is written to the lake.
"""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from citydata.clients import s3_client
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import UnsafeKeyError
from ingest.pull import pull

pytestmark = pytest.mark.integration


def _spec(unique: str, source: dict) -> DatasetSpec:
    return DatasetSpec.model_validate(
        {
            "id": f"sec-trav-{unique}",
            "agency": {"id": f"test-trav-{unique}", "title": {"vi": "Thử nghiệm"}},
            "title": {"vi": "Thử nghiệm đường dẫn"},
            "description": {"vi": "Khóa đối tượng có '..' phải bị từ chối."},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "source": source,
        }
    )


def _lake_keys_of(lake: Lake, spec: DatasetSpec) -> list[str]:
    return [*lake.keys(f"raw/{spec.agency.id}/"), *lake.keys(f"state/{spec.id}/")]


def _traversing(key: str) -> bool:
    text = key
    for _ in range(3):
        text = unquote(text)
    return ".." in text.split("/") or text.startswith("/")


@pytest.fixture
def lake(stack_ready) -> Lake:
    return Lake(stack_ready)


@pytest.mark.parametrize("name", ["%2e%2e/%2e%2e/evil.csv", "ok/%2E%2E%2Fevil.csv", "%252e%252e/evil.csv"])
def test_drop_zone_object_with_encoded_traversal_is_refused(stack_ready, lake, unique, name):
    client = s3_client(stack_ready)
    bucket, prefix = stack_ready.s3.drop_bucket, f"test-trav-{unique}/"
    key = prefix + name
    client.put_object(bucket, key, io.BytesIO(b"a,b\n1,2\n"), 8)
    spec = _spec(unique, {"type": "s3_drop", "prefix": prefix, "pattern": "*.csv"})
    try:
        assert [o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True)] == [key]
        with pytest.raises(Exception, match="traversal") as err:
            pull(spec, stack_ready, lake)
        assert name in str(err.value)
        assert _lake_keys_of(lake, spec) == []
    finally:
        client.remove_object(bucket, key)


class _Handler(http.server.BaseHTTPRequestHandler):
    filename = ""

    def do_GET(self) -> None:
        body = b"a,b\n1,2\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Disposition", f'attachment; filename="{self.filename}"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/data.csv", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("filename", ["..", "%2e%2e", "%252e%252e"])
def test_http_file_name_that_is_a_traversal_is_refused(stack_ready, lake, unique, server, filename):
    url, handler = server
    handler.filename = filename
    spec = _spec(unique, {"type": "http_file", "url": url})
    with pytest.raises(UnsafeKeyError):
        pull(spec, stack_ready, lake)
    assert _lake_keys_of(lake, spec) == []


def test_http_file_name_with_folders_is_stored_by_its_base_name(stack_ready, lake, unique, server):
    url, handler = server
    handler.filename = "%2e%2e%2f%2e%2e%2fetc%2fevil.csv"
    spec = _spec(unique, {"type": "http_file", "url": url})
    result = pull(spec, stack_ready, lake)
    try:
        [stored] = [o["key"] for o in result.objects]
        assert stored.startswith(f"raw/{spec.agency.id}/{spec.id}/") and stored.endswith("/evil.csv")
        assert not _traversing(stored)
    finally:
        for key in _lake_keys_of(lake, spec):
            lake.client.remove_object(lake.bucket, key)


def test_no_key_in_the_lake_traverses(exercised, lake):
    """After a real run (and whatever ran before it): the lake holds no traversing key."""
    keys = list(lake.keys(""))
    assert keys, "the lake is empty: nothing was checked"
    assert [k for k in keys if _traversing(k)] == []
