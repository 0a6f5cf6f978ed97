"""A thin wrapper over ckanapi: typed errors, retries on transient failures, a write log.

Every action goes through `call()`: connection errors, timeouts, 5xx and 429 answers are retried
with exponential backoff (`settings.ckan.retries`, `backoff_s`, `backoff_max_s`), then raise
`CatalogUnavailable`, whose message names CKAN, its URL and the action. Reads and writes are
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
from citydata.settings import Settings, get_settings

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
    """CKAN did not answer, or answered 5xx/429, after every retry (settings.ckan.retries)."""

    def __init__(self, action: str, message: str, attempts: int = 0) -> None:
        super().__init__(action, message)
        self.attempts = attempts


def is_write(action: str) -> bool:
    return not (action.endswith(_READ_SUFFIXES) or action in {"status_show", "help_show"})


def _status(exc: ckanapi.CKANAPIError) -> int | None:
    match = _STATUS.match(str(exc))
    return int(match.group(1)) if match else None


class CatalogClient:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        anonymous: bool = False,
        ckan: RemoteCKAN | None = None,
        retries: int | None = None,
        backoff_s: float | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.anonymous = anonymous
        self.ckan = ckan or ckan_client(self.settings, anonymous=anonymous)
        policy = self.settings.ckan
        self.retries = policy.retries if retries is None else retries
        self.backoff_s = policy.backoff_s if backoff_s is None else backoff_s
        self.backoff_max_s = policy.backoff_max_s
        self.timeout_s = timeout_s or policy.timeout_s
        self.writes: list[str] = []
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return str(self.ckan.address).rstrip("/")

    def dataset_url(self, name: str) -> str:
        return f"{self.url}/dataset/{name}"

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.backoff_s * 2 ** (attempt - 1), self.backoff_max_s))

    def call(self, action: str, **data: Any) -> Any:
        write = is_write(action)
        attempt = 0
        started = time.monotonic()
        while True:
            attempt += 1
            try:
                with self._lock:
                    self.calls += 1
                    if write:
                        self.writes.append(action)
                return self.ckan.call_action(action, data, requests_kwargs={"timeout": self.timeout_s})
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
                transient = status is None or status >= 500 or status == 429
                if isinstance(exc, ckanapi.SearchIndexError):
                    transient = True
                if not transient:
                    raise CatalogError(action, str(exc)[:500]) from exc
                if attempt > self.retries:
                    what = f"HTTP {status}" if status is not None else type(exc).__name__
                    raise CatalogUnavailable(
                        action,
                        f"unavailable at {self.url} ({what}) after {attempt} attempts "
                        f"in {time.monotonic() - started:.1f}s",
                        attempts=attempt,
                    ) from exc
                time.sleep(self.delay(attempt))

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
