"""Whole numbers in a zeros-only number format: a code only when the format can show a leading zero."""

from __future__ import annotations

import io

import openpyxl
import pytest

from connectors.base import RawObject
from connectors.formats._excel_cells import cell_of, code_text
from connectors.formats.base import CellKind, FormatOptions, ReadInfo
from connectors.formats.xlsx import XlsxReader


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        (0, "0", None),  # Excel's built-in integer format: a number, never a code
        (42, "0", None),
        (1234.0, "0", None),
        (5, "00", "05"),
        (1234, "00000", "01234"),
        (27676, "00000", "27676"),
    ],
)
def test_code_text_needs_a_format_that_can_show_a_leading_zero(value, number_format, expected):
    assert code_text(value, number_format) == expected


def test_integer_format_cell_is_a_native_number():
    assert cell_of(42, "0") == ("42", CellKind.NUMBER)
    assert cell_of(42, "000") == ("042", CellKind.STRING)


def test_read_integer_formatted_cells_as_numbers():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Số hộ"])
    for value in (0, 12, 345):
        ws.append([value])
        ws.cell(ws.max_row, 1).number_format = "0"
    buffer = io.BytesIO()
    wb.save(buffer)
    raw = RawObject("so-ho.xlsx", "file:///so-ho.xlsx", None, {}, data=buffer.getvalue())

    batches = list(XlsxReader().read(raw, FormatOptions(header_rows=1, skip_rows=0), ReadInfo()))

    assert batches[0].table.column("Số hộ").to_pylist() == ["0", "12", "345"]
    assert batches[0].kinds["Số hộ"].to_pylist() == [CellKind.NUMBER] * 3
