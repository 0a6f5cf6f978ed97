"""A thin wrapper over ckanapi: typed errors, retries on transient failures, a write log.

Every action goes through `call()`: connection errors, timeouts, 429/500/502/503/504 answers, CKAN
answers without a status and search-index failures are retried with the project's policy
(`citydata.retry`; `settings.ckan.attempts` tries in all, the first included, waits from
`backoff_s` doubling with jitter, each at most `backoff_max_s`), then raise `CatalogUnavailable`,
whose message names CKAN, its URL and the action. Reads and writes are
told apart by the action name, and the names of the writes a client made are kept in `writes`
(the idempotency tests and the benchmark assert that an unchanged re-run makes none).
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any

import ckanapi
import requests

from citydata.clients import ckan_client
from citydata.retry import TRANSIENT_STATUSES, RetryPolicy, is_transient, retry_call
from citydata.settings import Settings

if TYPE_CHECKING:
    from ckanapi import RemoteCKAN

_READ_SUFFIXES = ("_show", "_list", "_search", "_info", "_autocomplete", "_search_sql")
_STATUS = re.compile(r"^\[\s*'[^']*',\s*(\d{3}),")


class CatalogError(RuntimeError):
    """A CKAN call failed; the message names the action."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"CKAN {action}: {message}")
        self.action = action


class NotFoundError(CatalogError):
    pass


class NotAuthorizedError(CatalogError):
    pass


class ValidationFailed(CatalogError):
    def __init__(self, action: str, errors: dict[str, Any]) -> None:
        shown = {k: v for k, v in errors.items() if k != "__type"}
        super().__init__(action, f"validation failed: {shown}")
        self.errors = shown


class CatalogUnavailable(CatalogError):
    """CKAN did not answer, or answered 429/500/502/503/504, on every try (settings.ckan.attempts);
    `attempts` is the number of tries made."""

    def __init__(self, action: str, message: str, attempts: int = 0) -> None:
        super().__init__(action, message)
        self.attempts = attempts


def is_write(action: str) -> bool:
    return not (action.endswith(_READ_SUFFIXES) or action in {"status_show", "help_show"})


def _status(exc: ckanapi.CKANAPIError) -> int | None:
    match = _STATUS.match(str(exc))
    return int(match.group(1)) if match else None


_NOT_TRANSIENT = (
    ckanapi.NotFound,
    ckanapi.NotAuthorized,
    ckanapi.ValidationError,
    ckanapi.SearchError,
    ckanapi.SearchQueryError,
)


def is_transient_ckan(exc: BaseException) -> bool:
    """The policy's transient errors, plus CKAN's: a search-index failure (Solr), or an error
    answer whose status ckanapi did not give (an HTML error page from a proxy)."""
    if isinstance(exc, ckanapi.SearchIndexError):
        return True
    if isinstance(exc, _NOT_TRANSIENT):
        return False
    if isinstance(exc, ckanapi.CKANAPIError):
        status = _status(exc)
        return status is None or status in TRANSIENT_STATUSES
    return is_transient(exc)


class CatalogClient:
    def __init__(
        self,
        settings: Settings,
        *,
        anonymous: bool = False,
        ckan: RemoteCKAN | None = None,
        attempts: int | None = None,
        backoff_s: float | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.anonymous = anonymous
        self.ckan = ckan or ckan_client(self.settings, anonymous=anonymous)
        ckan = self.settings.ckan
        self.policy = RetryPolicy(
            attempts=ckan.attempts if attempts is None else attempts,
            backoff_s=ckan.backoff_s if backoff_s is None else backoff_s,
            backoff_max_s=ckan.backoff_max_s,
        )
        self.timeout_s = timeout_s or ckan.timeout_s
        self.writes: list[str] = []
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return str(self.ckan.address).rstrip("/")

    def dataset_url(self, name: str) -> str:
        return f"{self.url}/dataset/{name}"

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based), without the jitter."""
        return self.policy.wait(retry)

    def call(self, action: str, **data: Any) -> Any:
        write = is_write(action)
        tries = 0
        started = time.monotonic()

        def once() -> Any:
            nonlocal tries
            tries += 1
            with self._lock:
                self.calls += 1
                if write:
                    self.writes.append(action)
            return self.ckan.call_action(action, data, requests_kwargs={"timeout": self.timeout_s})

        try:
            return retry_call(self.policy, once, on=is_transient_ckan, name=f"CKAN {action} at {self.url}")
        except ckanapi.NotFound as exc:
            raise NotFoundError(action, getattr(exc, "extra_msg", None) or "not found") from exc
        except ckanapi.NotAuthorized as exc:
            raise NotAuthorizedError(action, "not authorized") from exc
        except ckanapi.ValidationError as exc:
            errors = exc.error_dict if isinstance(exc.error_dict, dict) else {"error": exc.error_dict}
            raise ValidationFailed(action, errors) from exc
        except (ckanapi.SearchError, ckanapi.SearchQueryError) as exc:
            raise CatalogError(action, f"search failed: {exc}") from exc
        except (requests.ConnectionError, requests.Timeout, ckanapi.CKANAPIError) as exc:
            status = _status(exc) if isinstance(exc, ckanapi.CKANAPIError) else None
            no_answer = isinstance(exc, (requests.ConnectionError, requests.Timeout))
            if not (no_answer or is_transient_ckan(exc)):
                raise CatalogError(action, str(exc)[:500]) from exc
            what = f"HTTP {status}" if status is not None else type(exc).__name__
            raise CatalogUnavailable(
                action,
                f"unavailable at {self.url} ({what}) after {tries} attempts "
                f"in {time.monotonic() - started:.1f}s",
                attempts=tries,
            ) from exc

    def show(self, action: str, **data: Any) -> Any | None:
        """A `*_show` call that returns None for a missing object."""
        try:
            return self.call(action, **data)
        except NotFoundError:
            return None

    def __getattr__(self, action: str) -> Any:
        if action.startswith("_"):
            raise AttributeError(action)
        return lambda **data: self.call(action, **data)
