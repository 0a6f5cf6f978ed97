"""Reads and writes against the lake bucket, through the minio SDK (MinIO or SeaweedFS)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from minio import Minio
from minio.error import S3Error

from citydata.clients import s3_client
from citydata.settings import Settings

# Multipart part size of file uploads: files up to this size go in one PUT; larger ones in parts
# of this size, three at a time (the ETag of an upload depends on it: see lake.hashing.file_digests).
PART_SIZE = 16 * 2**20


class Lake:
    def __init__(self, settings: Settings, client: Minio | None = None) -> None:
        self.settings = settings
        self.client = client or s3_client(settings)
        self.bucket = settings.s3.lake_bucket

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str:
        """Upload a file (streamed in PART_SIZE parts: memory stays flat); returns its ETag."""
        result = self.client.fput_object(
            self.bucket, key, str(path), content_type=content_type, part_size=PART_SIZE
        )
        return str(result.etag or "").strip('"')

    def put_json(self, key: str, value: Any) -> None:
        body = json.dumps(value, ensure_ascii=False, indent=2, default=str).encode()
        self.put_bytes(key, body, "application/json")

    def get_bytes(self, key: str) -> bytes:
        resp = self.client.get_object(self.bucket, key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def download(self, key: str, path: Path) -> Path:
        self.client.fget_object(self.bucket, key, str(path))
        return path

    def get_json(self, key: str, default: Any = None) -> Any:
        try:
            return json.loads(self.get_bytes(key))
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                return default
            raise

    def exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise
        return True

    def keys(self, prefix: str) -> Iterator[str]:
        for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            if not obj.is_dir and obj.object_name:
                yield obj.object_name

    def children(self, prefix: str) -> list[str]:
        """Immediate sub-prefixes ("folders") of a prefix, sorted."""
        out = set()
        for key in self.keys(prefix):
            rest = key[len(prefix) :]
            if "/" in rest:
                out.add(rest.split("/", 1)[0])
        return sorted(out)
