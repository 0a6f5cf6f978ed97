"""The declared transformations, written again plainly, for the fidelity check.

The clean stage does this work with vectorised Arrow kernels; here each source cell is turned into
the value the catalog should publish with the standard library only (``decimal``, ``datetime``,
``unicodedata``, ``re``), so that the check does not trust the code it checks. A cell this module
cannot read returns :data:`UNREADABLE`: counted as not verified, never as a pass.

Declared transformations (README, "What is published"):
- text: Unicode NFC, whitespace trimmed and runs of whitespace made one space; null tokens
  ("", "N/A", "-", "không có"...) and Excel error values are null;
- numbers that arrive typed (numeric cells, JSON numbers, database numbers) are published as they
  are; numbers written as text are read in the column's locale ("1.234,5" vi, "1,234.5" en), with
  currency/percent signs, spaces as group separators and accounting negatives "(1.234)";
- dates written as text: dd/mm/yyyy (or mm/dd/yyyy when the spec says so), yyyy-mm-dd, optional
  time, "ngày 5 tháng 3 năm 2024", "tháng 3/2024" (the first of the month); date-times to the second;
- codes (identifier columns): a typed number is written as Excel shows it (27676, 01234 in a
  "00000" cell), a text code as it is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "UNREADABLE",
    "expected_boolean",
    "expected_date",
    "expected_number",
    "expected_text",
    "same_value",
]


class _Unreadable:
    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Final = _Unreadable()

_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+")
_AFFIX = re.compile(
    r"^(?:vnđ|vnd|đồng|dong|đ|₫|usd|\$|%)\s*|\s*(?:vnđ|vnd|đồng|dong|đ|₫|usd|\$|%)$", re.IGNORECASE
)
_DIGITS = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_GROUPED = {
    "vi": re.compile(r"^[+-]?\d{1,3}(?:[. ]\d{3})+(?:,\d+)?$"),
    "en": re.compile(r"^[+-]?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$"),
}
_PLAIN = {"vi": re.compile(r"^[+-]?\d+(?:,\d+)?$"), "en": re.compile(r"^[+-]?\d+(?:\.\d+)?$")}
_TIME = r"(?:[ t,]+(\d{1,2})[:h](\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
_NUMERIC_DATE = re.compile(rf"^(\d{{1,2}})\s*[/.\-]\s*(\d{{1,2}})\s*[/.\-]\s*(\d{{4}}){_TIME}$")
_ISO_DATE = re.compile(rf"^(\d{{4}})[\-/.](\d{{1,2}})[\-/.](\d{{1,2}}){_TIME}(?:z|[+\-]\d{{2}}:?\d{{2}})?$")
_WORDS_DATE = re.compile(r"^(?:.*?ngày\s*)?(\d{1,2})\s*(?:tháng|th\.?)\s*(\d{1,2})\s*(?:năm|,|/)?\s*(\d{4})$")
_MONTH_DATE = re.compile(r"^(?:tháng\s*)?(\d{1,2})\s*(?:[/\-]|năm)\s*(\d{4})$")
_TRUE = {"true", "1", "x", "có", "co", "yes", "y", "đúng", "dung", "t"}
_FALSE = {"false", "0", "không", "khong", "no", "n", "sai", "f"}
_EXCEL_ERRORS = {"#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!", "#CALC!", "#N/A"}


_ODD_SPACE = re.compile(r"[\t\n\r\v\f\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]|  ")


def clean_text(text: str) -> str:
    """NFC, trimmed, runs of whitespace made one space (most cells need none of it: checked first)."""
    if unicodedata.is_normalized("NFC", text) and not _ODD_SPACE.search(text) and text == text.strip():
        return text
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _null_or_clean(text: str, null_tokens: frozenset[str]) -> str | None:
    cleaned = clean_text(text)
    return None if cleaned.casefold() in null_tokens or cleaned in _EXCEL_ERRORS else cleaned


def plain_number(value: float | int | Decimal) -> str:
    """A typed number as the text a code column shows: 27676, not 27676.0."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def expected_text(value: Any, null_tokens: frozenset[str], number_format: str | None = None) -> Any:
    """What a text column publishes for a source cell (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        if number_format and set(number_format) == {"0"} and float(value).is_integer() and value >= 0:
            return str(int(value)).zfill(len(number_format))
        return plain_number(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time | timedelta):
        return UNREADABLE  # rendered by the reader's own conventions; not compared
    return _null_or_clean(str(value), null_tokens)


def expected_number(value: Any, locale: str, null_tokens: frozenset[str]) -> Any:
    """What a number column publishes for a source cell: typed numbers as they are, text parsed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return UNREADABLE
    if isinstance(value, Decimal):  # a JSON number as written: an int when it has no fraction
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent == 0
            else float(value)
        )
    if isinstance(value, int | float):
        return value
    cleaned = _null_or_clean(str(value), null_tokens)
    return None if cleaned is None else parse_text_number(cleaned, locale)


def parse_text_number(text: str, locale: str) -> Any:
    """A number written as text in ``locale``, as an exact Decimal (UNREADABLE when it is not one)."""
    negative = text.startswith("(") and text.endswith(")")
    body = text[1:-1].strip() if negative else text
    if not (body[:1].isdigit() or body[:1] in "+-") or not body[-1:].isdigit():  # a sign or unit around it
        body = _AFFIX.sub("", _AFFIX.sub("", body).strip()).strip()
    group, point = (".", ",") if locale == "vi" else (",", ".")
    if _GROUPED[locale].match(body):
        body = body.replace(group, "").replace(" ", "")
    elif not _PLAIN[locale].match(body):
        return UNREADABLE
    body = body.replace(point, ".")
    if not _DIGITS.match(body):
        return UNREADABLE
    try:
        number = Decimal(body)
    except InvalidOperation:
        return UNREADABLE
    number = -number if negative else number
    return int(number) if "." not in body else float(number)  # exact ints; the correctly rounded double


def expected_date(value: Any, day_first: bool, null_tokens: frozenset[str], with_time: bool) -> Any:
    """A date (or a date-time to the second) for a source cell."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None, microsecond=0)
        return moment if with_time else moment.date()
    if isinstance(value, date):
        return datetime.combine(value, time(0)) if with_time else value
    if not isinstance(value, str):
        return UNREADABLE
    cleaned = _null_or_clean(value, null_tokens)
    if cleaned is None:
        return None
    parts = _date_parts(cleaned.lower(), day_first)
    if parts is None:
        return UNREADABLE
    try:
        moment = datetime(*parts)  # type: ignore[arg-type, misc]
    except ValueError:
        return UNREADABLE
    return moment if with_time else moment.date()


def _date_parts(text: str, day_first: bool) -> tuple[int, ...] | None:
    if m := _NUMERIC_DATE.match(text):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        day, month = (a, b) if day_first else (b, a)
        return (y, month, day, *_clock(m, 4))
    if m := _ISO_DATE.match(text):
        return (int(m[1]), int(m[2]), int(m[3]), *_clock(m, 4))
    if m := _WORDS_DATE.match(text):
        return int(m[3]), int(m[2]), int(m[1])
    if m := _MONTH_DATE.match(text):
        return int(m[2]), int(m[1]), 1
    return None


def _clock(match: re.Match[str], first: int) -> tuple[int, int, int]:
    hour, minute, second = (match[first + i] for i in range(3))
    return int(hour or 0), int(minute or 0), int(second or 0)


def expected_boolean(value: Any, null_tokens: frozenset[str]) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return UNREADABLE
    cleaned = _null_or_clean(value, null_tokens)
    if cleaned is None:
        return None
    word = cleaned.lower()
    return True if word in _TRUE else False if word in _FALSE else UNREADABLE


def same_value(expected: Any, published: Any) -> bool:
    """Equality the way the catalog means it: exact for text and dates, the same double for numbers."""
    if expected is None or published is None:
        return expected is None and published is None
    if isinstance(expected, Decimal | int | float) and not isinstance(expected, bool):
        if isinstance(published, bool) or not isinstance(published, int | float):
            return False
        if isinstance(expected, int) and isinstance(published, int):
            return expected == published
        wanted = float(expected)
        if math.isnan(wanted):
            return math.isnan(float(published))
        return wanted == float(published)
    return bool(expected == published)
