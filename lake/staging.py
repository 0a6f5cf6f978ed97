"""Steps 2 and 3 of a publication (`lake.promote`): the version's files staged outside the public
prefix, verified against the local files, and its manifest."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pyarrow.parquet as pq
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject

from citydata.storage.lake import Lake
from citydata.storage.published import (
    MANIFEST,
    MANIFEST_FORMAT,
    folders_of,
    staging_prefix,
    version_prefix,
)
from lake.exports import BuiltFile, BuiltVersion
from lake.hashing import sha256_file
from lake.version import (
    PublicationError,
    PublishHooks,
    ReportSource,
    SourceData,
    VerificationError,
    VersionOptions,
    quality_digest,
)

T = TypeVar("T")
R = TypeVar("R")
UPLOAD_THREADS = 4  # S3 requests in flight at once (uploads, copies, checks)


def parallel(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """fn over items in a few threads (S3 requests wait on the network); the first error raises."""
    todo = list(items)
    if len(todo) <= 1:
        return [fn(i) for i in todo]
    with ThreadPoolExecutor(max_workers=min(UPLOAD_THREADS, len(todo))) as pool:
        return list(pool.map(fn, todo))


class Writer:
    """Counts what one run writes and deletes (thread-safe)."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.written = 0
        self.deleted = 0
        self._lock = threading.Lock()

    def _count(self) -> None:
        with self._lock:
            self.written += 1

    def put_file(self, key: str, path: Path, content_type: str) -> str:
        etag = self.lake.put_file(key, path, content_type)
        self._count()
        return etag

    def put_json(self, key: str, value: Any) -> None:
        self.lake.put_json(key, value)
        self._count()

    def copy(self, src: str, dst: str) -> None:
        self.lake.client.copy_object(self.lake.bucket, dst, CopySource(self.lake.bucket, src))
        self._count()

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        errors = list(self.lake.client.remove_objects(self.lake.bucket, [DeleteObject(k) for k in keys]))
        if errors:
            raise PublicationError(f"could not delete {len(errors)} objects, e.g. {errors[0]}")
        self.deleted += len(keys)

    def delete_prefix(self, prefix: str, manifest_first: bool = True) -> None:
        """Every object under `prefix` (the manifest first), then the emptied folders (SeaweedFS
        lists them until they are deleted; on MinIO and S3 deleting them is a no-op)."""
        keys = list(self.lake.keys(prefix))
        first = [k for k in keys if k.endswith("/" + MANIFEST)] if manifest_first else []
        self.delete(first)
        self.delete([k for k in keys if k not in first])
        for folder in folders_of(keys, prefix):
            self.lake.client.remove_object(self.lake.bucket, folder)


def write_version(
    lake: Lake,
    writer: Writer,
    *,
    agency: str,
    dataset: str,
    version: int,
    built: BuiltVersion,
    source: SourceData,
    report: ReportSource | None,
    options: VersionOptions,
    build: str,
    run_id: str,
    created_at: str,
    hooks: PublishHooks,
    workdir: Path,
    lap: Callable[[str], None],
) -> dict[str, Any]:
    staging = staging_prefix(agency, dataset, run_id)
    final = version_prefix(agency, dataset, version)

    # 2. stage: the files and the report copies side by side (the biggest files first)
    def stage_file(f: BuiltFile) -> None:
        writer.put_file(staging + f.name, f.path, f.content_type)

    def stage_report(key: str) -> tuple[str, int]:
        assert report is not None
        rel = "quality/" + key[len(report.prefix) :]
        writer.copy(key, staging + rel)
        return rel, lake.client.stat_object(lake.bucket, key).size or 0

    jobs: list[Callable[[], Any]] = [functools.partial(stage_file, f)
                                     for f in sorted(built.files, key=lambda f: -f.size)]  # fmt: skip
    jobs += [functools.partial(stage_report, key) for key in (report.keys if report else ())]
    staged = parallel(lambda job: job(), jobs)
    report_files: list[tuple[str, int]] = staged[len(built.files) :]  # (relative name, size)
    lap("stage")
    if hooks.after_stage:
        hooks.after_stage(staging)
    # 3. verify
    verify_staged(lake, staging, built.files, report_files, workdir / "verify")
    lap("verify")
    if hooks.after_verify:
        hooks.after_verify(staging)
    # 4. promote: server-side copies, side by side, each checked by size
    expected = {f.name: f.size for f in sorted(built.files, key=lambda f: -f.size)} | dict(report_files)

    def promote(name: str) -> None:
        writer.copy(staging + name, final + name)
        size = lake.client.stat_object(lake.bucket, final + name).size
        if size != expected[name]:
            raise VerificationError(f"{final}{name}: {size} bytes after copy, expected {expected[name]}")

    parallel(promote, expected)
    lap("promote")
    if hooks.after_copy:
        hooks.after_copy(final)
    manifest = version_manifest(agency, dataset, version, built, source, report, report_files, options, build,
                         run_id, created_at, final)  # fmt: skip
    writer.put_json(final + MANIFEST, manifest)
    if hooks.after_manifest:
        hooks.after_manifest(final)
    return manifest


def verify_staged(
    lake: Lake, staging: str, files: list[BuiltFile], report_files: list[tuple[str, int]], tmp: Path
) -> None:
    """Every staged file has the size and the ETag computed locally (the MD5 S3 computed over the
    bytes it received, per part); a file whose ETag differs (e.g. a store that encrypts and so
    reports no MD5) is read back and compared by sha256 and Parquet row count instead."""
    tmp.mkdir(parents=True, exist_ok=True)

    def check(f: BuiltFile) -> None:
        stat = lake.client.stat_object(lake.bucket, staging + f.name)
        if stat.size != f.size:
            raise VerificationError(f"{staging}{f.name}: {stat.size} bytes after upload, wrote {f.size}")
        if f.etag and str(stat.etag or "").strip('"') == f.etag:
            return
        path = lake.download(staging + f.name, tmp / f.name)
        digest = sha256_file(path)
        if digest != f.sha256:
            raise VerificationError(f"{staging}{f.name}: read back {digest}, wrote {f.sha256}")
        if f.kind == "parquet" and pq.read_metadata(path).num_rows != f.rows:
            raise VerificationError(f"{staging}{f.name}: row count differs after upload")
        path.unlink()

    def check_report(item: tuple[str, int]) -> None:
        rel, size = item
        got = lake.client.stat_object(lake.bucket, staging + rel).size
        if got != size:
            raise VerificationError(f"{staging}{rel}: {got} bytes, expected {size}")

    parallel(check, files)
    parallel(check_report, report_files)


def version_manifest(
    agency: str,
    dataset: str,
    version: int,
    built: BuiltVersion,
    source: SourceData,
    report: ReportSource | None,
    report_files: list[tuple[str, int]],
    options: VersionOptions,
    build: str,
    run_id: str,
    created_at: str,
    final: str,
) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for f in built.extras:
        files[f.kind] = f.record(final + f.name)
    if report_files:
        files["quality"] = [{"key": final + rel, "size": size} for rel, size in report_files]
        names = {rel for rel, _ in report_files}
        if "quality/summary.json" in names:
            files["quality_summary"] = {"key": final + "quality/summary.json"}
        if "quality/data_docs/index.html" in names:
            files["data_docs"] = {"key": final + "quality/data_docs/index.html"}
    return {
        "format": MANIFEST_FORMAT,
        "dataset": dataset,
        "agency": agency,
        "version": version,
        "created_at": created_at,
        "run_id": run_id,
        "rows": built.rows,
        "content_hash": built.content_hash,
        "build_hash": build,
        "schema": built.schema,
        "columns": built.dictionary,
        "source": {**source.identity(), "pull_id": source.pull_id, "kind": source.kind},
        "parts": [p.record(final + p.name) for p in built.parts],
        "files": files,
        "quality": quality_digest(report.summary) if report else None,
        "options": options.shape(),
        # a download not built, and why (e.g. {"xlsx": {"reason": "rows", "value": N, "limit": L}})
        "skipped": {kind: why.as_dict() for kind, why in built.skipped.items()},
    }
