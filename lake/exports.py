"""Build one published version's files locally, in one streaming pass over the clean Parquet:
zstd Parquet parts (at most `part_rows` rows each), a UTF-8 CSV for spreadsheet users (formula
injection neutralised, optional BOM for Excel), the data dictionary as CSV, and the table's
content fingerprint. Memory stays at about one batch. The Excel workbook (`lake.xlsx_export`),
when the version fits in a sheet, is written beside that pass by a second thread.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from citydata.storage.lake import PART_SIZE
from cleaning.columns import logical_type
from cleaning.text import escape_formulas
from lake.hashing import TableFingerprint, file_digests, schema_signature
from lake.xlsx_export import XLSX_TYPE, XlsxSkipped, write_xlsx

BOM = b"\xef\xbb\xbf"
PARQUET_TYPE = "application/vnd.apache.parquet"
CSV_TYPE = "text/csv; charset=utf-8"
DICTIONARY_COLUMNS = ("column", "label", "type", "arrow_type", "nullable", "description")


@dataclass
class BuiltFile:
    name: str  # relative to the version prefix
    path: Path
    kind: str  # parquet | csv | xlsx | dictionary
    content_type: str
    size: int = 0
    sha256: str = ""
    rows: int | None = None
    etag: str = ""  # what S3 reports after an upload in PART_SIZE parts (not in the manifest)

    def record(self, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {"key": key, "name": self.name, "kind": self.kind, "size": self.size,
                               "sha256": self.sha256, "content_type": self.content_type}  # fmt: skip
        if self.rows is not None:
            out["rows"] = self.rows
        return out


@dataclass
class BuiltVersion:
    rows: int
    content_hash: str
    schema: list[list[str]]
    dictionary: list[dict[str, Any]] = field(default_factory=list)
    parts: list[BuiltFile] = field(default_factory=list)
    extras: list[BuiltFile] = field(default_factory=list)  # csv, xlsx, dictionary
    skipped: dict[str, XlsxSkipped] = field(default_factory=dict)  # a file not built, and why

    @property
    def files(self) -> list[BuiltFile]:
        return [*self.parts, *self.extras]


def part_name(dataset: str, index: int, total: int) -> str:
    return f"{dataset}.parquet" if total == 1 else f"{dataset}-part-{index:05d}.parquet"


def is_text(data_type: pa.DataType) -> bool:
    return pa.types.is_string(data_type) or pa.types.is_large_string(data_type)


def csv_safe(batch: pa.RecordBatch) -> pa.RecordBatch:
    """String cells that a spreadsheet would run as formulas get a leading apostrophe."""
    if not any(is_text(f.type) for f in batch.schema):
        return batch
    arrays = [escape_formulas(col) if is_text(col.type) else col for col in batch.columns]
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def null_counts(metadata: pq.FileMetaData) -> dict[str, int | None]:
    """Nulls per top-level column from the Parquet statistics (None: a row group has none)."""
    counts: dict[str, int] = {}
    unknown: set[str] = set()
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            name = column.path_in_schema.split(".", 1)[0]
            stats = column.statistics
            if stats is None or not stats.has_null_count:
                unknown.add(name)
            else:
                counts[name] = counts.get(name, 0) + stats.null_count
    known = {name: count for name, count in counts.items() if name not in unknown}
    return known | dict.fromkeys(unknown)


def dictionary_rows(
    schema: pa.Schema, columns: Sequence[dict[str, Any]], nulls: dict[str, int | None] | None = None
) -> list[dict[str, Any]]:
    """One row per column of the data: name, Vietnamese label, type, Arrow type, whether it may be
    empty, description, and `empty`: the count of empty values (None when the statistics have none;
    kept in the manifest for the quality score, not in the dictionary CSV). `nullable` is what the
    spec says (`columns[i]["nullable"]`: false for a key, a `nullable: false` column or a not-null
    expectation; true when nothing says), and true whenever the data holds an empty value (`nulls`,
    counted from the Parquet statistics; unknown counts leave the spec's word). Arrow's own flag says
    nothing: every column written is nullable."""
    described = {c.get("name"): c for c in columns}
    nulls = nulls or {}
    rows = []
    for f in schema:
        info = described.get(f.name, {})
        empty = nulls.get(f.name)
        rows.append(
            {
                "column": f.name,
                "label": info.get("label") or f.name,
                "type": info.get("type") or logical_type(f.type),
                "arrow_type": str(f.type),
                "nullable": bool(info.get("nullable", True)) or bool(empty),
                "description": info.get("description") or "",
                "empty": empty,
            }
        )
    return rows


def dictionary_csv(rows: Sequence[dict[str, Any]], bom: bool) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(DICTIONARY_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _formula_safe(str(row[k])) for k in DICTIONARY_COLUMNS})
    return (BOM if bom else b"") + buf.getvalue().encode()


def _formula_safe(text: str) -> str:
    escaped = escape_formulas(pa.array([text]))
    return str(escaped[0].as_py())


class _Parts:
    """Rolls Parquet part files every `part_rows` rows."""

    def __init__(self, workdir: Path, schema: pa.Schema, part_rows: int) -> None:
        self.workdir, self.schema, self.part_rows = workdir, schema, part_rows
        self.files: list[tuple[Path, int]] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        offset = 0
        while offset < batch.num_rows:
            if self._writer is None or self._rows >= self.part_rows:
                self._roll()
            assert self._writer is not None
            take = min(self.part_rows - self._rows, batch.num_rows - offset)
            self._writer.write_batch(batch.slice(offset, take))
            self._rows += take
            self.files[-1] = (self.files[-1][0], self._rows)
            offset += take

    def _roll(self) -> None:
        self.close()
        path = self.workdir / f"part-{len(self.files):05d}.parquet"
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self._rows = 0
        self.files.append((path, 0))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def finish(self) -> list[tuple[Path, int]]:
        if not self.files:  # an empty table still gets one (empty) part with its schema
            self._roll()
        self.close()
        return self.files


def build_version(
    source: Path,
    workdir: Path,
    dataset: str,
    *,
    part_rows: int,
    csv_file: bool = True,
    csv_bom: bool = False,
    xlsx_file: bool = True,
    xlsx_max_rows: int = 200_000,
    columns: Sequence[dict[str, Any]] = (),
    batch_rows: int = 65_536,
) -> BuiltVersion:
    """Parquet parts, CSV, XLSX and dictionary for `source`, written under `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    reader = pq.ParquetFile(source)
    schema = reader.schema_arrow.remove_metadata()
    described = dictionary_rows(schema, columns, null_counts(reader.metadata))
    xlsx_path = workdir / f"{dataset}.xlsx"
    xlsx_thread = ThreadPoolExecutor(max_workers=1) if xlsx_file else None
    xlsx: Future[XlsxSkipped | None] | None = None
    if xlsx_thread is not None:  # pure Python (openpyxl): beside the pass below, which is mostly C
        xlsx = xlsx_thread.submit(write_xlsx, source, xlsx_path, described, max_rows=xlsx_max_rows)
    fingerprint = TableFingerprint(schema)
    parts = _Parts(workdir, schema, part_rows)
    csv_path = workdir / f"{dataset}.csv"
    csv_sink: pa.NativeFile | None = None
    csv_writer: pacsv.CSVWriter | None = None
    if csv_file:
        csv_sink = pa.OSFile(str(csv_path), "wb")
        if csv_bom:
            csv_sink.write(BOM)
        csv_writer = pacsv.CSVWriter(csv_sink, schema)
    # The CSV is written by a second thread (pyarrow and hashlib release the GIL), one batch behind.
    csv_thread = ThreadPoolExecutor(max_workers=1) if csv_writer is not None else None
    pending: Future[None] | None = None

    def write_csv(batch: pa.RecordBatch) -> None:
        assert csv_writer is not None
        csv_writer.write_batch(csv_safe(batch))

    try:
        for batch in reader.iter_batches(batch_size=batch_rows):
            batch = pa.RecordBatch.from_arrays(batch.columns, schema=schema)
            if csv_thread is not None:
                if pending is not None:
                    pending.result()
                pending = csv_thread.submit(write_csv, batch)
            fingerprint.update(batch)
            parts.write(batch)
        if pending is not None:
            pending.result()
        if csv_writer is not None and fingerprint.rows == 0:
            csv_writer.write_table(schema.empty_table())  # the header line
    finally:
        if csv_thread is not None:
            csv_thread.shutdown(wait=True)
        if xlsx_thread is not None:
            xlsx_thread.shutdown(wait=True)
        if csv_writer is not None:
            csv_writer.close()
        if csv_sink is not None:
            csv_sink.close()
        part_files = parts.finish()
    built = BuiltVersion(fingerprint.rows, fingerprint.hexdigest(), schema_signature(schema), described)
    for i, (path, rows) in enumerate(part_files):
        final = path.with_name(part_name(dataset, i, len(part_files)))
        path.rename(final)
        built.parts.append(BuiltFile(final.name, final, "parquet", PARQUET_TYPE, rows=rows))
    if csv_file:
        built.extras.append(BuiltFile(csv_path.name, csv_path, "csv", CSV_TYPE, rows=fingerprint.rows))
    if xlsx is not None:
        if (skipped := xlsx.result()) is None:
            xlsx_built = BuiltFile(xlsx_path.name, xlsx_path, "xlsx", XLSX_TYPE, rows=fingerprint.rows)
            built.extras.append(xlsx_built)
        else:
            built.skipped["xlsx"] = skipped
    dictionary = workdir / f"{dataset}-dictionary.csv"
    dictionary.write_bytes(dictionary_csv(described, csv_bom))
    built.extras.append(BuiltFile(dictionary.name, dictionary, "dictionary", CSV_TYPE, rows=len(schema)))
    with ThreadPoolExecutor(max_workers=min(4, len(built.files))) as pool:  # hashlib releases the GIL
        digests = list(pool.map(lambda f: file_digests(f.path, PART_SIZE), built.files))
    for f, (sha256, etag) in zip(built.files, digests, strict=True):
        f.size, f.sha256, f.etag = f.path.stat().st_size, sha256, etag
    return built
