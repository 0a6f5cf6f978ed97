"""The raw source read again by independent readers, for the fidelity check.

Not the project's format readers: openpyxl in its ordinary (random-access) mode for XLSX, xlrd for
XLS, the standard library's ``csv`` and ``json`` modules, pyarrow's Parquet reader. Rows are fetched
by where the clean stage says each published row comes from (file, sheet, line), and cells by
position (tables) or by key path (JSON records). What a reader gives is the source's own value: a
float for a numeric cell, a ``Decimal`` for a JSON number, a ``str`` for text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Collection
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = ["SourceUnreadable", "TableRow", "json_value", "read_source_rows"]

_FULL_LOAD_BYTES = 64 * 2**20  # larger workbooks are streamed (read-only mode)
_INDEX_BYTES = 16 * 2**20  # larger CSV files: sampled records parsed from a line index, not a full scan
Key = tuple[str | None, int]  # (sheet, line)


class SourceUnreadable(Exception):
    """The independent reader cannot read this file (unknown encoding, format it does not know)."""


class TableRow(NamedTuple):
    """A row of a sheet or CSV: its cells from the first column, and their number formats (XLSX)."""

    values: list[Any]
    formats: list[str | None] | None = None


Row = TableRow | dict[str, Any]


def read_source_rows(
    fmt: str, path: Path, wanted: Collection[Key], options: dict[str, Any]
) -> dict[Key, Row]:
    """The rows at ``wanted`` (sheet, line) of the raw file; rows that do not exist are absent."""
    readers = {"csv": _csv_rows, "xlsx": _xlsx_rows, "xls": _xls_rows, "json": _json_rows,
               "jsonl": _jsonl_rows, "geojson": _geojson_rows, "parquet": _parquet_rows}  # fmt: skip
    if fmt not in readers:
        raise SourceUnreadable(f"no independent reader for {fmt!r} files")
    return readers[fmt](path, set(wanted), options)


def _csv_dialect(options: dict[str, Any]) -> dict[str, Any]:
    quote = options.get("quotechar")
    return {
        "delimiter": options.get("delimiter") or ",",
        "quotechar": quote or '"',
        "quoting": csv.QUOTE_NONE if quote == "" else csv.QUOTE_MINIMAL,
        "doublequote": True,
        "strict": False,
    }


def _csv_rows(path: Path, wanted: set[Key], options: dict[str, Any]) -> dict[Key, Row]:
    encoding = options.get("encoding") or "utf-8"
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise SourceUnreadable(f"encoding {encoding!r} has no Python codec") from None
    csv.field_size_limit(2**31 - 1)
    lines = {line for _, line in wanted}
    if path.stat().st_size > _INDEX_BYTES and "\n".encode(codec.name) == b"\n":
        return _csv_rows_by_index(path, lines, codec.name, _csv_dialect(options))
    last = max(lines, default=0)
    found: dict[Key, Row] = {}
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, **_csv_dialect(options))
        start = 1
        try:
            for fields in reader:
                if start in lines:
                    found[(None, start)] = TableRow(fields)
                start = reader.line_num + 1
                if start > last:
                    break
        except UnicodeDecodeError as exc:
            raise SourceUnreadable(f"not valid {encoding} text near line {start}: {exc.reason}") from None
    return found


def _line_starts(data: bytes) -> np.ndarray:
    """Byte offset of every physical line: after LF, CRLF or a lone CR (numpy, no sort)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    start = np.zeros(raw.size + 1, dtype=bool)
    start[0] = True
    lf = raw == 10
    start[1:] |= lf
    start[1:-1] |= (raw[:-1] == 13) & ~lf[1:]  # a CR not followed by LF
    if raw.size and raw[-1] == 13:
        start[-1] = True
    return np.flatnonzero(start[: raw.size])


def _csv_rows_by_index(path: Path, lines: set[int], codec: str, dialect: dict[str, Any]) -> dict[Key, Row]:
    """A sample of a large file: each wanted record parsed from its own line's byte offset.

    The clean stage gives the line where each record starts, so parsing can begin there; a record
    with quoted line breaks is read on a growing window of lines until it ends inside it.
    """
    data = path.read_bytes()
    starts = _line_starts(data)
    found: dict[Key, Row] = {}
    for line in sorted(lines):
        if line > len(starts):
            continue
        begin, span = int(starts[line - 1]), 2
        while True:
            stop = int(starts[line - 1 + span]) if line - 1 + span < len(starts) else len(data)
            name = codec if begin == 0 else codec.removesuffix("-sig")  # a BOM only at the start
            try:
                text = data[begin:stop].decode(name)
            except UnicodeDecodeError as exc:
                raise SourceUnreadable(f"not valid {codec} text near line {line}: {exc.reason}") from None
            reader = csv.reader(io.StringIO(text, newline=""), **dialect)
            fields = next(reader, [])
            if reader.line_num < span or stop == len(data):
                found[(None, line)] = TableRow(fields)
                break
            span *= 4
    return found


def _xlsx_rows(path: Path, wanted: set[Key], options: dict[str, Any]) -> dict[Key, Row]:
    import openpyxl

    read_only = path.stat().st_size > _FULL_LOAD_BYTES
    workbook = openpyxl.load_workbook(path, read_only=read_only, data_only=True)
    found: dict[Key, Row] = {}
    try:
        for sheet in {s for s, _ in wanted}:
            ws = workbook[sheet] if sheet is not None else workbook.worksheets[0]
            lines = sorted(line for s, line in wanted if s == sheet)
            if read_only:
                rows = ws.iter_rows(min_row=lines[0], max_row=lines[-1])
                for line, cells in enumerate(rows, start=lines[0]):
                    if line in lines:
                        formats = [getattr(c, "number_format", None) for c in cells]
                        found[(sheet, line)] = TableRow([c.value for c in cells], formats)
                continue
            for line in lines:
                cells = ws[line]
                found[(sheet, line)] = TableRow([c.value for c in cells], [c.number_format for c in cells])
    finally:
        workbook.close()
    return found


def _xls_rows(path: Path, wanted: set[Key], options: dict[str, Any]) -> dict[Key, Row]:
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=False)
    found: dict[Key, Row] = {}
    for sheet, line in wanted:
        ws = book.sheet_by_name(sheet) if sheet is not None else book.sheet_by_index(0)
        if line > ws.nrows:
            continue
        cells: list[Any] = []
        for cell in ws.row(line - 1):
            value: Any = cell.value
            if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                value = None
            elif cell.ctype == xlrd.XL_CELL_DATE:
                value = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                value = bool(cell.value)
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                value = xlrd.error_text_from_code.get(cell.value, "#ERROR")
            cells.append(value)
        found[(sheet, line)] = TableRow(cells)
    return found


def _load_json(path: Path, encoding: str | None) -> Any:
    data = path.read_bytes()
    text = data.decode(encoding) if encoding else data.decode(json.detect_encoding(data))
    return json.loads(text.removeprefix("\ufeff"), parse_float=Decimal, parse_constant=Decimal)


def _records(document: Any, records_path: str | None) -> list[Any]:
    target = document
    for part in (records_path or "").split(".") if records_path else []:
        target = target[int(part)] if isinstance(target, list) else target[part]
    return target if isinstance(target, list) else [target]


def _json_rows(path: Path, wanted: set[Key], options: dict[str, Any]) -> dict[Key, Row]:
    records = _records(_load_json(path, options.get("encoding")), options.get("records_path"))
    return {key: _record(records[key[1] - 1]) for key in wanted if 0 < key[1] <= len(records)}


def _record(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"value": value}


def _jsonl_rows(path: Path, wanted: set[Key], options: dict[str, Any]) -> dict[Key, Row]:
    lines = {line for _, line in wanted}
    found: dict[Key, Row] = {}
    with path.open("rb") as fh:
        for number, data in enumerate(fh, start=1):
            if number in lines:
                text = data.decode(options.get("encoding") or "utf-8").removeprefix("\ufeff")
                found[(None, number)] = _record(json.loads(text, parse_float=Decimal, parse_constant=Decimal))
    return found


def _geojson_rows(path: Path, wanted: set[Key], options: dict[str, Any]) -> dict[Key, Row]:
    document = _load_json(path, options.get("encoding"))
    if document.get("type") == "FeatureCollection":
        features = document["features"]
    elif document.get("type") == "Feature":
        features = [document]
    else:
        features = [{"type": "Feature", "properties": None, "geometry": document}]
    found: dict[Key, Row] = {}
    for key in wanted:
        if 0 < key[1] <= len(features):
            feature = features[key[1] - 1]
            record = dict(feature.get("properties") or {})
            found[key] = {"__feature__": feature, **record}
    return found


def _parquet_rows(path: Path, wanted: set[Key], options: dict[str, Any]) -> dict[Key, Row]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    found: dict[Key, Row] = {}
    for key in wanted:
        if 0 < key[1] <= table.num_rows:
            found[key] = table.slice(key[1] - 1, 1).to_pylist()[0]
    return found


def json_value(record: dict[str, Any], label: str, fmt: str) -> Any:
    """The value under a flattened label ("dia_chi.phuong") of a JSON record; KeyError if absent."""
    if fmt == "geojson":
        feature = record.get("__feature__") or {}
        geometry = feature.get("geometry") or {}
        if (
            label in ("id", "feature.id")
            and "id" in feature
            and (label == "feature.id" or "id" not in record)
        ):
            return feature["id"]
        if label == "geometry_type":
            return geometry.get("type") if geometry else None
        if label == "geometry":
            raise KeyError(label)  # compact GeoJSON text: not compared
        if label.startswith("properties.") and label[11:] in ("geometry", "geometry_type"):
            label = label[11:]
    return _walk(record, label.split("."))


def _walk(value: Any, parts: list[str]) -> Any:
    if not parts:
        return value
    if not isinstance(value, dict):
        raise KeyError(".".join(parts))
    for cut in range(len(parts), 0, -1):  # keys may hold dots themselves
        key = ".".join(parts[:cut])
        if key in value:
            return _walk(value[key], parts[cut:])
    return None  # an absent key is a null cell (the union of keys)
