"""The Excel download of a published version: one workbook streamed with openpyxl's write-only
mode (memory stays at about one batch), sheet "Dữ liệu" with the rows, sheet "Từ điển dữ liệu"
with the data dictionary.

Cells keep their types for Excel users: numbers are numbers (written with Python's shortest exact
repr, not openpyxl's 16 digits), dates and timestamps are Excel dates (`dd/mm/yyyy`,
`dd/mm/yyyy hh:mm:ss`; timestamps with a time zone in Ho Chi Minh City time), text is a text
cell with the Text number format (`@`), so codes keep their leading zeros and a cell that starts
with `= + - @` is shown, never run (a string cell is no formula; `@` keeps it text when edited).
What Excel cannot hold as a number is written as text: integers and decimals of more than 15
digits (Excel keeps 15), NaN and infinities, dates before 1900. Characters XML cannot carry
(control characters) are written as Excel's `_xHHHH_` escapes, which Excel decodes.

A version gets a workbook only when it fits in a sheet: at most `max_rows` rows (and Excel's
1,048,575 below the header), 16,384 columns, cells of at most 32,767 characters; otherwise
`write_xlsx` returns why not (`XlsxSkipped`) and leaves no file.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_SHEET = "Dữ liệu"
DICTIONARY_SHEET = "Từ điển dữ liệu"
DICTIONARY_HEADER = ("Tên cột", "Nhãn tiếng Việt", "Kiểu dữ liệu", "Mô tả", "Cho phép để trống")
EXCEL_MAX_ROWS = 1_048_576  # including the header row
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767
EXCEL_DIGITS = 15  # significant digits Excel keeps of a number
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
TIME_FORMAT = "hh:mm:ss"
TEXT_FORMAT = "@"
LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
_EPOCH = dt.datetime(1900, 1, 1)
_BIG = 10**EXCEL_DIGITS
# XML 1.0 cannot carry these; `_xHHHH_` is how Excel stores them (and so a literal `_xHHHH_`
# must have its `_` escaped, as `_x005F_`)
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")

Value = tuple[Any, str]  # what is written, and its cell type: n (number), s (text), b (boolean)
Convert = Callable[[Any], Value]


@dataclass(frozen=True)
class XlsxSkipped:
    """Why a version has no workbook: `rows`, `columns` or `cell_chars` above `limit`."""

    reason: str
    value: int
    limit: int

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "value": self.value, "limit": self.limit}


def fits(rows: int, columns: int, max_rows: int) -> XlsxSkipped | None:
    limit = min(max_rows, EXCEL_MAX_ROWS - 1)
    if rows > limit:
        return XlsxSkipped("rows", rows, limit)
    if columns > EXCEL_MAX_COLUMNS:
        return XlsxSkipped("columns", columns, EXCEL_MAX_COLUMNS)
    return None


def excel_text(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def _text(value: Any) -> Value:
    return excel_text(value if isinstance(value, str) else str(value)), "s"


def _integer(value: int) -> Value:
    return (str(value), "n") if -_BIG < value < _BIG else (str(value), "s")


def _float(value: float) -> Value:
    return (repr(value), "n") if value == value and abs(value) != float("inf") else (repr(value), "s")


def _decimal(value: Decimal) -> Value:
    exact = len(value.as_tuple().digits) <= EXCEL_DIGITS and value.is_finite()
    return (format(value, "f"), "n") if exact else (format(value, "f"), "s")


def _date(value: dt.date) -> Value:
    if value < _EPOCH.date():
        return value.strftime("%d/%m/") + f"{value.year:04d}", "s"
    return str(to_excel(value)), "n"


def _datetime(value: dt.datetime) -> Value:
    if value.tzinfo is not None:
        value = value.astimezone(LOCAL_TIME).replace(tzinfo=None)
    if value < _EPOCH:
        return value.strftime("%d/%m/") + f"{value.year:04d} " + value.strftime("%H:%M:%S"), "s"
    return repr(float(to_excel(value))), "n"


def _time(value: dt.time) -> Value:
    return repr(float(to_excel(value))), "n"


def _boolean(value: bool) -> Value:
    return ("1" if value else "0"), "b"


def converter(data_type: pa.DataType) -> tuple[Convert, str | None]:
    """How a column's values are written, and its number format."""
    if pa.types.is_boolean(data_type):
        return _boolean, None
    if pa.types.is_integer(data_type):
        return _integer, None
    if pa.types.is_floating(data_type):
        return _float, None
    if pa.types.is_decimal(data_type):
        scale = getattr(data_type, "scale", 0)
        return _decimal, ("0." + "0" * scale if scale > 0 else "0")
    if pa.types.is_date(data_type):
        return _date, DATE_FORMAT
    if pa.types.is_timestamp(data_type):
        return _datetime, DATETIME_FORMAT
    if pa.types.is_time(data_type):
        return _time, TIME_FORMAT
    return _text, TEXT_FORMAT


def _plain(data_type: pa.DataType) -> pa.DataType:
    return data_type.value_type if pa.types.is_dictionary(data_type) else data_type


def _width(label: str, data_type: pa.DataType, sample: pa.Array) -> float:
    """Excel's column width in characters: the header or the longest sampled value, 8 to 50."""
    longest = len(label)
    if pa.types.is_date(data_type):
        longest = max(longest, 10)
    elif pa.types.is_timestamp(data_type):
        longest = max(longest, 19)
    elif len(sample) and sample.null_count < len(sample):
        as_text = sample if pa.types.is_string(data_type) else pc.cast(sample, pa.string(), safe=False)
        longest = max(longest, pc.max(pc.utf8_length(as_text)).as_py() or 0)
    return float(min(max(longest + 2, 8), 50))


def _header(sheet: WriteOnlyWorksheet, labels: Sequence[str]) -> list[WriteOnlyCell]:
    return [_text_cell(sheet, label, bold=True) for label in labels]


def _text_cell(sheet: WriteOnlyWorksheet, text: str, bold: bool = False) -> WriteOnlyCell:
    """A text cell, whatever the text looks like (`=x` is no formula here either)."""
    cell = WriteOnlyCell(sheet)
    cell._value, cell.data_type = excel_text(text), "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _longest_text(batch: pa.RecordBatch) -> int:
    longest = 0
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            longest = max(longest, pc.max(pc.utf8_length(column)).as_py() or 0)
    return longest


def write_xlsx(
    source: Path,
    path: Path,
    dictionary: Sequence[dict[str, Any]],
    *,
    max_rows: int,
    batch_rows: int = 16_384,
) -> XlsxSkipped | None:
    """The workbook of `source` (Parquet) at `path`, or why it has none (and no file)."""
    reader = pq.ParquetFile(source)
    schema = reader.schema_arrow
    rows = reader.metadata.num_rows
    if (skipped := fits(rows, len(schema), max_rows)) is not None:
        return skipped
    types = [_plain(f.type) for f in schema]
    book = Workbook(write_only=True)
    book.properties.creator = "citydata"
    data = book.create_sheet(DATA_SHEET)
    data.freeze_panes = "A2"
    data.auto_filter.ref = f"A1:{get_column_letter(max(len(schema), 1))}{rows + 1}"
    labels = [str(d.get("label") or d["column"]) for d in dictionary]
    batches = reader.iter_batches(batch_size=batch_rows)
    first = next(batches, None)
    for i, (label, data_type) in enumerate(zip(labels, types, strict=True)):
        sample = first.column(i).slice(0, 1000) if first is not None else pa.array([], data_type)
        sample = sample.dictionary_decode() if pa.types.is_dictionary(sample.type) else sample
        data.column_dimensions[get_column_letter(i + 1)].width = _width(label, data_type, sample)
    data.append(_header(data, labels))
    plans = [converter(t) for t in types]
    cells = [WriteOnlyCell(data) for _ in plans]  # one per column, reused row after row
    for cell, (_, number_format) in zip(cells, plans, strict=True):
        if number_format:
            cell.number_format = number_format
    converts = [convert for convert, _ in plans]
    for batch in itertools.chain([first] if first is not None else [], batches):
        if (longest := _longest_text(batch)) > EXCEL_MAX_CELL_CHARS:
            _abandon(data)
            return XlsxSkipped("cell_chars", longest, EXCEL_MAX_CELL_CHARS)
        columns = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in batch.columns]
        for values in zip(*(c.to_pylist() for c in columns), strict=True):
            row: list[WriteOnlyCell | None] = []
            for value, cell, convert in zip(values, cells, converts, strict=True):
                if value is None:
                    row.append(None)
                else:  # the writer reads `_value` and `data_type`; set them without openpyxl's guessing
                    cell._value, cell.data_type = convert(value)
                    row.append(cell)
            data.append(row)
    _dictionary_sheet(book, dictionary)
    book.save(path)
    return None


def _abandon(sheet: WriteOnlyWorksheet) -> None:
    """Close a sheet that will not be saved and remove its temporary file."""
    sheet.close()
    if sheet._writer is not None:
        sheet._writer.cleanup()


def _dictionary_sheet(book: Workbook, dictionary: Sequence[dict[str, Any]]) -> None:
    sheet = book.create_sheet(DICTIONARY_SHEET)
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDE", (24, 32, 14, 60, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append(_header(sheet, DICTIONARY_HEADER))
    for entry in dictionary:
        values = (entry["column"], entry.get("label") or entry["column"], entry.get("type") or "",
                  entry.get("description") or "", "Có" if entry.get("nullable") else "Không")  # fmt: skip
        sheet.append([_text_cell(sheet, str(value)) for value in values])
