"""Atomic publication of one dataset version into the published zone (steps 2-3, staging and
verification, are `lake.staging`; the inputs, options and errors `lake.version`).

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

import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import urllib3

from citydata.processes import gone, is_this_process, process_tag
from citydata.storage.lake import Lake
from citydata.storage.layout import new_pull_id
from citydata.storage.published import (
    Pointer,
    VersionEntry,
    current_key,
    listed_versions,
    manifest_key,
    next_pointer,
    read_pointer,
    staging_prefix,
    staging_root,
    version_prefix,
)
from lake.exports import BuiltVersion, build_version
from lake.staging import Writer, write_version
from lake.version import (
    LakePublication,
    LakeUnavailable,
    PublishHooks,
    ReportSource,
    SourceData,
    VersionOptions,
    build_hash,
)

_LIVE_RUNS: set[str] = set()  # run ids publishing in this process right now


_LIVE_LOCK = threading.Lock()


def new_run_id() -> str:
    return f"{new_pull_id()}-{process_tag()}"


def _run_time(run_id: str) -> datetime | None:
    try:
        return datetime.strptime(run_id[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def run_abandoned(run_id: str, now: datetime, stale_after: timedelta) -> bool:
    """True when no process is writing the staging of `run_id` any more."""
    when = _run_time(run_id)
    if when is None or now - when >= stale_after:
        return True
    if is_this_process(run_id):
        with _LIVE_LOCK:
            return run_id not in _LIVE_RUNS  # a run of this process that failed
    return bool(gone(run_id))  # None (another host): wait until it is stale


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
        sweeper = Writer(lake)
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
            xlsx_file=options.xlsx,
            xlsx_max_rows=options.xlsx_max_rows,
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
        writer = Writer(lake)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        version, adopted, base = _choose_version(lake, writer, agency, dataset, pointer, built, wanted_build)
        if adopted is not None:
            manifest = adopted
        else:
            manifest = write_version(
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
    writer: Writer,
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


def _tidy(
    lake: Lake,
    writer: Writer,
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
    lake: Lake, writer: Writer, agency: str, dataset: str, run_id: str, stale_after: timedelta
) -> None:
    """Delete the staging of other runs of this dataset that are abandoned (see run_abandoned)."""
    root = staging_root(agency, dataset)
    now = datetime.now(UTC)
    runs = {key[len(root) :].split("/", 1)[0] for key in lake.keys(root)}
    for other in sorted(runs - {run_id}):
        if other and run_abandoned(other, now, stale_after):
            writer.delete_prefix(f"{root}{other}/", manifest_first=False)
