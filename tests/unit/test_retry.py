"""The one retry policy (citydata.retry) and each caller converted to it, against local stub servers.

No real waiting: stamina's testing mode (waits 0, attempts capped at the policy's) or a fake
`time.sleep` that records the waits (to see Retry-After and the exponential schedule).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import requests
import stamina
from minio.error import S3Error, ServerError

from citydata.retry import (
    RetryPolicy,
    TransientStatus,
    is_transient,
    parse_retry_after,
    retry_call,
    urllib3_retry,
)
from citydata.settings import CkanSettings, Settings

# --- a scripted local HTTP server -----------------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes]


class Stub(http.server.BaseHTTPRequestHandler):
    answers: ClassVar[list[Answer]] = []
    hits: ClassVar[list[tuple[str, str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        Stub.hits.append((self.command, self.path))
        status, headers, body = Stub.answers.pop(0) if len(Stub.answers) > 1 else Stub.answers[0]
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Stub.answers, Stub.hits = [(200, {}, b"{}")], []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def script(*answers: Answer) -> None:
    """The stub's next answers, in order; the last one is repeated."""
    Stub.answers = list(answers)


def ok(body: Any = None) -> Answer:
    return 200, {}, json.dumps({} if body is None else body).encode()


def status(code: int, body: bytes = b'{"error": "busy"}', **headers: str) -> Answer:
    return code, {k.replace("_", "-"): v for k, v in headers.items()}, body


@pytest.fixture
def no_waits() -> Iterator[None]:
    with stamina.set_testing(True, attempts=100, cap=True):  # the policy's attempts, no waits
        yield


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A fake clock: waits are recorded, not slept."""
    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


class Flaky:
    def __init__(self, *errors: BaseException) -> None:
        self.errors, self.calls = list(errors), 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


# --- the policy -----------------------------------------------------------------------------------


def test_attempts_count_every_try_then_the_last_error_is_raised(no_waits):
    fn = Flaky(*[requests.ConnectionError("down")] * 10)
    with pytest.raises(requests.ConnectionError):
        retry_call(RetryPolicy(attempts=3), fn)
    assert fn.calls == 3
    fn = Flaky(requests.Timeout("slow"), TransientStatus(503))
    assert retry_call(RetryPolicy(attempts=3), fn) == "ok" and fn.calls == 3
    fn = Flaky(requests.ConnectionError("down"))
    with pytest.raises(requests.ConnectionError):
        retry_call(RetryPolicy(attempts=1), fn)  # 1: no retry
    assert fn.calls == 1
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)


def test_non_transient_errors_are_raised_at_once(no_waits):
    not_found = requests.Response()
    not_found.status_code = 404
    for error in (ValueError("bug"), requests.HTTPError(response=not_found), requests.exceptions.SSLError()):
        fn = Flaky(error)
        with pytest.raises(type(error)):
            retry_call(RetryPolicy(attempts=5), fn)
        assert fn.calls == 1


def test_classification():
    def http_error(code: int) -> requests.HTTPError:
        resp = requests.Response()
        resp.status_code = code
        return requests.HTTPError(response=resp)

    assert is_transient(requests.ConnectionError()) and is_transient(requests.Timeout())
    assert is_transient(ConnectionResetError()) and is_transient(TimeoutError())
    assert all(is_transient(http_error(c)) for c in (429, 500, 502, 503, 504))
    assert not any(is_transient(http_error(c)) for c in (400, 401, 404, 409, 501))
    assert not is_transient(requests.exceptions.SSLError()) and not is_transient(KeyError())
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    assert is_transient(httpx.ConnectError("refused")) and is_transient(ApiError(status_code=503))
    assert not is_transient(ApiError(status_code=400)) and not is_transient(ApiError())

    def s3(code: str, http_status: int) -> S3Error:
        resp = type("R", (), {"status": http_status, "headers": {}})()
        return S3Error(resp, code, "x", "/b/k", "id", "host")  # type: ignore[arg-type]

    assert is_transient(s3("SlowDown", 503)) and is_transient(s3("InternalError", 500))
    assert not is_transient(s3("NoSuchKey", 404)) and not is_transient(s3("AccessDenied", 403))
    assert is_transient(ServerError("bad gateway", 502)) and not is_transient(ServerError("x", 501))


def test_waits_grow_exponentially_with_jitter_each_capped_and_the_total_capped(sleeps):
    policy = RetryPolicy(attempts=6, backoff_s=1.0, backoff_max_s=5.0, max_wait_s=None)
    with pytest.raises(requests.ConnectionError):
        retry_call(policy, Flaky(*[requests.ConnectionError()] * 6))
    assert len(sleeps) == 5
    for n, wait in enumerate(sleeps, 1):
        assert policy.wait(n) <= wait <= min(policy.wait(n) + 1.0, 5.0)
    assert [policy.wait(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    sleeps.clear()
    budget = RetryPolicy(attempts=10, backoff_s=1.0, backoff_max_s=5.0, max_wait_s=4.0)
    fn = Flaky(*[requests.ConnectionError()] * 10)
    with pytest.raises(requests.ConnectionError):
        retry_call(budget, fn)
    assert sum(sleeps) == pytest.approx(4.0) and fn.calls == len(sleeps) + 1 < 10


def test_retry_after_is_honoured_and_capped(sleeps):
    policy = RetryPolicy(attempts=3, backoff_s=0.1, backoff_max_s=30.0, max_wait_s=None)
    fn = Flaky(TransientStatus(429, {"Retry-After": "7"}), TransientStatus(503, {"Retry-After": "120"}))
    assert retry_call(policy, fn) == "ok"
    assert sleeps == [7.0, 30.0]  # the server's wait, not the 0.1 s backoff; capped by backoff_max_s
    sleeps.clear()
    fn = Flaky(TransientStatus(429, {"Retry-After": "7"}), TransientStatus(503, {"Retry-After": "120"}))
    assert retry_call(RetryPolicy(attempts=3, backoff_max_s=30.0, max_wait_s=20.0), fn) == "ok"
    assert sleeps == [7.0, 13.0]  # and by what is left of max_wait_s
    assert parse_retry_after("Fri, 01 Mar 2024 08:00:30 GMT") == 0.0  # a date in the past


def test_testing_mode_removes_retry_after_waits(no_waits, sleeps):
    fn = Flaky(TransientStatus(429, {"Retry-After": "60"}))
    assert retry_call(RetryPolicy(attempts=2), fn) == "ok" and sum(sleeps) == 0


def test_transport_retries_carry_the_same_meaning():
    from urllib3.util.retry import RequestHistory

    retry = urllib3_retry(RetryPolicy(attempts=4, backoff_s=0.5, backoff_max_s=3.0))
    assert retry.total == 3  # urllib3 counts the retries after the first try: attempts - 1
    assert retry.allowed_methods == frozenset({"GET", "HEAD"})
    assert retry.get_backoff_time() == 0.0
    waits = []
    for _ in range(4):
        retry = retry.new(history=(*retry.history, RequestHistory("GET", "/x", None, 503, None)))
        waits.append(retry.get_backoff_time())
    # the policy's schedule: 0.5 s before the first retry (urllib3's own waits 0), jittered, capped
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 1.5 and 2.0 <= waits[2] <= 2.5 and waits[3] == 3.0


def test_deprecated_retries_keys_become_attempts():
    from connectors.sources.rest_api import RestApiConfig

    with pytest.warns(FutureWarning, match=r"write `attempts: 3`"):
        config = RestApiConfig.model_validate({"type": "rest_api", "url": "http://x", "retries": 2})
    assert config.attempts == 3 and config.retry_policy.attempts == 3
    with pytest.raises(ValueError, match="keep attempts only"):
        RestApiConfig.model_validate({"type": "rest_api", "url": "http://x", "retries": 2, "attempts": 3})
    with pytest.warns(FutureWarning, match="CITYDATA_CKAN__ATTEMPTS=2"):
        assert CkanSettings.model_validate({"retries": "1"}).attempts == 2
    assert CkanSettings().attempts == 4


# --- the callers ----------------------------------------------------------------------------------


def test_rest_source_retries_each_try_rate_limited_and_counted(server, tmp_path, sleeps):
    from connectors.base import ConnectorError, FetchContext
    from connectors.sources.rest_api import RestApiConfig, RestApiConnector

    def pull(**source: Any) -> Any:
        config = RestApiConfig.model_validate({"type": "rest_api", "url": f"{server}/items", **source})
        context = FetchContext(settings=Settings(), dataset_id="x", workdir=tmp_path / "work")
        return RestApiConnector(config, context).fetch({})

    script(status(503, Retry_After="2"), status(502), ok([{"id": 1}]))
    result = pull(backoff_s=0.25, rate_limit_per_s=1000)
    assert result.stats["requests"] == 3 and result.stats["retries"] == 2
    assert 2.0 in sleeps  # retry 1 waits what Retry-After says
    assert any(0.5 <= s <= 0.75 for s in sleeps)  # retry 2: 0.25 * 2 + jitter <= 0.25
    script(status(503))
    Stub.hits.clear()
    with pytest.raises(ConnectorError, match=r"HTTP 503 .* after 3 attempts"):
        pull(attempts=3, backoff_s=0)
    assert len(Stub.hits) == 3
    script(status(404))
    Stub.hits.clear()
    with pytest.raises(ConnectorError, match=r"HTTP 404 .* after 1 attempts"):
        pull()
    assert len(Stub.hits) == 1


def test_label_studio_client_retries_then_names_the_url(server, no_waits):
    from labeling.client import LabelStudio, LabelStudioUnavailable

    ls = LabelStudio(Settings(), url=server, attempts=3)
    script(status(502), status(503), ok({"id": 7}))
    assert ls.project_counts(7) == {"id": 7} and len(Stub.hits) == 3
    script(status(503))
    Stub.hits.clear()
    with pytest.raises(LabelStudioUnavailable, match=f"{server}.* after 3 attempts"):
        ls.project_counts(7)
    assert len(Stub.hits) == 3
    script(status(403))
    Stub.hits.clear()
    with pytest.raises(requests.HTTPError):
        ls.project_counts(7)
    assert len(Stub.hits) == 1
    with pytest.warns(FutureWarning):
        assert LabelStudio(Settings(), url=server, retries=2).policy.attempts == 2


def test_catalog_client_retries_a_real_http_answer(server, no_waits):
    import ckanapi

    from catalog.client import CatalogClient, CatalogUnavailable

    client = CatalogClient(Settings(), ckan=ckanapi.RemoteCKAN(server), attempts=3)
    busy = b"<html>503 Service Unavailable</html>"  # a proxy's page, as CKAN's own 503 comes
    script(status(503, busy), ok({"success": True, "result": {"name": "x"}}))
    assert client.call("package_show", id="x") == {"name": "x"} and len(Stub.hits) == 2
    script(status(503, busy))
    Stub.hits.clear()
    with pytest.raises(CatalogUnavailable, match="HTTP 503") as err:
        client.call("package_show", id="x")
    assert err.value.attempts == 3 and len(Stub.hits) == 3


def test_alert_webhook_retries_and_returns_a_bool(server, no_waits, caplog):
    from pipelines.automation import post_alert

    script(status(503), status(502), ok())
    assert post_alert(f"{server}/hooks/t0ken", {"event": "x"}) is True and len(Stub.hits) == 3
    script(status(503))
    Stub.hits.clear()
    assert post_alert(f"{server}/hooks/t0ken", {"event": "x"}, attempts=2) is False and len(Stub.hits) == 2
    script(status(400))
    Stub.hits.clear()
    assert post_alert(f"{server}/hooks/t0ken", {"event": "x"}) is False and len(Stub.hits) == 1
    assert any("attempt 2/2 failed: HTTP 503" in r.getMessage() for r in caplog.records)
    assert not any("t0ken" in r.getMessage() for r in caplog.records)


def test_connector_session_retries_gets_at_the_transport_level(server):
    from connectors.http import session

    script(status(503), status(429), ok())
    assert session(attempts=3, backoff_s=0).get(server).status_code == 200 and len(Stub.hits) == 3
    script(status(503))
    Stub.hits.clear()
    assert session(attempts=1).get(server).status_code == 503 and len(Stub.hits) == 1


def test_s3_client_retries_slow_down(server):
    from minio import Minio

    from citydata.clients import s3_http_client

    host = server.removeprefix("http://")
    http = s3_http_client(RetryPolicy(attempts=3, backoff_s=0, backoff_max_s=0))
    client = Minio(host, access_key="a", secret_key="b", secure=False, region="us-east-1", http_client=http)
    script(status(503), status(500), ok())
    assert client.bucket_exists("lake") is True and len(Stub.hits) == 3
    assert urllib3_retry(RetryPolicy(attempts=5)).total == 4
