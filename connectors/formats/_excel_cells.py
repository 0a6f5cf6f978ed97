"""Excel cell values as (text, kind): shared by the XLSX and XLS readers (internal).

Numbers plain and exact (the shortest text that reads back as the same double), dates ISO,
booleans TRUE/FALSE; times, durations and error values are text of kind OTHER; a whole number in a
zeros-only format ("00000") is the code Excel shows, "01234".
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import xlrd

from connectors.formats._common import Cell
from connectors.formats.base import CellKind
from connectors.formats.sheet import Row


def render_number(value: float | int) -> str:
    """Plain decimal text, no exponent, that reads back as exactly ``value`` (shortest round trip)."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if not math.isfinite(value):
        return repr(value)
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_ZEROS = re.compile(r"00+")  # "0" alone is Excel's integer format (id 1): it never shows a leading zero


def code_text(value: float | int, number_format: str | None) -> str | None:
    """``01234`` for 1234 in a cell formatted ``00000`` (a code shown with its leading zeros), else None."""
    if not number_format or not _ZEROS.fullmatch(number_format):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    if value < 0 or value >= 10**15:
        return None
    return str(int(value)).zfill(len(number_format))


_QUOTED = re.compile(r'"[^"]*"|\\.|_.|\*.')  # literal text, escaped chars, padding/fill chars
_BRACKET = re.compile(r"\[([^\]]*)\]")


@functools.lru_cache(maxsize=1024)
def format_has_time(number_format: str | None) -> bool:
    """Whether an Excel number format shows a time of day (h or s; [h]/[mm]/[ss] elapsed time)."""
    if not number_format:
        return False
    text = _QUOTED.sub("", number_format)
    if any(re.fullmatch(r"[hms]+", part, re.IGNORECASE) for part in _BRACKET.findall(text)):
        return True
    text = _BRACKET.sub("", text).lower()
    return "h" in text or "s" in text


def render_datetime(value: datetime, shows_time: bool) -> str:
    if not shows_time and value.time() == time(0):
        return value.date().isoformat()
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def render_time(value: time) -> str:
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def render_timedelta(value: timedelta) -> str:
    """Elapsed time as Excel shows [h]:mm:ss, e.g. ``26:30:00``."""
    total = round(value.total_seconds(), 3)
    sign, total = ("-", -total) if total < 0 else ("", total)
    minutes, seconds = divmod(total, 60)
    hours, minutes = divmod(int(minutes), 60)
    whole = int(seconds)
    frac = f"{seconds - whole:.3f}"[1:] if seconds != whole else ""
    return f"{sign}{hours}:{minutes:02d}:{whole:02d}{frac}"


def cell_of(value: Any, number_format: str | None = None) -> Cell:
    """A cell value as (text, kind); ``number_format`` tells date from date-time and shows codes."""
    if value is None:
        return None, CellKind.TEXT
    if isinstance(value, str):
        return value, CellKind.TEXT
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), CellKind.BOOLEAN
    if isinstance(value, datetime):
        text = render_datetime(value, format_has_time(number_format))
        return text, CellKind.DATETIME if "T" in text else CellKind.DATE
    if isinstance(value, date):
        return value.isoformat(), CellKind.DATE
    if isinstance(value, time):
        return render_time(value), CellKind.OTHER
    if isinstance(value, timedelta):
        return render_timedelta(value), CellKind.OTHER
    if isinstance(value, int | float):
        code = code_text(value, number_format)
        return (code, CellKind.STRING) if code is not None else (render_number(value), CellKind.NUMBER)
    return str(value), CellKind.OTHER


def row_of(line: int, cells: Sequence[Cell]) -> Row:
    texts = [text for text, _ in cells]
    kinds = [kind for _, kind in cells]
    return line, texts, kinds if any(kinds) else None


def xlsx_cell(cell: Any) -> Cell:
    value = cell.value
    if value is None or isinstance(value, str):
        # an error cell (#DIV/0!, #N/A) is a string of data type "e": shown, never parsed
        return value, CellKind.OTHER if value is not None and cell.data_type == "e" else CellKind.TEXT
    # the number format is looked up only for the cells it can change (dates, whole numbers)
    needs_format = isinstance(value, datetime) or (
        isinstance(value, int | float) and float(value).is_integer()
    )
    return cell_of(value, cell.number_format if needs_format else None)


def xls_cell(book: Any, cell: Any) -> Cell:
    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None, CellKind.TEXT
    if kind == xlrd.XL_CELL_TEXT:
        return str(value), CellKind.TEXT
    if kind == xlrd.XL_CELL_BOOLEAN:
        return ("TRUE" if value else "FALSE"), CellKind.BOOLEAN
    if kind == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(value, "#ERROR")), CellKind.OTHER
    if kind == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(value, book.datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return render_number(value), CellKind.NUMBER
        if 0 <= value < 1:
            return render_time(moment.time()), CellKind.OTHER
        text = render_datetime(moment, format_has_time(xls_format(book, cell)) or value % 1 != 0)
        return text, CellKind.DATETIME if "T" in text else CellKind.DATE
    return cell_of(value, xls_format(book, cell) if float(value).is_integer() else None)


def xls_format(book: Any, cell: Any) -> str | None:
    try:
        return str(book.format_map[book.xf_list[cell.xf_index].format_key].format_str)
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
