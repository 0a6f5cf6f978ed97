"""Pieces shared by the format readers (internal): unique column names, row batching, JSON as text.

JSON numbers are kept exactly as written (``"1.50"`` stays ``"1.50"``, 20-digit IDs keep every
digit): the parser turns them into :class:`JsonNumber`, a ``str`` subclass, and the cell is marked
``CellKind.NUMBER``, so cleaning types it from the original text without any locale; a JSON string
is ``CellKind.STRING`` (the source said it is text: "27676" stays a code).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyarrow as pa

from connectors.base import RawObject
from connectors.formats.base import CellKind, FormatError, ReadBatch, ReadInfo, RejectedRow

RAW_LIMIT = 1000  # characters of a rejected row kept in RejectedRow.raw
MAX_DOCUMENT_BYTES = 256 * 2**20  # whole-document JSON / GeoJSON is parsed in memory


def clean_label(text: str) -> str:
    """A header label as shown: NFC, inner whitespace (line breaks in merged cells) collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def join_header_lines(parts: Sequence[Sequence[str]], width: int) -> list[str]:
    """One label per column from header lines (already filled from merges): the lines of a column
    joined with " - ", a repeat of the line above (a vertical merge) not repeated."""
    labels: list[str] = []
    for c in range(width):
        column: list[str] = []
        for row in parts:
            if row[c] and (not column or column[-1] != row[c]):
                column.append(row[c])
        labels.append(" - ".join(column))
    return labels


def unique_names(labels: Sequence[str], fallback: Callable[[int], str]) -> list[str]:
    """Column names for ``labels``: an empty label becomes ``fallback(index)``, repeats get "_2", "_3".

    A label that occurs once keeps its name, so a suffix never takes a real label:
    ``["Tên", "Tên", "Tên_2"]`` -> ``["Tên", "Tên_3", "Tên_2"]``.
    """
    base = [label or fallback(i) for i, label in enumerate(labels)]
    reserved = set(base)
    taken: set[str] = set()
    names: list[str] = []
    for name in base:
        candidate, n = name, 1
        while candidate in taken or (candidate != name and candidate in reserved):
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        names.append(candidate)
    return names


def truncate(raw: str | None) -> str | None:
    if raw is None or len(raw) <= RAW_LIMIT:
        return raw
    return raw[:RAW_LIMIT] + "…"


class BatchBuilder:
    """Collects rows (cells as strings, with their kinds) into ``ReadBatch``es of ``batch_rows`` rows.

    A batch holds consecutive lines only: ``first_line + i`` is the line of row ``i``. A skipped
    line (empty row, rejected row) therefore starts a new batch. Rejected rows ride on the next
    batch yielded (an empty-table batch if no row follows). Kinds are kept only for the columns
    where a cell that is not ``CellKind.TEXT`` has been seen in the batch.
    """

    def __init__(self, columns: Sequence[str], batch_rows: int, sheet: str | None = None) -> None:
        self.columns = list(columns)
        self.batch_rows = batch_rows
        self.sheet = sheet
        self._data: list[list[str | None]] = [[] for _ in self.columns]
        self._kinds: dict[int, list[int]] = {}  # column index -> kind of every row so far
        self._rows = 0
        self._first = 0
        self._next = 0
        self._rejected: list[RejectedRow] = []
        self._emitted = False

    def add(
        self, line: int, values: Sequence[str | None], kinds: Sequence[int] | None = None
    ) -> list[ReadBatch]:
        out: list[ReadBatch] = []
        if self._rows and line != self._next:
            out.append(self._flush(self._first))
        if not self._rows:
            self._first = line
        for column, value in zip(self._data, values, strict=True):
            column.append(value)
        if kinds is not None:
            for i, kind in enumerate(kinds):
                if kind and i not in self._kinds:
                    self._kinds[i] = [CellKind.TEXT] * self._rows
        for i, tracked in self._kinds.items():
            tracked.append(kinds[i] if kinds is not None else CellKind.TEXT)
        self._rows += 1
        self._next = line + 1
        if self._rows >= self.batch_rows:
            out.append(self._flush(self._first))
        return out

    def reject(self, line: int, reason: str, raw: str | None = None) -> list[ReadBatch]:
        self._rejected.append(RejectedRow(line=line, reason=reason, raw=truncate(raw), sheet=self.sheet))
        if len(self._rejected) >= self.batch_rows:  # bounded memory even when every row is bad
            return [self._flush(self._first if self._rows else line + 1)]
        return []

    def finish(self, empty_first_line: int) -> list[ReadBatch]:
        """The last batch; an empty table (with the columns) when nothing was yielded yet."""
        if self._rows or self._rejected or not self._emitted:
            return [self._flush(self._first if self._rows else empty_first_line)]
        return []

    def _flush(self, first_line: int) -> ReadBatch:
        arrays = [pa.array(column, type=pa.string()) for column in self._data]
        table = pa.Table.from_arrays(arrays, names=self.columns)
        kinds = {self.columns[i]: pa.array(k, type=pa.int8()) for i, k in self._kinds.items()}
        batch = ReadBatch(table, first_line, self._rejected, self.sheet, kinds=kinds)
        self._data = [[] for _ in self.columns]
        self._kinds = {}
        self._rows = 0
        self._rejected = []
        self._emitted = True
        return batch


# --- JSON values as text ---------------------------------------------------------------------------


class JsonNumber(str):
    """A JSON number (or NaN / Infinity) exactly as written in the source."""

    __slots__ = ()


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` keeping numbers as :class:`JsonNumber` text (bytes: UTF-8/16/32 detected)."""
    return json.loads(text, parse_int=JsonNumber, parse_float=JsonNumber, parse_constant=JsonNumber)


def to_json_text(value: Any) -> str:
    """Compact JSON for a parsed value, numbers as written, non-ASCII kept (Vietnamese stays readable)."""
    parts: list[str] = []
    _dump(value, parts.append)
    return "".join(parts)


def _dump(value: Any, write: Callable[[str], Any]) -> None:
    if isinstance(value, JsonNumber):
        write(str.__str__(value))
    elif isinstance(value, str):
        write(json.dumps(value, ensure_ascii=False))
    elif value is None or isinstance(value, bool):
        write({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, dict):
        write("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                write(",")
            write(json.dumps(str(key), ensure_ascii=False))
            write(":")
            _dump(item, write)
        write("}")
    elif isinstance(value, list | tuple):
        write("[")
        for i, item in enumerate(value):
            if i:
                write(",")
            _dump(item, write)
        write("]")
    else:
        write(json.dumps(value))


Cell = tuple[str | None, CellKind]  # a cell's text and how it arrived


def json_cell(value: Any) -> Cell:
    """A JSON value as one cell: null, true/false, numbers as written, strings, lists/objects as JSON."""
    if value is None:
        return None, CellKind.TEXT
    if isinstance(value, JsonNumber):
        return str.__str__(value), CellKind.NUMBER
    if isinstance(value, str):
        return value, CellKind.STRING
    if isinstance(value, bool):
        return ("true" if value else "false"), CellKind.BOOLEAN
    return to_json_text(value), CellKind.OTHER


def flatten(record: dict[str, Any], out: dict[str, Cell], prefix: str = "") -> dict[str, Cell]:
    """Nested objects to dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": ("1", NUMBER)}``); lists stay
    JSON text.

    An empty object keeps its key with the value ``"{}"`` (nothing is dropped).
    """
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flatten(value, out, name + ".")
        else:
            out[name] = json_cell(value)
    return out


def flat_keys(record: dict[str, Any], out: dict[str, None], prefix: str = "") -> None:
    """The keys :func:`flatten` would produce, added to ``out`` in first-seen order."""
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat_keys(value, out, name + ".")
        else:
            out.setdefault(name, None)


def record_row(record: Any) -> dict[str, Cell]:
    """One record as a flat row; anything but an object becomes a single ``value`` column."""
    if isinstance(record, dict):
        return flatten(record, {})
    return {"value": json_cell(record)}


def row_cells(cells: dict[str, Cell], index: dict[str, int]) -> tuple[list[str | None], list[int]]:
    """Texts and kinds in column order (absent keys are null)."""
    texts: list[str | None] = [None] * len(index)
    kinds = [0] * len(index)
    for key, (text, kind) in cells.items():
        at = index[key]
        texts[at], kinds[at] = text, kind
    return texts, kinds


def record_keys(records: Iterable[Any], out: dict[str, None]) -> dict[str, None]:
    for record in records:
        if isinstance(record, dict):
            flat_keys(record, out)
        else:
            out.setdefault("value", None)
    return out


def raw_size(raw: RawObject) -> int:
    if raw.data is not None:
        return len(raw.data)
    assert raw.path is not None
    return raw.path.stat().st_size


def load_json_document(raw: RawObject, encoding: str | None, max_bytes: int, info: ReadInfo) -> Any:
    """Parse a whole JSON document (in memory, so size-limited); FormatError names the file and place.

    ``info.encoding`` gets the encoding used (given, else detected: UTF-8, UTF-8 with BOM, UTF-16/32).
    """
    size = raw_size(raw)
    if size > max_bytes:
        raise FormatError(
            f"{raw.name}: JSON document of {size:,} bytes is over the {max_bytes:,}-byte limit for "
            "whole-document JSON; publish it as JSON Lines (read line by line)"
        )
    data = raw.read_bytes()
    if not data.strip():
        raise FormatError(f"{raw.name}: empty file")
    info.encoding = encoding or json.detect_encoding(data)
    try:
        if encoding:
            return parse_json(data.decode(encoding).removeprefix("\ufeff"))
        return parse_json(data)  # UTF-8 (with or without BOM), UTF-16 or UTF-32, detected
    except LookupError:
        raise FormatError(f"{raw.name}: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{raw.name}: not valid {exc.encoding} text at byte {exc.start}; set format.encoding"
        ) from None
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{raw.name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise FormatError(f"{raw.name}: JSON nested too deeply") from None
