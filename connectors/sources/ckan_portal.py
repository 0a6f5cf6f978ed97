"""Harvest dataset metadata from another CKAN portal (`package_search`, paged by dataset id).

Paging is by key, not offset. Pages are sorted by `id asc` and each page asks for ids after the
last one seen (`fq=id:{"<last>" TO *]`). An edit, creation or deletion on the portal during the
harvest therefore cannot shift records between pages, skipping one or returning one twice, as
`start=` offsets can. Ids never change, so the order is stable. A dataset created during the
harvest with a smaller id is picked up by the next run.

Change detection follows data.gov's harvester. Each record is hashed as sorted-key JSON after
dropping the volatile keys in `exclude_fields`, at every depth. By default these are
`metadata_modified`, `revision_id` and `tracking_summary`, which change without an edit to the
metadata (for example a no-op save or page-view counts). The hash is compared with the hash
stored in the state:
- created: ids the state does not hold;
- updated: ids whose hash differs;
- unchanged: ids whose hash matches;
- deleted: ids in the state that the portal no longer returns (deleted, made private or moved
  out of the filter). Their ids are listed in `stats["deleted_ids"]`.

Raw output of a run with changes:
- `datasets.jsonl`: every harvested record, one line each. The line holds a flat subset
  suitable for a table, a `harvest_status` column (created, updated or unchanged) and the whole
  record as JSON in `record_json`. This is a full snapshot, so any dataset missing from it was
  deleted.
- `page-NNNN.json`: each `package_search` response, exactly as the portal sent it.

When every hash matches and nothing was deleted, the run returns `unchanged` and no objects.
Access is anonymous unless `api_token` names an environment variable (`env:VAR`). Tokens are
never written in specs. The API is called over HTTP with the retrying session rather than
through ckanapi, so the raw bytes of each response can be kept.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any, Literal

import requests
from pydantic import Field, field_validator

from connectors.base import (
    ENV_REF,
    Connector,
    ConnectorError,
    FetchResult,
    RawObject,
    SourceConfig,
    file_object,
    resolve_env,
    spool_chunks,
)
from connectors.http import session

VOLATILE_FIELDS = ("metadata_modified", "revision_id", "tracking_summary")
_MAX_PAGES = 100_000  # a portal that never stops paging is a bug, not a big catalog


class CkanPortalConfig(SourceConfig):
    type: Literal["ckan_portal"]
    url: str = Field(pattern=r"^https?://", description="portal root, e.g. https://data.example.gov.vn")
    q: str = Field("*:*", description="Solr query, e.g. 'giao thông'")
    fq: str | None = Field(None, description="Solr filter query, e.g. 'res_format:CSV'")
    organization: str | None = Field(None, description="organization name (slug) to harvest")
    rows: int = Field(100, ge=1, le=1000, description="datasets per page (CKAN caps at 1000)")
    include_private: bool = Field(False, description="needs a token with access to them")
    api_token: str | None = Field(
        None, pattern=ENV_REF.pattern, description="'env:VAR' holding a CKAN API token"
    )
    exclude_fields: tuple[str, ...] = Field(VOLATILE_FIELDS, description="keys ignored by the hash")
    allow_empty: bool = Field(
        False, description="accept an empty result that would delete every stored dataset"
    )
    timeout_s: float = Field(60, gt=0, description="Seconds to wait for each API call.")
    verify_tls: bool = Field(True, description="Check the portal's TLS certificate.")

    @field_validator("url")
    @classmethod
    def _root(cls, value: str) -> str:
        value = value.rstrip("/")
        for suffix in ("/api/3/action", "/api/3", "/api"):
            value = value.removesuffix(suffix)
        return value


def record_hash(record: dict[str, Any], exclude: tuple[str, ...] | frozenset[str]) -> str:
    """SHA-256 of the record as sorted-key JSON, without the excluded keys at any depth."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in exclude}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    text = json.dumps(strip(record), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _names(items: Any, key: str = "name") -> str:
    return ", ".join(str(i.get(key) or "") for i in items or [] if isinstance(i, dict) and i.get(key))


def flat_row(record: dict[str, Any], portal: str, status: str) -> dict[str, Any]:
    """The table-friendly subset of one record (lists joined into strings)."""
    org = record.get("organization") or {}
    resources = [r for r in record.get("resources") or [] if isinstance(r, dict)]
    return {
        "id": record.get("id"),
        "name": record.get("name"),
        "title": record.get("title"),
        "notes": record.get("notes"),
        "organization": org.get("name"),
        "organization_title": org.get("title"),
        "license_id": record.get("license_id"),
        "license_title": record.get("license_title"),
        "tags": _names(record.get("tags")),
        "groups": _names(record.get("groups")),
        "created": record.get("metadata_created"),
        "modified": record.get("metadata_modified"),
        "private": record.get("private"),
        "landing_page": f"{portal}/dataset/{record.get('name') or record.get('id')}",
        "resource_count": len(resources),
        "resource_urls": "\n".join(str(r.get("url") or "") for r in resources),  # URLs hold no newline
        "resource_formats": ", ".join(str(r.get("format") or "") for r in resources),
        "harvest_status": status,
        "record_json": json.dumps(record, ensure_ascii=False, sort_keys=True),
    }


def _solr_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class CkanPortalConnector(Connector[CkanPortalConfig]):
    type = "ckan_portal"
    config_model = CkanPortalConfig

    @property
    def api(self) -> str:
        return f"{self.config.url}/api/3/action/package_search"

    def _filters(self, after: str | None) -> str:
        parts = []
        if self.config.fq:
            parts.append(f"+({self.config.fq})")
        if self.config.organization:
            parts.append(f"+organization:{_solr_quote(self.config.organization)}")
        if after is not None:
            parts.append(f"+id:{{{_solr_quote(after)} TO *]")
        return " ".join(parts)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.config.api_token:
            try:
                headers["Authorization"] = resolve_env(self.config.api_token)
            except ConnectorError as exc:
                raise ConnectorError(f"{self.config.url}: api_token: {exc}") from None
        return headers

    def _params(self, after: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"q": self.config.q, "rows": self.config.rows, "sort": "id asc"}
        if fq := self._filters(after):
            params["fq"] = fq
        if self.config.include_private:
            params["include_private"] = "true"
        return params

    def _page(
        self, http: requests.Session, number: int, after: str | None
    ) -> tuple[RawObject, dict[str, Any]]:
        params = self._params(after)
        where = f"{self.api} (page {number})"
        try:
            resp = http.get(
                self.api,
                params=params,
                headers=self._headers(),
                stream=True,
                timeout=self.config.timeout_s,
                verify=self.config.verify_tls,
            )
        except requests.RequestException as exc:
            raise ConnectorError(f"{where}: request failed: {exc}") from exc
        with resp:
            raw = spool_chunks(
                f"page-{number:04d}.json",
                resp.iter_content(chunk_size=1 << 20),
                self.context.workdir,
                source_uri=resp.url,
                media_type=resp.headers.get("Content-Type"),
                headers={k: v for k, v in resp.headers.items() if k.lower() in _KEPT_HEADERS},
                parse=False,  # replay copy: the clean stage reads datasets.jsonl
            )
        try:
            with raw.open() as fh:
                body = json.load(fh)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or "success" not in body:
            raise ConnectorError(
                f"{where}: HTTP {resp.status_code}, not a CKAN API response "
                f"(is {self.config.url} a CKAN portal?)"
            )
        if resp.status_code != 200 or not body.get("success"):
            error = body.get("error") or {}
            message = error.get("message") or error.get("__type") or json.dumps(error, ensure_ascii=False)
            hint = " (private data needs api_token)" if resp.status_code == 403 else ""
            raise ConnectorError(f"{where}: HTTP {resp.status_code}: {message}{hint}")
        result = body.get("result") or {}
        if not isinstance(result.get("results"), list):
            raise ConnectorError(f"{where}: response has no result.results list")
        return raw, result

    def fetch(self, state: dict[str, Any]) -> FetchResult:
        stored: dict[str, str] = dict(state.get("hashes") or {})
        exclude = frozenset(self.config.exclude_fields)
        http = session()
        pages: list[RawObject] = []
        hashes: dict[str, str] = {}
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        duplicates = 0
        reported: int | None = None
        self.context.workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=self.context.workdir, prefix="harvest-", suffix=".jsonl", delete=False
        ) as out:
            after: str | None = None
            for number in range(1, _MAX_PAGES + 1):
                raw, result = self._page(http, number, after)
                pages.append(raw)
                if reported is None:
                    reported = result.get("count")
                records = [r for r in result["results"] if isinstance(r, dict) and r.get("id")]
                for record in records:
                    rid = str(record["id"])
                    if rid in hashes:
                        duplicates += 1
                        continue
                    digest = record_hash(record, exclude)
                    hashes[rid] = digest
                    status = (
                        "created"
                        if rid not in stored
                        else "unchanged"
                        if stored[rid] == digest
                        else "updated"
                    )
                    counts[status] += 1
                    row = flat_row(record, self.config.url, status)
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                remaining = result.get("count")  # datasets with an id after `after`, this page included
                if not records or (isinstance(remaining, int) and len(result["results"]) >= remaining):
                    break
                last = str(records[-1]["id"])
                if after is not None and last <= after:
                    raise ConnectorError(f"{self.api}: paging by id does not advance (portal ignores sort?)")
                after = last
            else:
                raise ConnectorError(f"{self.api}: more than {_MAX_PAGES} pages; narrow q/fq")
        jsonl = Path(out.name)

        deleted = sorted(set(stored) - set(hashes))
        if not hashes and stored and not self.config.allow_empty:
            jsonl.unlink(missing_ok=True)
            raise ConnectorError(
                f"{self.api}: the portal returned no dataset but {len(stored)} were harvested before; "
                "refusing to mark them all deleted (check url/q/fq/organization, or set allow_empty)"
            )
        stats: dict[str, Any] = {
            **counts,
            "deleted": len(deleted),
            "deleted_ids": deleted,
            "total": len(hashes),
            "portal_count": reported,
            "pages": len(pages),
        }
        if duplicates:
            stats["duplicates"] = duplicates
        new_state = {"hashes": hashes}
        if counts["created"] == counts["updated"] == 0 and not deleted:
            jsonl.unlink(missing_ok=True)
            return FetchResult([], new_state, unchanged=True, stats=stats)
        source = requests.Request("GET", self.api, params=self._params(None)).prepare().url or self.api
        records_obj = file_object(
            "datasets.jsonl", jsonl, source_uri=source, media_type="application/x-ndjson"
        )
        return FetchResult([records_obj, *pages], new_state, stats=stats)


_KEPT_HEADERS = {"content-type", "content-length", "etag", "last-modified", "date"}
