"""Column labels to unique ASCII snake_case names, keeping the original labels for the data dictionary;
the logical type (the spec's column types) of an Arrow type."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import pyarrow as pa

from citydata.kernels.vietnamese import strip_accents

__all__ = ["logical_type", "rename_columns", "snake_case", "snake_case_columns"]

_NON_WORD = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(label: str, digit_prefix: str = "c_", empty: str = "column") -> str:
    """One label to ASCII snake_case: "Số CCCD/CMND" -> "so_cccd_cmnd", "Ngày cấp" -> "ngay_cap".

    Diacritics are dropped (đ/Đ -> d), camelCase is split, any other character becomes "_", and a
    name starting with a digit gets ``digit_prefix`` ("2024" -> "c_2024").
    """
    text = unicodedata.normalize("NFC", label or "")
    text = _CAMEL.sub("_", strip_accents(text))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    name = _NON_WORD.sub("_", text).strip("_")
    if not name:
        return empty
    return digit_prefix + name if name[0].isdigit() else name


def snake_case_columns(labels: Sequence[str], digit_prefix: str = "c_") -> tuple[list[str], dict[str, str]]:
    """Unique snake_case names for ``labels`` and the mapping new name -> original label.

    Repeats get ``_2``, ``_3``... ("Tên", "Ten" -> "ten", "ten_2"), skipping names already taken.
    """
    base = [snake_case(label, digit_prefix) for label in labels]
    taken = set()
    names: list[str] = []
    for name in base:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        names.append(candidate)
    return names, dict(zip(names, labels, strict=True))


def rename_columns(table: pa.Table, digit_prefix: str = "c_") -> tuple[pa.Table, dict[str, str]]:
    """``table`` with snake_case column names, and the mapping new name -> original label."""
    names, mapping = snake_case_columns(table.column_names, digit_prefix)
    return table.rename_columns(names), mapping


def logical_type(data_type: pa.DataType) -> str:
    """The spec's column type of an Arrow type: boolean, integer, number, date, datetime or string."""
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_integer(data_type):
        return "integer"
    if pa.types.is_floating(data_type) or pa.types.is_decimal(data_type):
        return "number"
    if pa.types.is_date(data_type):
        return "date"
    if pa.types.is_timestamp(data_type):
        return "datetime"
    return "string"
