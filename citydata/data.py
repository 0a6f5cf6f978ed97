"""Load a published dataset in one line:

    from citydata.data import read_dataset
    df = read_dataset("bai-giu-xe")                                   # current version
    df = read_dataset("https://data.example.gov.vn/dataset/bai-giu-xe", version=2)

The CKAN entry is looked up anonymously first (public datasets need no credentials at all); a
private one is looked up with the configured API token. Its Parquet resources are read from
S3: over plain HTTP for public datasets, with the settings' S3 credentials for private ones
(`s3://` URLs). Every file is checked against the sha256 published with it.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from citydata.settings import Settings, get_settings

if TYPE_CHECKING:
    import pandas as pd

PARQUET_ROLE_PREFIX = "parquet-"
VERSIONS_ROLE = "versions"
_TIMEOUT_S = 120


class DatasetNotFound(LookupError):
    pass


class DataIntegrityError(RuntimeError):
    """A downloaded file does not match the hash published with it."""


@dataclass
class DatasetFiles:
    name: str
    version: int | None
    urls: list[str]
    sha256: list[str | None] = field(default_factory=list)
    private: bool = False
    ckan_url: str = ""


def parse_reference(id_or_url: str, default_base: str) -> tuple[str, str]:
    """(CKAN base URL, dataset name or id) from `name`, `.../dataset/<name>[/resource/..]` or `.rdf`."""
    text = id_or_url.strip()
    if "://" not in text:
        return default_base.rstrip("/"), text
    parsed = urlparse(text)
    path = unquote(parsed.path)
    if "/dataset/" not in path:
        raise DatasetNotFound(f"not a CKAN dataset URL (no /dataset/ in its path): {id_or_url}")
    prefix, rest = path.split("/dataset/", 1)
    name = rest.split("/", 1)[0]
    for suffix in (".rdf", ".ttl", ".jsonld", ".xml", ".n3"):
        name = name.removesuffix(suffix)
    if not name:
        raise DatasetNotFound(f"no dataset name in {id_or_url}")
    return f"{parsed.scheme}://{parsed.netloc}{prefix}".rstrip("/"), name


def _package(base: str, name: str, settings: Settings) -> tuple[dict[str, Any], bool]:
    """The package and whether it was readable anonymously."""
    import ckanapi

    from catalog.client import CatalogClient, NotAuthorizedError, NotFoundError

    anonymous = CatalogClient(
        settings, anonymous=True, ckan=ckanapi.RemoteCKAN(base, user_agent="citydata/0.1")
    )
    try:
        return anonymous.call("package_show", id=name), True
    except (NotFoundError, NotAuthorizedError) as exc:
        token = settings.ckan.api_token.get_secret_value()
        if not token or base.rstrip("/") != settings.ckan.url.rstrip("/"):
            raise DatasetNotFound(f"{name}: no such dataset at {base} (or it is private)") from exc
    authorised = CatalogClient(
        settings, ckan=ckanapi.RemoteCKAN(base, apikey=token, user_agent="citydata/0.1")
    )
    try:
        return authorised.call("package_show", id=name), False
    except (NotFoundError, NotAuthorizedError) as exc:
        raise DatasetNotFound(f"{name}: no such dataset at {base}") from exc


def _s3_get(bucket: str, key: str, settings: Settings) -> bytes:
    from citydata.clients import s3_client

    resp = s3_client(settings).get_object(bucket, key)
    try:
        return resp.read()
    finally:
        resp.close()
        resp.release_conn()


def _fetch(url: str, settings: Settings) -> bytes:
    """s3:// with the settings' credentials; http(s) anonymously (credentials only as a fallback
    for our own endpoint when anonymous read is refused, e.g. a dataset made private)."""
    if url.startswith("s3://"):
        bucket, _, key = url[5:].partition("/")
        return _s3_get(bucket, key, settings)
    reply = requests.get(url, timeout=_TIMEOUT_S)
    own = settings.s3.url.rstrip("/") + "/"
    if reply.status_code == 403 and url.startswith(own) and settings.s3.access_key.get_secret_value():
        bucket, _, key = url[len(own) :].partition("/")
        return _s3_get(bucket, key, settings)
    reply.raise_for_status()
    return reply.content


def _object_base(url: str) -> str:
    if "published/" not in url:
        raise DatasetNotFound(f"not a published-zone URL: {url}")
    return url[: url.index("published/")]


def _published_key(key: str) -> str:
    """A key read from a pointer or manifest: it must stay inside the published zone."""
    from citydata.storage.layout import UnsafeKeyError, check_key

    try:
        check_key(key)
    except UnsafeKeyError as exc:
        raise DataIntegrityError(f"refusing a key from the catalog's files: {exc}") from None
    if not key.startswith("published/"):
        raise DataIntegrityError(f"refusing a key outside the published zone: {key!r}")
    return key


def _hex(value: str | None) -> str | None:
    return value.split(":", 1)[1] if value and ":" in value else value


def locate(id_or_url: str, version: int | None = None, settings: Settings | None = None) -> DatasetFiles:
    """The Parquet files of a dataset version, from its CKAN entry."""
    settings = settings or get_settings()
    base, name = parse_reference(id_or_url, settings.ckan.url)
    pkg, public = _package(base, name, settings)
    resources = pkg.get("resources", [])
    parquet = sorted(
        (r for r in resources if str(r.get("citydata_role", "")).startswith(PARQUET_ROLE_PREFIX)),
        key=lambda r: str(r.get("citydata_role")),
    ) or [r for r in resources if str(r.get("format", "")).lower() == "parquet"]
    if not parquet:
        raise DatasetNotFound(f"{name}: the dataset has no Parquet resource")
    current = int(pkg["version"]) if str(pkg.get("version", "")).isdigit() else None
    files = DatasetFiles(pkg["name"], current, [], [], not public, f"{base}/dataset/{pkg['name']}")
    if version is None or version == current:
        files.urls = [r["url"] for r in parquet]
        files.sha256 = [r.get("hash") for r in parquet]
        return files
    versions = next((r for r in resources if r.get("citydata_role") == VERSIONS_ROLE), None)
    if versions is None:
        raise DatasetNotFound(f"{name}: no versions resource, only the current version can be read")
    pointer = json.loads(_fetch(versions["url"], settings))
    entry = next((v for v in pointer.get("versions", []) if int(v["version"]) == version), None)
    if entry is None:
        kept = ", ".join(f"v{v['version']}" for v in pointer.get("versions", []))
        raise DatasetNotFound(f"{name}: version {version} is not kept (kept: {kept})")
    object_base = _object_base(versions["url"])
    manifest = json.loads(_fetch(object_base + _published_key(entry["manifest"]), settings))
    files.version = version
    files.urls = [object_base + _published_key(p["key"]) for p in manifest.get("parts", [])]
    files.sha256 = [_hex(p.get("sha256")) for p in manifest.get("parts", [])]
    return files


def fetch_table(files: DatasetFiles, settings: Settings | None = None) -> pa.Table:
    """Download and check the files `locate()` found; one table, parts in order."""
    settings = settings or get_settings()
    tables = []
    for i, url in enumerate(files.urls):
        body = _fetch(url, settings)
        expected = files.sha256[i] if i < len(files.sha256) else None
        if expected and hashlib.sha256(body).hexdigest() != expected:
            raise DataIntegrityError(f"{url}: content does not match its published sha256")
        tables.append(pq.read_table(io.BytesIO(body)))
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def read_table(id_or_url: str, version: int | None = None, settings: Settings | None = None) -> pa.Table:
    settings = settings or get_settings()
    return fetch_table(locate(id_or_url, version, settings), settings)


def read_dataset(
    id_or_url: str, version: int | None = None, *, settings: Settings | None = None
) -> pd.DataFrame:
    """A published dataset (current version, or `version`) as a pandas DataFrame.

    Date columns are datetime64 (pandas' own Parquet reading would give Python date objects).
    """
    return read_table(id_or_url, version, settings).to_pandas(date_as_object=False)


def download_urls(
    id_or_url: str,
    version: int | None = None,
    settings: Settings | None = None,
    expires: timedelta = timedelta(hours=1),
) -> list[str]:
    """HTTP URLs of the Parquet files: as published (public) or presigned for `expires` (private)."""
    settings = settings or get_settings()
    files = locate(id_or_url, version, settings)
    if not files.private:
        return files.urls
    from citydata.clients import s3_client

    client = s3_client(settings)
    out = []
    for url in files.urls:
        bucket, _, key = url.removeprefix("s3://").partition("/")
        out.append(client.presigned_get_object(bucket, key, expires=expires))
    return out
