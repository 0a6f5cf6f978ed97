"""A JSON REST API read page by page (page number, offset/limit, cursor, next URL, Link header).

What one pull produces:

- `records.jsonl`: every record of every page, one compact JSON value per line (UTF-8, key order
  as served, numbers exactly as written: "1.50" stays 1.50). This is the object the "jsonl"
  format reader parses; it is *derived* from the pages (re-serialised, so whitespace and
  escapes differ from the served text, values do not).
- `page-0001.json`, `page-0002.json`, ...: the exact bytes of each response, unchanged, with
  the page URL as `source_uri` and the response headers (minus Set-Cookie). These are the
  replayable raw pages: `records.jsonl` can be rebuilt from them with `records_path`.

`records.jsonl` comes first in `FetchResult.objects`; it has media type `application/x-ndjson`
while pages keep the server's Content-Type (usually `application/json`). A pull with no record
at all has no `records.jsonl` (the reader refuses empty files), only its pages.

Requests are GETs through the shared session (`connectors.http.session`) with its own retrying
turned off (`attempts=1`): this module retries them with the project's policy
(`citydata.retry`: connection errors, timeouts, 429/500/502/503/504; exponential backoff with jitter;
Retry-After honoured, in seconds or as an HTTP date), so every try (retries included) goes
through the rate limiter and is counted. `attempts` counts every try, the first included; the
old `retries:` key (retries after the first) is still read, as `attempts = retries + 1`, with a
deprecation warning.

Secrets: any header or query parameter value written `env:NAME` is read from the environment at
fetch time (a missing variable fails the run, naming the variable only). Those values never
appear in logs, errors or `source_uri` (they are replaced by `***`).

Incremental pulls: with `incremental`, the largest value of `incremental.field` among the
records pulled is kept in the state and sent as `incremental.param` next time. A run with no
record, or whose records are the same multiset as last time (an order-independent hash), is
`unchanged`.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import quote, quote_plus

import requests
from pydantic import Field, field_validator, model_validator

from citydata.retry import (
    RetryEvent,
    RetryPolicy,
    TransientStatus,
    attempts_from_retries,
    parse_retry_after,
    raise_for_transient_status,
    retrying,
)
from connectors.base import (
    ENV_REF,
    Connector,
    ConnectorError,
    FetchResult,
    RawObject,
    SourceConfig,
    resolve_env,
    spool_chunks,
)
from connectors.http import session
from connectors.sources._rest_json import (
    MISSING,
    dig,
    dumps,
    later,
    loads,
    param_text,
    records_of,
    state_value,
)
from connectors.sources._rest_paging import (
    ConfigModel,
    NoPagination,
    PageNumberPagination,
    PageRequest,
    Pagination,
    ServedPage,
)

log = logging.getLogger(__name__)

__all__ = ["RestApiConfig", "RestApiConnector", "parse_retry_after", "redact"]  # parse_retry_after: moved

ENV_PREFIX = "env:"
RECORDS_NAME = "records.jsonl"
JSONL_MEDIA_TYPE = "application/x-ndjson"
_HASH_MOD = 2**256


class Incremental(ConfigModel):
    """Send the largest `field` value seen last run as query parameter `param`."""

    param: str = Field(
        min_length=1, description="Query parameter the watermark is sent as, e.g. updated_since."
    )
    field: str = Field(
        min_length=1, description="Dotted path of the watermark in each record, e.g. updated_at."
    )
    initial: str | int | float | None = Field(None, description="Sent on the first run (none: nothing sent).")


ParamValue = str | int | float | bool


class RestApiConfig(SourceConfig):
    type: Literal["rest_api"]
    url: str = Field(pattern=r"^https?://", description="URL of the first page (http or https).")
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="Query parameters; values may be env:NAME."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers; values may be env:NAME."
    )
    records_path: str | None = Field(
        None, description="Dotted path of the record list in a page; none: the page is a list."
    )
    pagination: Pagination = Field(
        NoPagination(), description="How to get the next page; `type` selects the kind."
    )
    max_pages: int = Field(1000, ge=1, description="More pages than this fails the run (a runaway API).")
    rate_limit_per_s: float | None = Field(None, gt=0, description="At most this many requests per second.")
    timeout_s: float = Field(60, gt=0, description="Seconds to wait for each request.")
    attempts: int = Field(
        5,
        ge=1,
        description="Tries of each request in all, the first included (1: no retry); 429, 500, 502, 503, "
        "504 and network errors are retried. Replaces `retries` (retries after the first = attempts - 1).",
    )
    backoff_s: float = Field(
        0.5, ge=0, description="Wait before retry n: backoff_s * 2**(n-1) plus jitter, unless Retry-After."
    )
    max_retry_wait_s: float = Field(300, ge=0, description="Cap on any single wait, Retry-After included.")
    verify_tls: bool = Field(True, description="Check the server's TLS certificate.")
    incremental: Incremental | None = Field(
        None, description="Ask only for records changed since the last run."
    )

    @model_validator(mode="before")
    @classmethod
    def _deprecated_retries(cls, data: Any) -> Any:
        return attempts_from_retries(data, "rest_api source: `retries: {retries}`", "`attempts: {attempts}`")

    @property
    def retry_policy(self) -> RetryPolicy:
        """The project's policy with this source's numbers; no cap on the total wait (the
        attempts and the per-wait cap bound it, as Retry-After may ask for long waits)."""
        return RetryPolicy(
            attempts=self.attempts,
            backoff_s=self.backoff_s,
            backoff_max_s=self.max_retry_wait_s,
            max_wait_s=None,
        )

    @field_validator("pagination", mode="before")
    @classmethod
    def _pagination_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("headers", "params")
    @classmethod
    def _env_refs(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if isinstance(item, str) and item.startswith(ENV_PREFIX) and not ENV_REF.match(item):
                raise ValueError(f"{key}: environment reference must be env:NAME (letters, digits, _)")
        return value

    @model_validator(mode="after")
    def _size_param_needs_size(self) -> RestApiConfig:
        page = self.pagination
        if isinstance(page, PageNumberPagination) and page.size_param and page.size is None:
            raise ValueError("pagination.size_param needs pagination.size")
        return self


# --- pure helpers (unit-tested) -------------------------------------------------------------


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret (raw or URL-encoded) replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return text


# --- the connector ---------------------------------------------------------------------------


class _RecordSpool:
    """Records written as JSON Lines to a file in `workdir`, hashed on the way."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] = tempfile.NamedTemporaryFile(  # closed in finish() or discard()
            dir=workdir, prefix="pull-", suffix=".jsonl", delete=False
        )
        self._digest = hashlib.sha256()
        self._multiset = 0
        self.count = 0
        self.size = 0

    def write(self, record: Any) -> None:
        line = (dumps(record) + "\n").encode()
        canonical = dumps(record, sort_keys=True).encode()
        self._multiset = (self._multiset + int.from_bytes(hashlib.sha256(canonical).digest())) % _HASH_MOD
        self._fh.write(line)
        self._digest.update(line)
        self.count += 1
        self.size += len(line)

    @property
    def content_hash(self) -> str:
        """Order-independent hash of the records (a sum of per-record hashes)."""
        return f"{self._multiset:064x}"

    def finish(self, name: str, **meta: Any) -> RawObject:
        self._fh.close()
        obj = RawObject(name=name, path=Path(self._fh.name), **meta)
        obj.sha256, obj.size = self._digest.hexdigest(), self.size
        return obj

    def discard(self) -> None:
        self._fh.close()
        Path(self._fh.name).unlink(missing_ok=True)


class RestApiConnector(Connector[RestApiConfig]):
    type = "rest_api"
    config_model = RestApiConfig

    def fetch(self, state: dict[str, Any]) -> FetchResult:
        cfg = self.config
        self._secrets: list[str] = []
        self._last_request = 0.0
        self._requests = 0
        self._retries = 0
        headers = {k: resolve_env(v, self._secrets) for k, v in cfg.headers.items()}
        params = {
            k: resolve_env(v, self._secrets) if isinstance(v, str) else param_text(v)
            for k, v in cfg.params.items()
        }
        previous = self._previous_incremental(state)
        if cfg.incremental and previous is not None:
            params[cfg.incremental.param] = param_text(previous)

        self._session = session(attempts=1)  # retried here: each try is rate-limited and counted
        self._session.headers.update(headers)
        spool = _RecordSpool(self.context.workdir)
        pages: list[RawObject] = []
        newest = previous
        request: PageRequest | None = cfg.pagination.first(cfg.url, params)
        seen_urls: set[str] = set()
        first_url = ""
        try:
            while request is not None:
                url = request.full_url()
                if url in seen_urls:
                    raise ConnectorError(self._redact(f"{url}: pagination loops back to a page already read"))
                if len(pages) >= cfg.max_pages:
                    raise ConnectorError(
                        self._redact(f"{url}: more than max_pages={cfg.max_pages} pages; raise max_pages")
                    )
                seen_urls.add(url)
                first_url = first_url or url
                resp = self._get(url)
                page_url = self._redact(resp.url)
                try:
                    body = loads(resp.content)
                    records = records_of(body, cfg.records_path)
                except ValueError as exc:
                    raise ConnectorError(f"{page_url}: {exc}") from exc
                pages.append(
                    spool_chunks(
                        f"page-{len(pages) + 1:04d}.json",
                        iter([resp.content]),
                        self.context.workdir,
                        source_uri=page_url,
                        media_type=resp.headers.get("Content-Type"),
                        headers={k: v for k, v in resp.headers.items() if k.lower() != "set-cookie"},
                        parse=False,  # replay copy: the clean stage reads records.jsonl
                    )
                )
                for record in records:
                    spool.write(record)
                    if cfg.incremental:
                        value = dig(record, cfg.incremental.field)
                        if (
                            value is not MISSING
                            and value is not None
                            and (newest is None or later(value, newest))
                        ):
                            newest = value
                log.info("%s: page %d, %d records", page_url, len(pages), len(records))
                try:
                    served = ServedPage(body, len(records), resp.url, resp.links)
                    request = cfg.pagination.next(request, served)
                except ValueError as exc:
                    raise ConnectorError(f"{page_url}: {exc}") from exc
        except BaseException:
            spool.discard()
            raise

        stats = {
            "pages": len(pages),
            "records": spool.count,
            "requests": self._requests,
            "retries": self._retries,
            "bytes": sum(p.size for p in pages),
        }
        new_state: dict[str, Any] = {"content_hash": spool.content_hash, "records": spool.count}
        if cfg.incremental:
            new_state["incremental_field"] = cfg.incremental.field
            new_state["incremental_value"] = state_value(newest)
            if spool.count == 0:  # nothing newer: keep last run's hash and count
                spool.discard()
                kept = {**state, **{k: v for k, v in new_state.items() if k.startswith("incremental_")}}
                return FetchResult([], kept, unchanged=True, stats=stats)
        if spool.content_hash == state.get("content_hash"):
            spool.discard()
            return FetchResult([], new_state, unchanged=True, stats={**stats, "same_hash": True})
        if spool.count == 0:  # the "jsonl" reader refuses empty files: keep the pages only
            spool.discard()
            return FetchResult(pages, new_state, stats=stats)
        records_obj = spool.finish(
            RECORDS_NAME,
            source_uri=self._redact(first_url),
            media_type=JSONL_MEDIA_TYPE,
            headers={"x-record-count": str(spool.count), "x-page-count": str(len(pages))},
        )
        return FetchResult([records_obj, *pages], new_state, stats=stats)

    def _previous_incremental(self, state: dict[str, Any]) -> Any:
        inc = self.config.incremental
        if inc is None:
            return None
        if state.get("incremental_field") == inc.field and state.get("incremental_value") is not None:
            return state["incremental_value"]
        return inc.initial

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _throttle(self) -> None:
        rate = self.config.rate_limit_per_s
        if rate:
            wait = self._last_request + 1.0 / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_request = time.monotonic()

    def _get(self, url: str) -> requests.Response:
        """GET under the source's retry policy (each try rate-limited and counted); the final
        response must be 2xx."""
        cfg = self.config
        shown = self._redact(url)
        tries = 0

        def on_retry(event: RetryEvent) -> None:
            self._retries += 1
            why, retry, wait = event.reason, event.attempt, event.wait_s
            log.warning("%s: %s, retry %d/%d in %.1fs", shown, why, retry, cfg.attempts - 1, wait)

        try:
            for attempt in retrying(cfg.retry_policy, on_retry=on_retry, name=shown):
                with attempt:
                    tries += 1
                    self._throttle()
                    self._requests += 1
                    resp = self._http_get(url)
                    raise_for_transient_status(resp)
        except TransientStatus as exc:
            resp = exc.response  # still transient after every try: reported below
        except (requests.ConnectionError, requests.Timeout) as exc:
            failed = f"{shown}: request failed after {tries} attempts: {exc}"
            raise ConnectorError(self._redact(failed)) from None
        except requests.RequestException as exc:
            raise ConnectorError(self._redact(f"{shown}: request failed: {exc}")) from None
        if not resp.ok:
            snippet = resp.text[:200].replace("\n", " ")
            answer = f"HTTP {resp.status_code} {resp.reason}"
            raise ConnectorError(self._redact(f"{shown}: {answer} after {tries} attempts: {snippet}"))
        return resp

    def _http_get(self, url: str) -> requests.Response:
        return self._session.get(url, timeout=self.config.timeout_s, verify=self.config.verify_tls)
