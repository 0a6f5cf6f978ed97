"""Clean a raw pull into typed Parquet, with every failing row quarantined and named.

    clean/<agency>/<dataset>/<pull_id>/data.parquet       the clean rows (zstd)
    clean/<agency>/<dataset>/<pull_id>/lines.parquet      where each clean row comes from: file,
                                                          sheet, line (row i of data.parquet)
    quarantine/<agency>/<dataset>/<pull_id>/rejected.parquet  file, line, reasons, the row as read
    quarantine/<agency>/<dataset>/<pull_id>/warnings.parquet  findings that did not reject a row
    clean/<agency>/<dataset>/<pull_id>/_clean.json        the report; written last, so its presence
                                                          means the pull was cleaned completely

A file that cannot be read at all is reported by name and skipped; its bytes stay in the raw
zone. The other files of the pull, and other datasets, carry on. The reading and cleaning of the
files is `ingest.clean_files`; this module brings them from the lake and stores what it writes.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from connectors.base import RawObject
from ingest.clean_files import CleanError, CleanOutputs, CleanResult, FileReport, clean_files
from ingest.pull import PULL_MANIFEST, pull_manifest

CLEAN_MANIFEST = "_clean.json"
__all__ = ["CLEAN_MANIFEST", "CleanError", "CleanResult", "FileReport", "clean_pull", "latest_clean"]


def _downloaded(lake: Lake, objects: list[dict[str, Any]], workdir: Path) -> Iterator[RawObject]:
    """The pull's objects, each downloaded when its turn comes and deleted after."""
    for i, obj in enumerate(objects):
        local = lake.download(obj["key"], workdir / f"raw-{i}")
        try:
            yield RawObject(obj["name"], obj["source_uri"], obj.get("media_type"), obj.get("headers") or {},
                            path=local, sha256=obj["sha256"], size=obj["size"])  # fmt: skip
        finally:
            local.unlink(missing_ok=True)


def latest_clean(lake: Lake, spec: DatasetSpec, before: str | None = None) -> dict[str, Any] | None:
    prefix = zone_prefix("clean", spec.agency.id, spec.id)
    for pull_id in reversed(lake.children(prefix)):
        if before is not None and pull_id >= before:
            continue
        manifest = lake.get_json(f"{prefix}{pull_id}/{CLEAN_MANIFEST}")
        if manifest is not None:
            return manifest
    return None


def _change_summary(previous: dict[str, Any] | None, result: CleanResult) -> dict[str, Any]:
    if previous is None:
        return {"first_version": True, "rows": result.rows}
    before = {c["name"]: c["type"] for c in previous.get("columns", [])}
    after = {c["name"]: c["type"] for c in result.columns}
    return {
        "previous_pull": previous.get("pull_id"),
        "rows_before": previous.get("rows", 0),
        "rows_after": result.rows,
        "rows_delta": result.rows - previous.get("rows", 0),
        "columns_added": sorted(set(after) - set(before)),
        "columns_removed": sorted(set(before) - set(after)),
        "types_changed": {
            k: [before[k], after[k]] for k in sorted(set(before) & set(after)) if before[k] != after[k]
        },
    }


def clean_pull(
    spec: DatasetSpec, settings: Settings, lake: Lake, pull_id: str, force: bool = False
) -> CleanResult:
    started = time.monotonic()
    clean_prefix = zone_prefix("clean", spec.agency.id, spec.id, pull_id)
    if not force and (existing := lake.get_json(clean_prefix + CLEAN_MANIFEST)) is not None:
        result = CleanResult.from_dict(existing)
        result.skipped = True
        return result
    manifest = pull_manifest(lake, spec, pull_id)
    if manifest is None:
        raise CleanError(f"{spec.id}: raw pull {pull_id} has no {PULL_MANIFEST} (incomplete pull)")
    scratch = settings.stack_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"clean-{spec.id}-", dir=scratch))
    result = CleanResult(spec.id, pull_id)
    outputs = CleanOutputs(workdir)
    objects = [obj for obj in manifest["objects"] if obj.get("parse") is not False]
    try:
        read = clean_files(
            spec,
            _downloaded(lake, objects, workdir),
            outputs,
            result,
            keys={obj["name"]: obj["key"] for obj in objects},
        )
        read_total = read.rows_read
        outputs.close()
        failed = [f for f in result.files if f.error]
        if failed and len(failed) == len(result.files):
            raise CleanError(f"{spec.id}: no file could be read: " + "; ".join(str(f.error) for f in failed))
        result.change = _change_summary(latest_clean(lake, spec, before=pull_id), result)
        q_prefix = zone_prefix("quarantine", spec.agency.id, spec.id, pull_id)
        result.keys = {"data": clean_prefix + "data.parquet"}
        if outputs.data is not None:
            lake.put_file(result.keys["data"], outputs.data_path, "application/vnd.apache.parquet")
            result.keys["lines"] = clean_prefix + "lines.parquet"
            lake.put_file(result.keys["lines"], outputs.lines_path, "application/vnd.apache.parquet")
        if result.rejected:
            result.keys["rejected"] = q_prefix + "rejected.parquet"
            lake.put_file(result.keys["rejected"], outputs.rejected_path, "application/vnd.apache.parquet")
        if result.warnings:
            result.keys["warnings"] = q_prefix + "warnings.parquet"
            lake.put_file(result.keys["warnings"], outputs.warnings_path, "application/vnd.apache.parquet")
        ratio = result.rejected / read_total if read_total else 0.0
        result.seconds = round(time.monotonic() - started, 2)
        if ratio > spec.cleaning.max_rejected_ratio:
            raise CleanError(
                f"{spec.id}: {result.rejected} of {read_total} rows rejected ({ratio:.0%}), above the "
                f"spec's limit of {spec.cleaning.max_rejected_ratio:.0%}; see s3://{lake.bucket}/"
                f"{result.keys.get('rejected')}"
            )
        lake.put_json(clean_prefix + CLEAN_MANIFEST, result.as_dict())
        return result
    finally:
        outputs.close()
        shutil.rmtree(workdir, ignore_errors=True)
