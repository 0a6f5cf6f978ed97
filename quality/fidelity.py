"""The fidelity check: every published cell equals the source's, read by an independent reader.

For a sample of the clean rows (all of them below ``ALL_ROWS``), the raw file each row comes from
(``lines.parquet`` of the clean stage: file, sheet, line) is read again with an independent reader
(``quality.source_cells``), the cell is put through the declared transformations written plainly
(``quality.reference_values``), and the result must equal the published value. A mismatch blocks
publication and is reported with file, row, column, source value and published value. Cells the
plain reference cannot read (a text number in a form it does not know, a legacy encoding without a
Python codec) are counted as not verified, never as passed; a run that verified nothing fails its
(warn) outcome instead of passing.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from cleaning.text import DEFAULT_NULL_TOKENS
from connectors.formats.base import COLUMN_KINDS_HEADER
from quality.reference_values import (
    UNREADABLE,
    expected_boolean,
    expected_date,
    expected_number,
    expected_text,
    same_value,
)
from quality.result import ExpectationOutcome
from quality.source_cells import Row, SourceUnreadable, TableRow, json_value, read_source_rows

if TYPE_CHECKING:
    from quality.non_gx import CheckInput

__all__ = [
    "ALL_ROWS",
    "FIDELITY",
    "FidelityReport",
    "check_fidelity",
    "fidelity_outcome",
    "fidelity_outcomes",
]

FIDELITY = "citydata_fidelity"  # the outcome's type
# Every row up to ALL_ROWS; above, an even sample of SAMPLE_ROWS (a systematic error, such as a
# misread locale, touches many rows; 20,000 rows find an error in 1 row of 2,000 with 99.995%).
ALL_ROWS = 20_000
SAMPLE_ROWS = 20_000
SHOWN = 20  # mismatches listed in the report
PULL_MANIFEST = "_pull.json"  # ingest.pull's manifest of the raw objects
_READERS = {"csv": "csv module", "xlsx": "openpyxl", "xls": "xlrd", "json": "json module",
            "jsonl": "json module", "geojson": "json module", "parquet": "pyarrow.parquet"}  # fmt: skip
_TABULAR = ("csv", "xlsx", "xls")


@dataclass
class FidelityReport:
    status: str = "not_checked"  # passed | failed | not_checked
    rows_checked: int = 0
    cells_checked: int = 0
    cells_not_verified: int = 0
    mismatches: int = 0
    readers: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(
        default_factory=list
    )  # file, sheet, line, column, source, published
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        return fidelity_summary(self.as_dict())


def fidelity_summary(report: dict[str, Any]) -> str:
    """One line for a report (``FidelityReport.as_dict()``, as the quality summary keeps it)."""
    if report.get("status", "not_checked") == "not_checked":
        return "not checked: " + ("; ".join(report.get("notes") or []) or "nothing to compare")
    return (
        f"{report['rows_checked']:,} rows, {report['cells_checked']:,} cells compared with the source "
        f"({', '.join(report.get('readers') or [])}): {report['mismatches']:,} mismatches, "
        f"{report['cells_not_verified']:,} not verified"
    )


def _sample(rows: int) -> np.ndarray:
    if rows <= ALL_ROWS:
        return np.arange(rows, dtype=np.int64)
    return np.unique(np.linspace(0, rows - 1, SAMPLE_ROWS).astype(np.int64))


def _shown(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass
class RawFile:
    """One raw file of the pull, on local disk, with what its independent reader needs."""

    name: str
    fmt: str  # the format the clean stage read it as: csv, xlsx, json...
    path: Path | None  # None: not found in the pull
    options: dict[str, Any] = field(default_factory=dict)  # encoding, delimiter, records_path...
    declared: dict[str, str] = field(default_factory=dict)  # column kinds the source declared
    layout: dict[str, Any] = field(default_factory=dict)  # per sheet: first_column...


def check_fidelity(
    lake: Lake, table: pa.Table, clean_manifest: dict[str, Any], pull_manifest: dict[str, Any] | None,
    options: dict[str, Any], workdir: Path,
) -> FidelityReport:  # fmt: skip
    """Compare ``table`` (the clean rows) with the raw files of its pull; see the module docstring.

    ``options``: the spec's reading options (records_path, quotechar, day_first, null_tokens).
    """
    report = FidelityReport()
    lines_key = clean_manifest.get("keys", {}).get("lines")
    if table.num_rows == 0:
        report.notes.append("no rows")
        return report
    if not lines_key or not lake.exists(lines_key):
        report.notes.append("the clean stage recorded no source lines for this pull")
        return report
    where = pq.read_table(_download(lake, lines_key, workdir))
    needed = set(where.column("file").unique().to_pylist())
    reports = {f["name"]: f for f in clean_manifest.get("files", [])}
    objects = {o["name"]: o for o in (pull_manifest or {}).get("objects", [])}
    files: dict[str, RawFile] = {}
    try:
        for name in needed:
            file_report, raw = reports.get(name, {}), objects.get(name)
            files[name] = RawFile(
                name,
                file_report.get("format") or "",
                _download(lake, raw["key"], workdir) if raw else None,
                {
                    **options,
                    "encoding": file_report.get("encoding"),
                    "delimiter": file_report.get("delimiter"),
                },
                json.loads(((raw or {}).get("headers") or {}).get(COLUMN_KINDS_HEADER) or "{}"),
                file_report.get("layout") or {},
            )
        return compare_with_sources(table, where, clean_manifest.get("columns", []), files, options)
    finally:
        for raw_file in files.values():
            if raw_file.path is not None:
                raw_file.path.unlink(missing_ok=True)


def compare_with_sources(
    table: pa.Table, where: pa.Table, columns: list[dict[str, Any]], files: dict[str, RawFile],
    options: dict[str, Any],
) -> FidelityReport:  # fmt: skip
    """The comparison itself: ``where`` (file, sheet, line) says where row i of ``table`` comes from;
    ``columns`` is the clean stage's data dictionary."""
    report = FidelityReport()
    if where.num_rows != table.num_rows:
        report.notes.append(f"source lines ({where.num_rows}) do not match the rows ({table.num_rows})")
        return report
    positions = pa.array(_sample(table.num_rows))
    names = where.column("file").take(positions).to_pylist()
    sheets = where.column("sheet").take(positions).to_pylist()
    lines = where.column("line").take(positions).to_pylist()
    published = table.take(positions)
    # columns cleaning added (admin units: `derived`) have no source cell to compare with
    columns = [c for c in columns if c.get("name") in published.column_names and not c.get("derived")]
    values = {c["name"]: published.column(c["name"]).to_pylist() for c in columns}
    by_file: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        by_file[name].append(i)
    null_tokens = frozenset(t.casefold() for t in options.get("null_tokens", ()))
    for name, rows in by_file.items():
        raw = files.get(name)
        if raw is None or raw.path is None:
            report.notes.append(f"{name}: not in the pull's manifest")
            report.cells_not_verified += len(rows) * len(columns)
            continue
        try:
            source = read_source_rows(raw.fmt, raw.path, {(sheets[i], lines[i]) for i in rows}, raw.options)
        except SourceUnreadable as exc:
            report.notes.append(f"{name}: {exc}")
            report.cells_not_verified += len(rows) * len(columns)
            continue
        report.readers = sorted({*report.readers, _READERS.get(raw.fmt, raw.fmt)})
        found = []
        for i in rows:
            row = source.get((sheets[i], lines[i]))
            if row is None:
                report.mismatches += 1
                _example(report, name, sheets[i], lines[i], "(row)", "no such row in the source", "published")
            else:
                found.append((i, row))
        report.rows_checked += len(found)
        firsts = [int((raw.layout.get(sheets[i] or "") or {}).get("first_column", 1)) for i, _ in found]
        rows_found = [row for _, row in found]
        for column in columns:  # column by column: one expectation function, lists of values
            expect = _expectation(column, published.schema.field(column["name"]).type, options, null_tokens)
            source_values, formats = _source_column(rows_found, firsts, column, raw.fmt, raw.declared)
            got = values[column["name"]]
            expected_values = [expect(v, f) for v, f in zip(source_values, formats, strict=True)]
            for (i, _), expected, source_value in zip(found, expected_values, source_values, strict=True):
                if expected is UNREADABLE:
                    report.cells_not_verified += 1
                    continue
                report.cells_checked += 1
                value = got[i]
                if (expected == value and type(expected) is type(value)) or same_value(expected, value):
                    continue
                report.mismatches += 1
                _example(
                    report, name, sheets[i], lines[i], column["name"], _shown(source_value), _shown(value)
                )
    if report.cells_checked or report.mismatches:
        report.status = "failed" if report.mismatches else "passed"
    return report


def _download(lake: Lake, key: str, workdir: Path) -> Path:
    target = workdir / f"fidelity-{uuid.uuid4().hex}{Path(key).suffix}"  # openpyxl goes by the suffix
    return lake.download(key, target)


def _example(report: FidelityReport, file: str, sheet: str | None, line: int, column: str, source: Any,
             published: Any) -> None:  # fmt: skip
    if len(report.examples) < SHOWN:
        report.examples.append({"file": file, "sheet": sheet, "line": line, "column": column,
                                "source": source, "published": published})  # fmt: skip


def _source_column(
    rows: list[Row], firsts: list[int], column: dict[str, Any], fmt: str, declared: dict[str, str]
) -> tuple[list[Any], Iterable[str | None]]:
    """The source cells of one published column in ``rows``, and their number formats (XLSX).

    A cell that cannot be located (a PII column, masked as declared; a JSON list or object) is
    ``UNREADABLE``; an absent key of a JSON record is null, as the reader's union of keys makes it.
    """
    if column.get("pii") or column.get("source_index") is None:
        return [UNREADABLE] * len(rows), itertools.repeat(None, len(rows))
    if fmt in _TABULAR:
        index = int(column["source_index"]) - 1
        ats = [first + index for first in firsts]
        table_rows = [row for row in rows if isinstance(row, TableRow)]
        found = [
            row.values[at] if at < len(row.values) else None for row, at in zip(table_rows, ats, strict=True)
        ]
        if all(row.formats is None for row in table_rows):
            return found, itertools.repeat(None, len(rows))
        formats = [
            row.formats[at] if row.formats is not None and at < len(row.formats) else None
            for row, at in zip(table_rows, ats, strict=True)
        ]
        return found, formats
    label = str(column.get("source_label") or column["name"])
    kind = declared.get(label)
    return [_keyed(row, label, fmt, kind) for row in rows], itertools.repeat(None, len(rows))


def _keyed(row: Row, label: str, fmt: str, kind: str | None) -> Any:
    """A JSON record's (or a Parquet row's) value under a column label."""
    assert isinstance(row, dict)
    try:
        value = row[label] if fmt == "parquet" else json_value(row, label, fmt)
    except KeyError:
        return UNREADABLE
    if isinstance(value, dict | list):
        return UNREADABLE  # kept as compact JSON text by the reader: not compared
    if isinstance(value, bool) and fmt != "parquet":
        return "true" if value else "false"  # JSON's own spelling, as the reader keeps it
    if isinstance(value, str) and kind == "number":
        return Decimal(value)
    if isinstance(value, str) and kind in ("date", "datetime"):
        return datetime.fromisoformat(value)
    return value


def _expectation(
    column: dict[str, Any], kind: pa.DataType, options: dict[str, Any], null_tokens: frozenset[str]
) -> Callable[[Any, str | None], Any]:
    """The declared transformation of one published column, as a function of (source value, format)."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return lambda value, number_format: (
            UNREADABLE if value is UNREADABLE else expected_text(value, null_tokens, number_format)
        )
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        locale = column.get("locale") or "vi"
        return lambda value, _: (
            UNREADABLE if value is UNREADABLE else expected_number(value, locale, null_tokens)
        )
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        day_first, with_time = bool(options.get("day_first", True)), pa.types.is_timestamp(kind)
        return lambda value, _: (
            UNREADABLE if value is UNREADABLE else expected_date(value, day_first, null_tokens, with_time)
        )
    if pa.types.is_boolean(kind):
        return lambda value, _: UNREADABLE if value is UNREADABLE else expected_boolean(value, null_tokens)
    return lambda value, _: UNREADABLE


def fidelity_outcome(report: FidelityReport, index: int) -> ExpectationOutcome:
    """The check as a quality outcome: a mismatch is an error (it blocks publication); a run that
    verified nothing is a failed warning, so that it cannot count as a pass."""
    checked = report.status != "not_checked"
    return ExpectationOutcome(
        index=index,
        type=FIDELITY,
        column=None,
        severity="error" if checked else "warn",
        origin="quality.fidelity",
        success=report.status == "passed",
        unexpected_count=report.mismatches,
        unexpected_percent=round(100 * report.mismatches / report.cells_checked, 4)
        if report.cells_checked
        else None,
        partial_unexpected_list=report.examples[:SHOWN],
        observed_value=report.as_dict(),
        message=None if checked else report.summary,
        description=(
            "Giá trị công bố khớp với tệp gốc (đọc lại bằng bộ đọc độc lập) / published values equal the "
            "source's, read again by an independent reader: " + report.summary
        ),
    )


def fidelity_outcomes(data: CheckInput) -> list[ExpectationOutcome]:
    """The quality gate's hook (``quality.non_gx``): the check on the validated pull, as one outcome."""
    spec = data.spec
    pull_manifest = data.lake.get_json(
        zone_prefix("raw", spec.agency.id, spec.id, data.pull_id) + PULL_MANIFEST
    )
    options = {
        "records_path": spec.format.records_path,
        "quotechar": spec.format.quotechar,
        "day_first": spec.schema_.day_first,
        "null_tokens": tuple(spec.cleaning.null_tokens or DEFAULT_NULL_TOKENS),
    }
    report = check_fidelity(data.lake, data.table, data.clean_manifest, pull_manifest, options, data.workdir)
    return [fidelity_outcome(report, 0)]
