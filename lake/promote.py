"""Atomic publication of one dataset version into the published zone.

    1. decide: same source object (key, ETag, size) and same build options as the current
       version's manifest -> unchanged, nothing written. Otherwise build the files locally and
       compare the table fingerprint: same rows -> unchanged, nothing written.
    2. stage: upload every file under published/_staging/<agency>/<dataset>/<run_id>/
       (outside the public prefix), copy the quality report beside them (a few requests at once)
    3. verify: every staged object's size and ETag (S3's MD5 of the bytes it received) against
       the local file's; a differing ETag falls back to reading the object back (sha256, rows)
    4. promote: server-side copy to published/<agency>/<dataset>/v<N>/, check sizes, write
       v<N>/_manifest.json, then _current.json (S3 has no rename: the pointer is the commit)
    5. tidy: delete the staging objects, versions beyond `keep`, staging of abandoned runs

A run killed anywhere before step 4's pointer write leaves `_current.json` as it was: readers
keep reading the previous version. The next run reuses the version number of a half-written
version (deleting its objects, manifest first) or adopts it when its manifest matches.

A run id names its writer: `<UTC time>-<host>-<pid>-<process start>`. Staging left by a run is
deleted by the next publication of the dataset (even an unchanged one) once that run is
abandoned: its process is gone (same host), it failed in this process, or it is older than
`stale_staging_after` (runs of other hosts, whose processes cannot be checked).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pyarrow.parquet as pq
import urllib3
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject

from citydata.processes import gone, is_this_process, process_tag
from citydata.storage.lake import Lake
from citydata.storage.layout import new_pull_id
from citydata.storage.published import (
    MANIFEST,
    MANIFEST_FORMAT,
    Pointer,
    VersionEntry,
    current_key,
    folders_of,
    listed_versions,
    manifest_key,
    next_pointer,
    read_pointer,
    staging_prefix,
    staging_root,
    version_prefix,
)
from lake.exports import BuiltFile, BuiltVersion, build_version
from lake.hashing import sha256_file, value_hash

Hook = Callable[[str], None]
T = TypeVar("T")
R = TypeVar("R")
UPLOAD_THREADS = 4  # S3 requests in flight at once (uploads, copies, checks)


class PublicationError(RuntimeError):
    """A version could not be published; the previous version is untouched."""


class LakeUnavailable(PublicationError):
    """S3 stopped answering during a publication; readers keep the last committed version."""


class VerificationError(PublicationError):
    """An object read back from S3 differs from what was written."""


@dataclass(frozen=True)
class SourceData:
    """The clean rows to publish."""

    key: str
    etag: str
    size: int
    pull_id: str | None = None
    kind: str = "data"  # data | validated
    columns: tuple[dict[str, Any], ...] = ()  # the data dictionary from the clean stage

    def identity(self) -> dict[str, Any]:
        return {"key": self.key, "etag": self.etag, "size": self.size}


@dataclass(frozen=True)
class ReportSource:
    """A quality run's outputs (reports/<agency>/<dataset>/<pull_id>/), copied into the version."""

    prefix: str
    keys: tuple[str, ...]
    summary: dict[str, Any]


@dataclass(frozen=True)
class VersionOptions:
    part_rows: int = 1_000_000
    csv: bool = True
    csv_bom: bool = False
    keep_versions: int = 5

    def shape(self) -> dict[str, Any]:
        """What changes the files (not `keep_versions`)."""
        return {"part_rows": self.part_rows, "csv": self.csv, "csv_bom": self.csv_bom, "layout": 1}


@dataclass
class PublishHooks:
    """Called with the prefix just written; tests use them to kill a run between steps."""

    after_stage: Hook | None = None
    after_verify: Hook | None = None
    after_copy: Hook | None = None
    after_manifest: Hook | None = None


@dataclass
class LakePublication:
    agency: str
    dataset: str
    version: int
    unchanged: bool
    reason: str
    manifest: dict[str, Any]
    pointer: Pointer
    objects_written: int = 0
    objects_deleted: int = 0
    dropped_versions: list[int] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # build, stage, verify, promote, commit, tidy


def build_hash(options: VersionOptions, columns: Iterable[dict[str, Any]]) -> str:
    described = [{k: c.get(k) for k in ("name", "label", "type", "description")} for c in columns]
    return value_hash({"options": options.shape(), "columns": described})


def quality_digest(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if not summary:
        return None
    keep = ("pull_id", "rows", "score", "success", "blocking", "promotable", "partial", "failed_row_count",
            "warned_row_count", "validated_at", "unchecked_columns")  # fmt: skip
    digest = {k: summary.get(k) for k in keep if k in summary}
    if summary.get("fidelity"):  # the comparison with the source, without its examples
        digest["fidelity"] = {k: v for k, v in summary["fidelity"].items() if k != "examples"}
    return digest


_LIVE_RUNS: set[str] = set()  # run ids publishing in this process right now
_LIVE_LOCK = threading.Lock()


def new_run_id() -> str:
    return f"{new_pull_id()}-{process_tag()}"


def _run_time(run_id: str) -> datetime | None:
    try:
        return datetime.strptime(run_id[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _parallel(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """fn over items in a few threads (S3 requests wait on the network); the first error raises."""
    todo = list(items)
    if len(todo) <= 1:
        return [fn(i) for i in todo]
    with ThreadPoolExecutor(max_workers=min(UPLOAD_THREADS, len(todo))) as pool:
        return list(pool.map(fn, todo))


def run_abandoned(run_id: str, now: datetime, stale_after: timedelta) -> bool:
    """True when no process is writing the staging of `run_id` any more."""
    when = _run_time(run_id)
    if when is None or now - when >= stale_after:
        return True
    if is_this_process(run_id):
        with _LIVE_LOCK:
            return run_id not in _LIVE_RUNS  # a run of this process that failed
    return bool(gone(run_id))  # None (another host): wait until it is stale


class _Writer:
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


def publish_version(
    lake: Lake,
    *,
    agency: str,
    dataset: str,
    source: SourceData,
    options: VersionOptions,
    report: ReportSource | None = None,
    run_id: str | None = None,
    hooks: PublishHooks | None = None,
    scratch_dir: Path | None = None,
    stale_staging_after: timedelta = timedelta(hours=1),
) -> LakePublication:
    run_id = run_id or new_run_id()
    with _LIVE_LOCK:
        _LIVE_RUNS.add(run_id)
    try:
        return _publish_version(lake, agency, dataset, source, options, report, run_id,
                                hooks or PublishHooks(), scratch_dir, stale_staging_after)  # fmt: skip
    except urllib3.exceptions.HTTPError as exc:  # no answer after the SDK's own retries
        raise LakeUnavailable(
            f"S3 at {lake.settings.s3.url} unavailable while publishing {agency}/{dataset} "
            f"({type(exc).__name__}); readers keep the last committed version, the next run completes it"
        ) from exc
    finally:
        with _LIVE_LOCK:
            _LIVE_RUNS.discard(run_id)


def _publish_version(
    lake: Lake,
    agency: str,
    dataset: str,
    source: SourceData,
    options: VersionOptions,
    report: ReportSource | None,
    run_id: str,
    hooks: PublishHooks,
    scratch_dir: Path | None,
    stale_staging_after: timedelta,
) -> LakePublication:
    started = time.monotonic()
    pointer = read_pointer(lake, agency, dataset)
    current = lake.get_json(pointer.entry().manifest) if pointer and pointer.entry() else None  # type: ignore[union-attr]
    wanted_build = build_hash(options, source.columns)

    def unchanged(reason: str) -> LakePublication:
        assert pointer is not None and current is not None
        # A run killed after its commit (before its tidy) leaves staging that only this can remove.
        sweeper = _Writer(lake)
        _sweep_staging(lake, sweeper, agency, dataset, run_id, stale_staging_after)
        return LakePublication(agency, dataset, pointer.current, True, reason, current, pointer,
                               objects_deleted=sweeper.deleted,
                               seconds=round(time.monotonic() - started, 3))  # fmt: skip

    if current is not None and current.get("build_hash") == wanted_build:
        if {k: current.get("source", {}).get(k) for k in ("key", "etag", "size")} == source.identity():
            return unchanged("same source object as the current version")

    if scratch_dir is not None:
        scratch_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_workdirs(scratch_dir, dataset, stale_staging_after)
    workdir = Path(tempfile.mkdtemp(prefix=f"publish-{dataset}-", dir=scratch_dir))
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 3)
        clock = now

    try:
        local = lake.download(source.key, workdir / "source.parquet")
        built = build_version(
            local,
            workdir / "out",
            dataset,
            part_rows=options.part_rows,
            csv_file=options.csv,
            csv_bom=options.csv_bom,
            columns=source.columns,
        )
        local.unlink()
        lap("build")
        if (
            current is not None
            and current.get("content_hash") == built.content_hash
            and current.get("build_hash") == wanted_build
        ):
            return unchanged("same rows as the current version")
        writer = _Writer(lake)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        version, adopted, base = _choose_version(lake, writer, agency, dataset, pointer, built, wanted_build)
        if adopted is not None:
            manifest = adopted
        else:
            manifest = _write_version(
                lake, writer, agency=agency, dataset=dataset, version=version, built=built,
                source=source, report=report, options=options, build=wanted_build, run_id=run_id,
                created_at=created_at, hooks=hooks, workdir=workdir, lap=lap,
            )  # fmt: skip
        entry = _entry_of(agency, dataset, manifest)
        new_pointer, dropped = next_pointer(base, entry, options.keep_versions, created_at, run_id)
        new_pointer.dataset, new_pointer.agency = dataset, agency
        writer.put_json(current_key(agency, dataset), new_pointer.as_dict())  # the commit
        lap("commit")
        _tidy(lake, writer, agency, dataset, run_id, new_pointer, stale_staging_after)
        lap("tidy")
        return LakePublication(
            agency, dataset, version, False, "adopted a completed version" if adopted else "new version",
            manifest, new_pointer, writer.written, writer.deleted, dropped,
            round(time.monotonic() - started, 3), timings,
        )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _remove_stale_workdirs(scratch_dir: Path, dataset: str, stale_after: timedelta) -> None:
    """Local work folders of killed runs (a killed process cannot remove its own)."""
    now = time.time()
    for path in scratch_dir.glob(f"publish-{dataset}-*"):
        try:
            if path.is_dir() and now - path.stat().st_mtime >= stale_after.total_seconds():
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            continue


def _choose_version(
    lake: Lake,
    writer: _Writer,
    agency: str,
    dataset: str,
    pointer: Pointer | None,
    built: BuiltVersion,
    wanted_build: str,
) -> tuple[int, dict[str, Any] | None, Pointer | None]:
    """The next version number, a completed-but-unlisted version to adopt (same content), and the
    pointer to build on.

    Versions above the pointer's newest were written by a run killed before its commit: one with
    a manifest and our content is adopted, the others are deleted (manifest first). Without a
    pointer (first publication, or a lost pointer), versions that have a manifest are taken back
    into the history rather than overwritten.
    """
    present = listed_versions(lake, agency, dataset)
    trusted = max((v.version for v in pointer.versions), default=0) if pointer else 0
    untrusted = sorted((v for v in present if v > trusted), reverse=True)
    manifests = {v: lake.get_json(manifest_key(agency, dataset, v)) for v in untrusted}
    if pointer is None:
        recovered = [_entry_of(agency, dataset, m) for v, m in sorted(manifests.items()) if m]
        if recovered:
            newest = recovered[-1]
            base = Pointer(dataset, agency, newest.version, sorted(recovered, key=lambda e: -e.version))
            top = manifests[newest.version] or {}
            if top.get("content_hash") == built.content_hash and top.get("build_hash") == wanted_build:
                return newest.version, top, base
            garbage = [v for v in untrusted if not manifests[v]]
            for version in garbage:
                writer.delete_prefix(version_prefix(agency, dataset, version))
            return max(present) + 1, None, base
    for version in untrusted:
        manifest = manifests[version]
        if (
            version == trusted + 1
            and manifest
            and manifest.get("content_hash") == built.content_hash
            and manifest.get("build_hash") == wanted_build
        ):
            return version, manifest, pointer
    for version in untrusted:  # half-written by a killed run: never listed, never read
        writer.delete_prefix(version_prefix(agency, dataset, version))
    return trusted + 1, None, pointer


def _entry_of(agency: str, dataset: str, manifest: dict[str, Any]) -> VersionEntry:
    version = int(manifest["version"])
    return VersionEntry(
        version=version,
        manifest=manifest_key(agency, dataset, version),
        created_at=manifest["created_at"],
        rows=manifest["rows"],
        content_hash=manifest["content_hash"],
        source_pull_id=manifest.get("source", {}).get("pull_id"),
    )


def _write_version(
    lake: Lake,
    writer: _Writer,
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
    staged = _parallel(lambda job: job(), jobs)
    report_files: list[tuple[str, int]] = staged[len(built.files) :]  # (relative name, size)
    lap("stage")
    if hooks.after_stage:
        hooks.after_stage(staging)
    # 3. verify
    _verify_staged(lake, staging, built.files, report_files, workdir / "verify")
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

    _parallel(promote, expected)
    lap("promote")
    if hooks.after_copy:
        hooks.after_copy(final)
    manifest = _manifest(agency, dataset, version, built, source, report, report_files, options, build,
                         run_id, created_at, final)  # fmt: skip
    writer.put_json(final + MANIFEST, manifest)
    if hooks.after_manifest:
        hooks.after_manifest(final)
    return manifest


def _verify_staged(
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

    _parallel(check, files)
    _parallel(check_report, report_files)


def _manifest(
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
    }


def _tidy(
    lake: Lake,
    writer: _Writer,
    agency: str,
    dataset: str,
    run_id: str,
    pointer: Pointer,
    stale_after: timedelta,
) -> None:
    """After the commit: our staging, versions no longer listed, stale staging of killed runs."""
    writer.delete_prefix(staging_prefix(agency, dataset, run_id), manifest_first=False)
    kept = {v.version for v in pointer.versions}
    for version in listed_versions(lake, agency, dataset):
        if version not in kept:
            writer.delete_prefix(version_prefix(agency, dataset, version))
    _sweep_staging(lake, writer, agency, dataset, run_id, stale_after)


def _sweep_staging(
    lake: Lake, writer: _Writer, agency: str, dataset: str, run_id: str, stale_after: timedelta
) -> None:
    """Delete the staging of other runs of this dataset that are abandoned (see run_abandoned)."""
    root = staging_root(agency, dataset)
    now = datetime.now(UTC)
    runs = {key[len(root) :].split("/", 1)[0] for key in lake.keys(root)}
    for other in sorted(runs - {run_id}):
        if other and run_abandoned(other, now, stale_after):
            writer.delete_prefix(f"{root}{other}/", manifest_first=False)
