"""Clean a raw pull into typed Parquet, with every failing row quarantined and named.

    clean/<agency>/<dataset>/<pull_id>/data.parquet       the clean rows (zstd)
    clean/<agency>/<dataset>/<pull_id>/lines.parquet      where each clean row comes from: file,
                                                          sheet, line (row i of data.parquet)
    quarantine/<agency>/<dataset>/<pull_id>/rejected.parquet  file, line, reasons, the row as read
    quarantine/<agency>/<dataset>/<pull_id>/warnings.parquet  findings that did not reject a row
    clean/<agency>/<dataset>/<pull_id>/_clean.json        the report; written last, so its presence
                                                          means the pull was cleaned completely

A file that cannot be read at all is reported by name and skipped; its bytes stay in the raw
zone. The other files of the pull, and other datasets, carry on.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from cleaning.buffers import bool_array
from cleaning.issues import Issue
from connectors.base import RawObject
from connectors.formats.base import FormatError, ReadBatch, ReadInfo
from connectors.formats.registry import reader_for
from ingest.column_types import LeadingZeroError
from ingest.pull import PULL_MANIFEST, pull_manifest
from ingest.transform import BatchCleaner, BatchOutput, SchemaMismatchError
from lake.layout import zone_prefix
from lake.store import Lake

CLEAN_MANIFEST = "_clean.json"
LINES_SCHEMA = pa.schema([("file", pa.string()), ("sheet", pa.string()), ("line", pa.int64())])
QUARANTINE_SCHEMA = pa.schema(
    [("file", pa.string()), ("line", pa.int64()), ("reasons", pa.string()), ("row", pa.string())]
)
WARNING_SCHEMA = pa.schema(
    [("file", pa.string()), ("line", pa.int64()), ("column", pa.string()), ("value", pa.string()),
     ("reason", pa.string())]
)  # fmt: skip


class CleanError(RuntimeError):
    """The dataset could not be cleaned; the message names the files and reasons."""


MAX_SKIPPED_SHOWN = 50  # skipped rows (titles, footers) listed per file in the report


@dataclass
class FileReport:
    name: str
    key: str | None = None  # the raw object in the lake
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    rows_read: int = 0
    rows_clean: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0  # titles, column-number rows, footers: not data, not rejected
    layout: dict[str, Any] = field(default_factory=dict)  # what the reader detected, per sheet
    skipped: list[dict[str, Any]] = field(default_factory=list)  # the first MAX_SKIPPED_SHOWN
    error: str | None = None


@dataclass
class CleanResult:
    dataset: str
    pull_id: str
    skipped: bool = False  # already cleaned: nothing done
    rows: int = 0
    rejected: int = 0
    warnings: int = 0
    files: list[FileReport] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)  # the data dictionary
    pii: dict[str, dict[str, int]] = field(default_factory=dict)
    change: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CleanResult:
        files = [FileReport(**f) for f in data.pop("files", [])]
        return cls(files=files, **data)


class _Deduplicator:
    """Keeps the first row of each primary key across all batches (8 bytes of memory per key).

    Seen key hashes are kept as sorted runs of doubling sizes (merged like a binary counter), so
    checking and adding a batch costs O(batch log n): not a re-sort of every key seen so far.
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.runs: list[np.ndarray] = []  # sorted, unique, sizes decreasing

    def _seen(self, hashes: np.ndarray) -> np.ndarray:
        found = np.zeros(hashes.size, dtype=bool)
        for run in self.runs:
            at = np.searchsorted(run, hashes)
            found |= run[np.minimum(at, run.size - 1)] == hashes
        return found

    def _add(self, hashes: np.ndarray) -> None:
        run = np.unique(hashes)
        while self.runs and self.runs[-1].size <= run.size:
            run = np.union1d(self.runs.pop(), run)
        self.runs.append(run)

    def duplicates(self, table: pa.Table) -> np.ndarray:
        """Mask of the rows whose key was seen before (in this table or an earlier one)."""
        if not self.columns or table.num_rows == 0:
            return np.zeros(table.num_rows, dtype=bool)
        frame = table.select(self.columns).to_pandas()
        hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
        dup = pd.Series(hashes).duplicated().to_numpy() | self._seen(hashes)
        if (~dup).any():
            self._add(hashes[~dup])
        return np.asarray(dup, dtype=bool)


def _row_json(table: pa.Table) -> list[str]:
    return [json.dumps(r, ensure_ascii=False, default=str) for r in table.to_pylist()]


class _Outputs:
    """Parquet writers for the clean rows, the quarantine and the warnings (all streamed)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data_path = workdir / "data.parquet"
        self.lines_path = workdir / "lines.parquet"
        self.rejected_path = workdir / "rejected.parquet"
        self.warnings_path = workdir / "warnings.parquet"
        self.data: pq.ParquetWriter | None = None
        self.lines = pq.ParquetWriter(self.lines_path, LINES_SCHEMA, compression="zstd")
        self.rejected = pq.ParquetWriter(self.rejected_path, QUARANTINE_SCHEMA, compression="zstd")
        self.warnings = pq.ParquetWriter(self.warnings_path, WARNING_SCHEMA, compression="zstd")

    def write_data(self, table: pa.Table, file: str, sheet: str | None, lines: np.ndarray) -> None:
        if self.data is None:
            self.data = pq.ParquetWriter(self.data_path, table.schema, compression="zstd")
        self.data.write_table(table)
        n = table.num_rows
        where = [
            pa.array([file] * n, pa.string()),
            pa.array([sheet] * n, pa.string()),
            pa.array(lines, pa.int64()),
        ]
        self.lines.write_table(pa.table(where, schema=LINES_SCHEMA))

    def write_rejected(
        self, file: str, lines: Sequence[int], reasons: Sequence[str], rows: Sequence[str | None]
    ) -> None:
        if lines:
            self.rejected.write_table(
                pa.table([[file] * len(lines), lines, reasons, rows], schema=QUARANTINE_SCHEMA)
            )

    def write_warnings(self, file: str, issues: list[Issue]) -> None:
        if issues:
            cols = [
                [file] * len(issues),
                [i.row for i in issues],
                [i.column for i in issues],
                [i.value for i in issues],
                [i.reason for i in issues],
            ]
            self.warnings.write_table(pa.table(cols, schema=WARNING_SCHEMA))

    def close(self) -> None:
        for writer in (self.data, self.lines, self.rejected, self.warnings):
            if writer is not None:
                writer.close()


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
    outputs = _Outputs(workdir)
    dedupe = _Deduplicator(spec.schema_.primary_key)
    cleaner: BatchCleaner | None = None
    read_total = 0
    try:
        for obj in manifest["objects"]:
            if obj.get("parse") is False:  # e.g. API pages kept beside their records.jsonl
                continue
            report = FileReport(obj["name"], obj["key"])
            result.files.append(report)
            local = lake.download(obj["key"], workdir / f"raw-{len(result.files)}")
            raw = RawObject(obj["name"], obj["source_uri"], obj.get("media_type"), obj.get("headers") or {},
                            path=local, sha256=obj["sha256"], size=obj["size"])  # fmt: skip
            try:
                reader = reader_for(obj["name"], spec.format.name, obj.get("media_type"))
                report.format = reader.name
                info = ReadInfo()
                batches = reader.read(raw, spec.format, info)
                first = next(batches, None)  # the header labels are known from here on
                cleaned: Iterator[tuple[ReadBatch, BatchOutput]] = iter(())
                if first is not None:
                    file_cleaner = BatchCleaner(spec, info.header_labels or first.table.column_names)
                    if cleaner is not None:
                        file_cleaner.schema = cleaner.schema  # later files must fit the first
                        for plan, prior in zip(file_cleaner.columns, cleaner.columns, strict=False):
                            plan.type, plan.inferred = prior.type, prior.inferred
                    cleaner = cleaner or file_cleaner
                    cleaned = file_cleaner.clean_all(itertools.chain([first], batches))
                for batch, out in cleaned:
                    report.encoding, report.delimiter = info.encoding, info.delimiter
                    report.rows_read += batch.table.num_rows + len(batch.rejected)
                    outputs.write_rejected(
                        obj["name"],
                        [r.line for r in batch.rejected],
                        [r.reason for r in batch.rejected],
                        [r.raw for r in batch.rejected],
                    )
                    report.rows_rejected += len(batch.rejected)
                    dup = dedupe.duplicates(out.good)
                    good = out.good.filter(bool_array(~dup)) if dup.any() else out.good
                    duplicates = out.good.filter(bool_array(dup))
                    outputs.write_data(good, obj["name"], batch.sheet, out.good_lines[~dup])
                    report.rows_clean += good.num_rows
                    rejected_rows = out.rejected
                    outputs.write_rejected(
                        obj["name"],
                        rejected_rows.column("_line").to_pylist(),
                        rejected_rows.column("_reasons").to_pylist(),
                        _row_json(rejected_rows.drop_columns(["_line", "_reasons"])),
                    )
                    if duplicates.num_rows:
                        keys = ", ".join(spec.schema_.primary_key)
                        outputs.write_rejected(
                            obj["name"],
                            out.good_lines[dup].tolist(),
                            [f"duplicate primary key ({keys}); the first row was kept"] * duplicates.num_rows,
                            _row_json(duplicates),
                        )
                    report.rows_rejected += rejected_rows.num_rows + duplicates.num_rows
                    outputs.write_warnings(obj["name"], out.warnings)
                    result.warnings += len(out.warnings)
                    for column, kinds in out.pii.items():
                        for kind, count in kinds.items():
                            result.pii.setdefault(column, {}).setdefault(kind, 0)
                            result.pii[column][kind] += count
                report.layout = info.layout
                report.rows_skipped = len(info.skipped)
                report.skipped = [asdict(row) for row in info.skipped[:MAX_SKIPPED_SHOWN]]
            except (
                FormatError,
                SchemaMismatchError,
                LeadingZeroError,
                pa.ArrowInvalid,
                UnicodeDecodeError,
            ) as exc:
                report.error = str(exc) if str(exc).startswith(obj["name"]) else f"{obj['name']}: {exc}"
            read_total += report.rows_read
            result.rows += report.rows_clean
            result.rejected += report.rows_rejected
            local.unlink(missing_ok=True)
        outputs.close()
        failed = [f for f in result.files if f.error]
        if failed and len(failed) == len(result.files):
            raise CleanError(f"{spec.id}: no file could be read: " + "; ".join(str(f.error) for f in failed))
        result.columns = cleaner.dictionary() if cleaner else []
        if cleaner is not None and cleaner.schema is not None:
            types = {f.name: str(f.type) for f in cleaner.schema}
            for entry in result.columns:
                entry["arrow_type"] = types.get(entry["name"])
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
