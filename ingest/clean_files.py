"""Read and clean files into local Parquet, with every failing row quarantined and named.

`clean_files` needs no lake: the clean stage (`ingest.clean.clean_pull`) gives it the raw zone's
objects and uploads what it writes; `citydata preview` gives it a source's files straight from
the connector and shows the result without publishing anything.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citydata.kernels.buffers import bool_array
from citydata.spec.columns import problem_lines, spec_column_problems
from citydata.spec.model import DatasetSpec
from cleaning.issues import Issue
from connectors.base import RawObject
from connectors.formats.base import FormatError, ReadBatch, ReadInfo
from connectors.formats.registry import reader_for
from ingest.column_types import LeadingZeroError
from ingest.transform import BatchCleaner, BatchOutput, SchemaMismatchError

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


class CleanOutputs:
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


# A file failing with one of these is reported and skipped; the other files carry on.
READ_ERRORS = (FormatError, SchemaMismatchError, LeadingZeroError, pa.ArrowInvalid, UnicodeDecodeError)


@dataclass
class CleanedFiles:
    """What `clean_files` read: rows read in all, and whether `max_rows` stopped it early."""

    rows_read: int = 0
    truncated: bool = False


def _check_key_columns(spec: DatasetSpec, columns: list[str]) -> None:
    """The primary key's columns exist in the cleaned data (the spec loader's rule and words).

    Only the schema's references stop cleaning; a quality check's column is the quality gate's
    to report (expect_column_to_exist), a labeling column the labeling stage's.
    """
    problems = [
        (loc, message) for loc, message in spec_column_problems(spec, available=columns) if loc[0] == "schema"
    ]
    if problems:
        raise CleanError(f"{spec.id}: " + "; ".join(problem_lines(problems)))


def clean_files(
    spec: DatasetSpec,
    raws: Iterable[RawObject],
    outputs: CleanOutputs,
    result: CleanResult,
    keys: Mapping[str, str] | None = None,
    max_rows: int | None = None,
) -> CleanedFiles:
    """Clean each parseable file into `outputs`, adding its report to `result`.

    A file that cannot be read is reported by name (`FileReport.error`) and the others carry on.
    `keys` names each file's raw object in the lake; `max_rows` stops after that many rows read.
    """
    dedupe = _Deduplicator(spec.schema_.primary_key)
    cleaner: BatchCleaner | None = None
    done = CleanedFiles()
    checked = False
    for raw in raws:
        if not raw.parse:  # e.g. API pages kept beside their records.jsonl
            continue
        if done.truncated:
            break
        report = FileReport(raw.name, (keys or {}).get(raw.name))
        result.files.append(report)
        try:
            reader = reader_for(raw.name, spec.format.name, raw.media_type)
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
                if not checked:
                    _check_key_columns(spec, out.good.column_names)
                    checked = True
                report.encoding, report.delimiter = info.encoding, info.delimiter
                report.rows_read += batch.table.num_rows + len(batch.rejected)
                _write_batch(spec, raw.name, batch, out, outputs, dedupe, report, result)
                if max_rows is not None and done.rows_read + report.rows_read >= max_rows:
                    done.truncated = True
                    break
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
            report.error = str(exc) if str(exc).startswith(raw.name) else f"{raw.name}: {exc}"
        done.rows_read += report.rows_read
        result.rows += report.rows_clean
        result.rejected += report.rows_rejected
    result.columns = cleaner.dictionary() if cleaner else []
    if cleaner is not None and cleaner.schema is not None:
        types = {f.name: str(f.type) for f in cleaner.schema}
        for entry in result.columns:
            entry["arrow_type"] = types.get(entry["name"])
    return done


def _write_batch(
    spec: DatasetSpec,
    name: str,
    batch: ReadBatch,
    out: BatchOutput,
    outputs: CleanOutputs,
    dedupe: _Deduplicator,
    report: FileReport,
    result: CleanResult,
) -> None:
    """One cleaned batch: good rows (first of each key), rejected rows with reasons, warnings."""
    rejected = batch.rejected
    outputs.write_rejected(
        name, [r.line for r in rejected], [r.reason for r in rejected], [r.raw for r in rejected]
    )
    dup = dedupe.duplicates(out.good)
    good = out.good.filter(bool_array(~dup)) if dup.any() else out.good
    duplicates = out.good.filter(bool_array(dup))
    outputs.write_data(good, name, batch.sheet, out.good_lines[~dup])
    report.rows_clean += good.num_rows
    rows = out.rejected
    outputs.write_rejected(
        name,
        rows.column("_line").to_pylist(),
        rows.column("_reasons").to_pylist(),
        _row_json(rows.drop_columns(["_line", "_reasons"])),
    )
    if duplicates.num_rows:
        key = ", ".join(spec.schema_.primary_key)
        outputs.write_rejected(
            name,
            out.good_lines[dup].tolist(),
            [f"duplicate primary key ({key}); the first row was kept"] * duplicates.num_rows,
            _row_json(duplicates),
        )
    report.rows_rejected += len(rejected) + rows.num_rows + duplicates.num_rows
    outputs.write_warnings(name, out.warnings)
    result.warnings += len(out.warnings)
    for column, kinds in out.pii.items():
        for kind, count in kinds.items():
            result.pii.setdefault(column, {}).setdefault(kind, 0)
            result.pii[column][kind] += count
