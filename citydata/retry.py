"""The project's one retry policy, for every network call (built on stamina, itself on tenacity).

The numbers of a `RetryPolicy` mean the same thing everywhere:

- `attempts`: the total number of tries, the first one included. 1 = no retry; 4 = the first try
  and up to 3 retries. (Nothing in the project counts "retries after the first" any more; the
  REST source's deprecated `retries:` key is converted to `attempts = retries + 1`.)
- `backoff_s`: the wait before the first retry. The wait before retry n is
  `backoff_s * 2**(n-1)` plus a random jitter of 0..`backoff_s` (clients that failed together
  do not come back together); `backoff_s = 0` retries at once.
- `backoff_max_s`: the cap on any single wait, a server's Retry-After included.
- `max_wait_s`: the cap on the sum of all waits of one call (None: only the per-wait cap and
  `attempts` bound it); once spent, the last error is raised.

Transient (retried): connection errors and timeouts (requests, urllib3, httpx, the socket layer),
HTTP 429, 500, 502, 503 and 504 (`TRANSIENT_STATUSES`), and from S3 (the minio SDK) the slow-down and
server-side error codes and the same statuses. Anything else is raised at once. When the failed answer
carries `Retry-After` (seconds or an HTTP date), that wait is used instead of the exponential one
(still capped by `backoff_max_s` and `max_wait_s`).

Use:

    for attempt in retrying(policy):        # or: retry_call(policy, fn)
        with attempt:
            resp = session.get(url)
            raise_for_transient_status(resp)  # 429/500/502/503/504 -> TransientStatus (retried)

When every attempt failed, the last error is raised unchanged: callers translate it into their
own error (CatalogUnavailable, LabelStudioUnavailable, ConnectorError...).

Where a library only offers transport-level retries (the minio SDK's urllib3 pool, the streaming
GETs of `connectors.http.session`), `urllib3_retry(policy)` gives urllib3 the same numbers with
the same meaning (urllib3 itself counts retries after the first try and waits 0 before the first
retry; the conversion is done here). urllib3 has no total-wait cap, so `max_wait_s` does not
apply there: `attempts` and `backoff_max_s` bound it.

Tests: `stamina.set_testing(True, attempts=..., cap=True)` removes every wait (Retry-After
included) and caps the attempts; see tests/unit/test_retry.py.
"""

from __future__ import annotations

import logging
import random
import re
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import takewhile
from typing import Any, TypeVar

import stamina
import urllib3
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

T = TypeVar("T")

# 500 is kept: every caller retried it before, and the REST source's integration test expects it.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# S3 error codes worth another try (AWS's retryable list; MinIO and SeaweedFS use the same codes).
TRANSIENT_S3_CODES = frozenset(
    {"SlowDown", "SlowDownRead", "SlowDownWrite", "InternalError", "ServiceUnavailable", "RequestTimeout"}
)
S3_TRANSIENT_STATUSES = TRANSIENT_STATUSES  # AWS documents 500 InternalError and 503 SlowDown

# stamina's default hook logs the failing exception's repr (URLs, maybe secrets in them) in the
# log record; the project logs retries itself, without exception text (`RetryEvent`, `_log`).
stamina.instrumentation.set_on_retry_hooks(())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one call; see the module docstring for the meaning."""

    attempts: int = 4
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    max_wait_s: float | None = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts counts every try, the first one too: at least 1, not {self.attempts}")
        if min(self.backoff_s, self.backoff_max_s, self.max_wait_s or 0.0) < 0:
            raise ValueError("backoff_s, backoff_max_s and max_wait_s are seconds, not negative")

    def wait(self, retry: int) -> float:
        """The wait before retry number `retry` (1-based), without its jitter."""
        return float(min(self.backoff_s * 2 ** (retry - 1), self.backoff_max_s))

    def jittered_wait(self, retry: int) -> float:
        return float(min(self.wait(retry) + random.uniform(0, self.backoff_s), self.backoff_max_s))  # noqa: S311


DEFAULT_POLICY = RetryPolicy()
# The minio SDK's own default was 6 tries, 0.2 s doubling from the second retry, 5xx but 501.
S3_POLICY = RetryPolicy(attempts=5, backoff_s=0.5, backoff_max_s=8.0, max_wait_s=None)


@dataclass(frozen=True)
class RetryEvent:
    """A retry about to happen: after failed try number `attempt` of `attempts`, wait `wait_s`."""

    attempt: int
    attempts: int
    wait_s: float
    error: BaseException

    @property
    def reason(self) -> str:
        """What failed, without the exception's text (it may hold a URL with a secret)."""
        status = status_of(self.error)
        return f"HTTP {status}" if status is not None else type(self.error).__name__


class TransientStatus(Exception):
    """An HTTP answer with a transient status (`TRANSIENT_STATUSES`), raised to be retried.

    `response` is the answer itself (its body is still readable), for the caller's final error."""

    def __init__(self, status_code: int, headers: Mapping[str, str] | None = None, response: Any = None):
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.headers: Mapping[str, str] = headers or {}
        self.response = response


def raise_for_transient_status(response: Any) -> None:
    """Raise `TransientStatus` if a requests/httpx response has a transient status."""
    if response.status_code in TRANSIENT_STATUSES:
        raise TransientStatus(response.status_code, response.headers, response)


def attempts_from_retries(data: Any, old: str, new: str) -> Any:
    """A settings/spec mapping with the deprecated `retries` key (retries after the first try)
    given as `attempts` (every try, the first included: retries + 1), with a FutureWarning naming
    `old` and `new` (templates over {retries} and {attempts}). For `mode="before"` validators."""
    if not isinstance(data, dict) or "retries" not in data:
        return data
    data = dict(data)
    value = data.pop("retries")
    if "attempts" in data:
        raise ValueError("retries is deprecated and attempts is set too: keep attempts only")
    try:
        retries = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"retries (deprecated): a whole number of retries, not {value!r}") from None
    if retries < 0 or isinstance(value, bool) or (isinstance(value, float) and value != retries):
        raise ValueError(f"retries (deprecated): a whole number of retries, not {value!r}")
    data["attempts"] = retries + 1
    fill = {"retries": retries, "attempts": retries + 1}
    warnings.warn(
        f"{old.format(**fill)} is deprecated (it counted the retries after the first try); "
        f"write {new.format(**fill)} instead (every try, the first included)",
        FutureWarning,
        stacklevel=3,
    )
    return data


# --- classification ----------------------------------------------------------------------------


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (requests, httpx, minio, Label Studio SDK), if any."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    for name in ("status_code", "status"):
        status = getattr(response, name, None)
        if isinstance(status, int):
            return status
    return None


def _network_errors() -> tuple[type[BaseException], ...]:
    import requests

    errors: list[type[BaseException]] = [
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.TimeoutError,
        urllib3.exceptions.ProtocolError,
        urllib3.exceptions.NewConnectionError,
        ConnectionError,
        TimeoutError,
    ]
    try:
        import httpx
    except ImportError:  # pragma: no cover - installed with label-studio-sdk
        pass
    else:
        errors.append(httpx.TransportError)
    return tuple(errors)


def _not_transient_network_errors() -> tuple[type[BaseException], ...]:
    import requests

    # A refused certificate or a bad URL does not heal by itself.
    return (requests.exceptions.SSLError, requests.exceptions.InvalidURL, urllib3.exceptions.SSLError)


def is_transient(exc: BaseException) -> bool:
    """True if another try may succeed: see the module docstring for the list."""
    if isinstance(exc, TransientStatus):
        return True
    if isinstance(exc, _not_transient_network_errors()):
        return False
    if isinstance(exc, _network_errors()):
        return True
    try:
        from minio.error import S3Error, ServerError
    except ImportError:  # pragma: no cover - a core dependency
        pass
    else:
        if isinstance(exc, S3Error):
            return exc.code in TRANSIENT_S3_CODES or status_of(exc) in S3_TRANSIENT_STATUSES
        if isinstance(exc, ServerError):
            return exc.status_code in S3_TRANSIENT_STATUSES
    return status_of(exc) in TRANSIENT_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after_of(exc: BaseException) -> float | None:
    """The Retry-After of the answer an exception carries, in seconds; None without one."""
    headers = getattr(exc, "headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None or not hasattr(headers, "get"):
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    return parse_retry_after(value if isinstance(value, str) else None)


# --- running a call under the policy -------------------------------------------------------------


class _Decider:
    """stamina's backoff hook for one call: retry or not, and how long to wait first."""

    def __init__(
        self,
        policy: RetryPolicy,
        on: Callable[[BaseException], bool],
        on_retry: Callable[[RetryEvent], None] | None,
        name: str,
    ) -> None:
        self.policy, self.on, self.on_retry, self.name = policy, on, on_retry, name
        self.failures = 0
        self.waited = 0.0

    def __call__(self, exc: Exception) -> bool | float:
        self.failures += 1
        policy = self.policy
        if self.failures >= policy.attempts or not self.on(exc):
            return False
        after = retry_after_of(exc)
        wait = policy.jittered_wait(self.failures) if after is None else min(after, policy.backoff_max_s)
        if policy.max_wait_s is not None:
            left = policy.max_wait_s - self.waited
            if left <= 0:
                return False
            wait = min(wait, left)
        self.waited += wait
        event = RetryEvent(self.failures, policy.attempts, wait, exc)
        (self.on_retry or self._log)(event)
        return wait

    def _log(self, event: RetryEvent) -> None:
        log.warning(
            "%s: %s, retry %d/%d in %.1fs",
            self.name, event.reason, event.attempt, event.attempts - 1, event.wait_s,
        )  # fmt: skip


def retrying(
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    on: Callable[[BaseException], bool] = is_transient,
    on_retry: Callable[[RetryEvent], None] | None = None,
    name: str = "network call",
) -> Iterator[stamina.Attempt]:
    """Attempts of a code block under `policy` (`for attempt in retrying(p): with attempt: ...`).

    `on` decides which errors are retried (default `is_transient`); `on_retry` is told of each
    retry before its wait (default: a warning naming `name`, the status or error type, the wait).
    """
    decider = _Decider(policy, on, on_retry, name)
    # The decider computes every wait and enforces attempts and max_wait_s; stamina runs the loop
    # (and its testing mode: no waits, capped attempts). Its own timeout is not used.
    return iter(stamina.retry_context(on=decider, attempts=policy.attempts, timeout=None))


def retry_call(
    policy: RetryPolicy,
    fn: Callable[[], T],
    *,
    on: Callable[[BaseException], bool] = is_transient,
    on_retry: Callable[[RetryEvent], None] | None = None,
    name: str = "network call",
) -> T:
    """`fn()` under `policy`; the last error is raised once the policy gives up."""
    for attempt in retrying(policy, on=on, on_retry=on_retry, name=name):
        with attempt:
            return fn()
    raise AssertionError("unreachable: stamina raises the last error")


# --- transport-level retries (urllib3) --------------------------------------------------------------


class _PolicyRetry(Retry):
    """urllib3's Retry waiting as the policy does: `backoff_s` before the first retry (urllib3
    waits 0), doubling, jitter, each wait (Retry-After too) capped at `backoff_max_s`."""

    def get_backoff_time(self) -> float:
        failures = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
        if failures == 0:
            return 0.0
        wait = self.backoff_factor * 2 ** (failures - 1) + random.uniform(0, self.backoff_jitter)  # noqa: S311
        return float(min(wait, self.backoff_max))

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, self.backoff_max)


def urllib3_retry(
    policy: RetryPolicy,
    *,
    methods: Collection[str] = ("GET", "HEAD"),
    statuses: Collection[int] = TRANSIENT_STATUSES,
) -> Retry:
    """urllib3 retries with the policy's numbers: `attempts` tries in all (urllib3's `total` is
    the retries after the first, so attempts - 1), only for `methods` (idempotent ones), on
    connection/read errors and `statuses`, honouring Retry-After. The last answer is returned
    (not raised) when the tries are spent, so the caller reports its status."""
    return _PolicyRetry(
        total=policy.attempts - 1,
        backoff_factor=policy.backoff_s,
        backoff_max=policy.backoff_max_s,
        backoff_jitter=policy.backoff_s,
        status_forcelist=frozenset(statuses),
        allowed_methods=frozenset(m.upper() for m in methods),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
