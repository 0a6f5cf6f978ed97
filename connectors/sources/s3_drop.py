"""A drop zone in S3-compatible storage where agencies upload files (SeaweedFS, MinIO, AWS S3).

Every object under `prefix` (recursively) whose file name matches `pattern` is pulled once per
version: the state maps each key to the ETag, size and last-modified seen, and an object is
pulled again only when its ETag or size differs (a new upload with different content). A
byte-identical re-upload keeps its ETag and size and is not pulled again.

Objects are never deleted or moved. The state, not the bucket, records what has been pulled:
- The pipeline saves the state only after a run succeeds. If a later stage fails, the next run
  sees the same objects again. Moving them to `processed/` during the fetch would lose them.
- Agencies keep their uploads where they put them. The pipeline needs read and list access
  only, never delete.
- The raw zone keeps its own copy of every pulled version, so replays do not need the bucket.

Keys are checked before use. A key (or the part after the prefix) with a `..` segment, a
leading `/` or `\\`, or a drive letter fails the run with a ConnectorError naming the key.
MinIO and SeaweedFS refuse such names, but AWS S3 stores them, and the relative key becomes the
object's name in the raw zone. Only the minio SDK API is used. Empty "directory" entries
(SeaweedFS lists them after deletes; consoles create `folder/` markers) are skipped.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import urllib3
from pydantic import Field, field_validator, model_validator

from citydata.clients import s3_http_client
from citydata.storage.layout import percent_decoded
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

if TYPE_CHECKING:
    from minio import Minio

ENV_REF_PATTERN = ENV_REF.pattern
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20


def unsafe_key_reason(key: str) -> str | None:
    """Why `key` cannot be used as a relative path (None when it is safe)."""
    if not key:
        return "empty key"
    if key.startswith(("/", "\\")) or _DRIVE.match(key):
        return "absolute path"
    if any(part == ".." for part in re.split(r"[/\\]", key)):
        return "path traversal ('..' segment)"
    decoded = percent_decoded(key)
    if decoded != key and (
        decoded.startswith(("/", "\\")) or any(p == ".." for p in re.split(r"[/\\]", decoded))
    ):
        return "encoded path traversal (%2e%2e or %2f)"
    if "\x00" in key:
        return "NUL character"
    return None


def _env(ref: str, what: str) -> str:
    try:
        return resolve_env(ref)
    except ConnectorError as exc:
        raise ConnectorError(f"{what}: {exc}") from None


class S3DropConfig(SourceConfig):
    type: Literal["s3_drop"]
    bucket: str | None = Field(None, description="default: settings.s3.drop_bucket")
    prefix: str = Field("", description="folder the agency uploads to, e.g. 'so-gtvt/parking/'")
    pattern: str = Field("*", description="glob on the file name (case-insensitive), e.g. '*.csv'")
    endpoint: str | None = Field(None, description="other S3 server: 'host:port' or 'https://host[:port]'")
    secure: bool | None = Field(None, description="TLS for `endpoint` (default: from its scheme, else on)")
    region: str | None = Field(None, description="S3 region of `endpoint` (default: settings).")
    access_key: str | None = Field(None, pattern=ENV_REF_PATTERN, description="'env:VAR'; default: settings")
    secret_key: str | None = Field(None, pattern=ENV_REF_PATTERN, description="'env:VAR'; default: settings")

    @field_validator("prefix")
    @classmethod
    def _folder_prefix(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        reason = unsafe_key_reason(value)
        if reason:
            raise ValueError(f"prefix {value!r} is not a safe relative folder: {reason}")
        return value if value.endswith("/") else value + "/"

    @field_validator("pattern")
    @classmethod
    def _name_glob(cls, value: str) -> str:
        if not value or "/" in value or "\\" in value:
            raise ValueError(f"pattern is a glob on the file name, without '/': {value!r}")
        return value

    @model_validator(mode="after")
    def _key_pair(self) -> S3DropConfig:
        if (self.access_key is None) != (self.secret_key is None):
            raise ValueError("give both access_key and secret_key, or neither")
        return self


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class S3DropConnector(Connector[S3DropConfig]):
    type = "s3_drop"
    config_model = S3DropConfig

    @property
    def bucket(self) -> str:
        return self.config.bucket or self.context.settings.s3.drop_bucket

    def client(self) -> Minio:
        from minio import Minio

        cfg, s3 = self.config, self.context.settings.s3
        if cfg.endpoint is None:
            access = (
                _env(cfg.access_key, "access_key") if cfg.access_key else s3.access_key.get_secret_value()
            )
            secret = (
                _env(cfg.secret_key, "secret_key") if cfg.secret_key else s3.secret_key.get_secret_value()
            )
            return Minio(
                s3.endpoint,
                access_key=access,
                secret_key=secret,
                secure=s3.secure if cfg.secure is None else cfg.secure,
                region=cfg.region or s3.region,
                http_client=s3_http_client(),
            )
        # Another server: never send the platform's own keys there; anonymous unless keys are given.
        endpoint, tls = cfg.endpoint.rstrip("/"), cfg.secure
        if match := re.match(r"^(https?)://", endpoint):
            endpoint = endpoint[match.end() :]
            tls = match.group(1) == "https" if tls is None else tls
        return Minio(
            endpoint,
            access_key=_env(cfg.access_key, "access_key") if cfg.access_key else None,
            secret_key=_env(cfg.secret_key, "secret_key") if cfg.secret_key else None,
            secure=True if tls is None else tls,
            region=cfg.region,
            http_client=s3_http_client(),
        )

    def fetch(self, state: dict[str, Any]) -> FetchResult:
        from minio.error import MinioException

        bucket, prefix = self.bucket, self.config.prefix
        where = f"s3://{bucket}/{prefix}"
        seen: dict[str, dict[str, Any]] = dict(state.get("objects") or {})
        client = self.client()
        try:
            listed = self._list(client, bucket, prefix)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectorError(f"{where}: cannot list objects: {exc}") from exc

        unsafe = [(key, unsafe_key_reason(key) or unsafe_key_reason(key[len(prefix) :])) for key in listed]
        rejected = [f"{key!r} ({reason})" for key, reason in unsafe if reason]
        if rejected:
            raise ConnectorError(
                f"{where}: refusing unsafe object keys: {', '.join(rejected)}; "
                "rename or remove them in the drop zone"
            )

        new_state: dict[str, dict[str, Any]] = {}
        objects: list[RawObject] = []
        new = changed = 0
        for key, entry in listed.items():
            before = seen.get(key)
            if before and before.get("etag") == entry["etag"] and before.get("size") == entry["size"]:
                new_state[key] = before
                continue
            raw = self._pull(client, bucket, key)
            objects.append(raw)
            new_state[key] = {
                "etag": raw.headers.get("ETag", entry["etag"]),
                "size": raw.size,
                "last_modified": entry["last_modified"],
            }
            if before:
                changed += 1
            else:
                new += 1

        stats = {
            "listed": len(listed),
            "new": new,
            "changed": changed,
            "unchanged": len(listed) - new - changed,
            "gone": len(set(seen) - set(listed)),  # removed from the drop zone since the last run
            "bytes": sum(o.size for o in objects),
        }
        return FetchResult(objects, {"objects": new_state}, unchanged=not objects, stats=stats)

    def _list(self, client: Minio, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
        pattern = self.config.pattern.lower()
        found: dict[str, dict[str, Any]] = {}
        for obj in client.list_objects(bucket, prefix=prefix or None, recursive=True):
            key = obj.object_name
            if obj.is_dir or obj.is_delete_marker or not key or key.endswith("/"):
                continue  # empty folder entries (SeaweedFS after deletes, console "folders")
            if not fnmatch.fnmatchcase(posixpath.basename(key).lower(), pattern):
                continue
            found[key] = {
                "etag": (obj.etag or "").strip('"'),
                "size": obj.size,
                "last_modified": _iso(obj.last_modified),
            }
        return dict(sorted(found.items()))

    def _pull(self, client: Minio, bucket: str, key: str) -> RawObject:
        from minio.error import MinioException

        uri = f"s3://{bucket}/{key}"
        try:
            response = client.get_object(bucket, key)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectorError(f"{uri}: cannot read object: {exc}") from exc
        try:
            headers = {name: response.headers[name] for name in _KEPT if response.headers.get(name)}
            if "ETag" in headers:
                headers["ETag"] = headers["ETag"].strip('"')
            headers.update(
                {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-amz-meta-")}
            )
            return spool_chunks(
                key[len(self.config.prefix) :],
                response.stream(_CHUNK),
                self.context.workdir,
                source_uri=uri,
                media_type=response.headers.get("Content-Type"),
                headers=headers,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectorError(f"{uri}: download interrupted: {exc}") from exc
        finally:
            response.close()
            response.release_conn()


_KEPT = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Content-Encoding", "x-amz-version-id")
