"""Label Studio access for labeling: retries with backoff, and fast raw calls for the hot paths.

The SDK is used for most calls; task listing and bulk import use plain HTTP (fewer round trips,
no model parsing). Every call goes through `call()`, which retries connection errors, timeouts
and 429/500/502/503/504 answers with the project's policy (`citydata.retry`: `attempts` tries in all,
the first included; waits from `backoff_s` doubling, with jitter; Retry-After honoured), then
raises `LabelStudioUnavailable` naming the URL. Other errors are raised at once, unchanged.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import requests

from citydata.retry import RetryPolicy, is_transient, retry_call
from citydata.settings import Settings

T = TypeVar("T")


class LabelStudioUnavailable(RuntimeError):
    """Label Studio did not answer (or kept answering 429/500/502/503/504) on every try."""


class LabelStudio:
    def __init__(
        self,
        settings: Settings,
        *,
        url: str | None = None,
        attempts: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 120.0,
        retries: int | None = None,
    ) -> None:
        """`attempts`: tries of each call in all, the first included. `retries` is its former
        name, with the same meaning here (this client's loop already counted every try)."""
        from label_studio_sdk import LabelStudio as Sdk

        self.url = (url or settings.label_studio.url).rstrip("/")
        self.token = settings.label_studio.api_token.get_secret_value()
        if retries is not None:
            warnings.warn("LabelStudio(retries=...) is now attempts=... (same number)", FutureWarning, 2)
            attempts = retries
        self.policy = RetryPolicy(attempts=attempts, backoff_s=backoff_s)
        self.timeout_s = timeout_s
        self.sdk = Sdk(base_url=self.url, api_key=self.token, timeout=timeout_s)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Token {self.token}"

    # --- retries -----------------------------------------------------------------------
    def call(self, what: str, fn: Callable[[], T]) -> T:
        """`fn()` under the retry policy; `LabelStudioUnavailable` once every try failed transiently."""
        tries = 0

        def once() -> T:
            nonlocal tries
            tries += 1
            return fn()

        try:
            return retry_call(self.policy, once, name=f"Label Studio {what}")
        except Exception as exc:
            if not is_transient(exc):
                raise
            raise LabelStudioUnavailable(
                f"Label Studio at {self.url} unavailable: {what} failed after {tries} attempts: {exc}"
            ) from exc

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        def go() -> Any:
            resp = self.http.request(method, self.url + path, timeout=self.timeout_s, **kwargs)
            resp.raise_for_status()
            return resp.json() if resp.content else None

        return self.call(f"{method} {path}", go)

    # --- raw hot paths -----------------------------------------------------------------
    def iter_tasks(
        self, project: int, page_size: int = 5000, *, include: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every task of a project, page by page: data, id and counts; or only the fields named in
        `include` (e.g. "id,data"), which spares Label Studio its per-task annotations and, with
        storage URLs left unresolved, is about ten times faster on large projects."""
        params: dict[str, Any] = {"project": project, "page_size": page_size, "fields": "task_only"}
        if include:
            params.update(include=include, resolve_uri="false")
        page = 1
        while True:
            try:
                body = self._request("GET", "/api/tasks/", params={**params, "page": page})
            except requests.HTTPError as exc:
                if exc.response is not None and exc.response.status_code == 404:
                    return  # past the last page
                raise
            tasks = body.get("tasks", []) if isinstance(body, dict) else body
            yield from tasks
            if len(tasks) < page_size:
                return
            page += 1

    def iter_projects(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every project visible to the token: id, title and description only."""
        params: dict[str, Any] = {"page_size": page_size, "include": "id,title,description"}
        page = 1
        while True:
            body = self._request("GET", "/api/projects/", params={**params, "page": page})
            yield from body.get("results", [])
            if not body.get("next"):
                return
            page += 1

    def import_tasks(self, project: int, tasks: list[dict[str, Any]] | bytes) -> int:
        """Import one batch (a list, or its JSON already encoded); returns Label Studio's task count."""
        body = tasks if isinstance(tasks, bytes) else json.dumps(tasks, ensure_ascii=False).encode()
        answer = self._request(
            "POST",
            f"/api/projects/{project}/import",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        return int((answer or {}).get("task_count") or 0)

    def project_counts(self, project: int) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/projects/{project}/"))
