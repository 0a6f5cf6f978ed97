"""A file on a web server (CSV, XLSX, JSON, GeoJSON...), pulled with a conditional GET.

An unchanged source costs one request: the stored ETag / Last-Modified make the server answer
304; a server without them sends the file, and an unchanged content hash still ends the run.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import requests
from pydantic import Field

from connectors.base import Connector, ConnectorError, FetchResult, SourceConfig, spool_chunks
from connectors.http import session


class HttpFileConfig(SourceConfig):
    type: Literal["http_file"]
    url: str = Field(pattern=r"^https?://", description="URL of the file (http or https).")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers sent with the GET.")
    timeout_s: float = Field(60, gt=0, description="Seconds to wait for the server.")
    verify_tls: bool = Field(True, description="Check the server's TLS certificate.")


def file_name(url: str, response: requests.Response) -> str:
    disposition = response.headers.get("Content-Disposition", "")
    match = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)", disposition)
    name = unquote(match.group(1)) if match else posixpath.basename(unquote(urlsplit(url).path))
    return posixpath.basename(name) or "download"


class HttpFileConnector(Connector[HttpFileConfig]):
    type = "http_file"
    config_model = HttpFileConfig

    def fetch(self, state: dict[str, Any]) -> FetchResult:
        url = self.config.url
        headers = dict(self.config.headers)
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        try:
            resp = session().get(
                url,
                headers=headers,
                stream=True,
                timeout=self.config.timeout_s,
                verify=self.config.verify_tls,
            )
        except requests.RequestException as exc:
            raise ConnectorError(f"{url}: request failed: {exc}") from exc
        with resp:
            if resp.status_code == 304:
                return FetchResult([], state, unchanged=True, stats={"http_status": 304})
            if resp.status_code != 200:
                raise ConnectorError(f"{url}: HTTP {resp.status_code} {resp.reason}")
            kept = {k: v for k, v in resp.headers.items() if k.lower() in _KEPT_HEADERS}
            raw = spool_chunks(
                file_name(url, resp),
                resp.iter_content(chunk_size=1 << 20),
                self.context.workdir,
                source_uri=url,
                media_type=resp.headers.get("Content-Type"),
                headers=kept,
            )
        new_state = {
            "etag": resp.headers.get("ETag"),
            "last_modified": resp.headers.get("Last-Modified"),
            "sha256": raw.sha256,
        }
        if raw.sha256 == state.get("sha256"):
            return FetchResult([], new_state, unchanged=True, stats={"http_status": 200, "same_hash": True})
        return FetchResult([raw], new_state, stats={"http_status": 200, "bytes": raw.size})


_KEPT_HEADERS = {"content-type", "content-length", "etag", "last-modified", "content-disposition", "date"}
