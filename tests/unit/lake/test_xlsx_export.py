"""The Excel download, read back with openpyxl (an independent reader: it parses the XML, it does
not share the writer's conversions): every cell is the source value with its type, the data
dictionary is the second sheet, and a version that does not fit in a sheet gets no workbook."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lake.exports import build_version
from lake.xlsx_export import EXCEL_MAX_CELL_CHARS, XlsxSkipped, fits, write_xlsx

HCMC = ZoneInfo("Asia/Ho_Chi_Minh")
SCHEMA = pa.schema(
    [
        ("ten", pa.string()),  # Vietnamese text, formula-like text, control characters
        ("ma", pa.string()),  # codes with leading zeros
        ("so", pa.int64()),
        ("ty_le", pa.float64()),
        ("gia", pa.decimal128(12, 2)),
        ("ngay", pa.date32()),
        ("luc", pa.timestamp("us", tz="UTC")),
        ("co", pa.bool_()),
    ]
)
COLUMNS = [
    {"name": "ten", "label": "Tên trạm", "description": "Tên đầy đủ", "type": "string"},
    {"name": "ma", "label": "Mã phường", "description": "Mã 5 chữ số, giữ số 0 ở đầu"},
    {"name": "so", "label": "=Số cổng"},  # a label that looks like a formula stays text too
]

TRICKY = ["=1+1", "+84 90 123", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")', "_x0041_", "a\x01b",
          " khoảng trắng ", "Thủ Đức", "#N/A", "TRUE"]  # fmt: skip
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
text = st.one_of(
    st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " ,.-/()'\"\t\n\r", max_size=40),
    st.sampled_from(TRICKY),
    st.text(max_size=20),  # any Unicode, control characters included
)
code = st.from_regex(r"\A0[0-9]{1,7}\Z")
integer = st.one_of(st.integers(-(10**15) + 1, 10**15 - 1), st.integers(-(2**63), 2**63 - 1))
number = st.floats(allow_subnormal=False)  # NaN and infinities included
decimal = st.decimals(min_value=Decimal("-9999999999.99"), max_value=Decimal("9999999999.99"), places=2)
date = st.dates(min_value=dt.date(1800, 1, 1))
moment = st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(9998, 12, 31),
                      timezones=st.just(dt.UTC))  # fmt: skip
VALUES = [text, code, integer, number, decimal, date, moment, st.booleans()]


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(0, 25))
    arrays = []
    for field, values in zip(SCHEMA, VALUES, strict=True):
        column = draw(st.lists(st.none() | values, min_size=rows, max_size=rows))
        arrays.append(pa.array(column, field.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def excel_reads(text: str) -> str:
    """What Excel shows for a stored string: `_xHHHH_` is a character (ECMA-376 ST_Xstring);
    openpyxl hands the stored form back as it is."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def check_cell(cell: Any, value: Any, data_type: pa.DataType) -> None:
    where = f"{cell.coordinate}: {value!r}"
    if value is None or value == "":
        assert cell.value is None, where
        return
    if pa.types.is_string(data_type):
        assert cell.data_type == "s" and cell.number_format == "@", where
        assert excel_reads(cell.value) == value, where
    elif pa.types.is_boolean(data_type):
        assert cell.data_type == "b" and cell.value is value, where
    elif pa.types.is_integer(data_type):
        if abs(value) < 10**15:  # Excel keeps 15 digits: longer integers are text
            assert cell.data_type == "n" and type(cell.value) is int and cell.value == value, where
        else:
            assert cell.data_type == "s" and cell.value == str(value), where
    elif pa.types.is_floating(data_type):
        if value != value or value in (float("inf"), float("-inf")):  # no such Excel number
            assert cell.data_type == "s" and cell.value == repr(value), where
        else:
            assert cell.data_type == "n" and cell.value == value, where  # exact, every digit
    elif pa.types.is_decimal(data_type):
        assert cell.data_type == "n" and cell.number_format == "0.00", where
        assert cell.value == float(value), where
    elif pa.types.is_date(data_type):
        if value < dt.date(1900, 1, 1):  # before Excel's calendar: text
            assert cell.data_type == "s" and cell.value == value.strftime("%d/%m/") + f"{value.year:04d}"
        else:
            assert cell.is_date and cell.number_format == "dd/mm/yyyy", where
            assert cell.value == dt.datetime.combine(value, dt.time()), where
    elif pa.types.is_timestamp(data_type):
        assert cell.is_date and cell.number_format == "dd/mm/yyyy hh:mm:ss", where
        local = value.astimezone(HCMC).replace(tzinfo=None)  # the city's wall-clock time
        assert abs(cell.value - local) <= dt.timedelta(milliseconds=1), where  # Excel's precision
    else:
        raise AssertionError(f"untested type {data_type}")


def build(tmp_path: Path, table: pa.Table, **options: Any) -> Any:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "clean.parquet"
    pq.write_table(table, source)
    return build_version(source, tmp_path / "out", "tram-sac", part_rows=1000, columns=COLUMNS, **options)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_every_cell_reads_back_as_its_source_value_and_type(tmp_path_factory, table):
    tmp_path = tmp_path_factory.mktemp("xlsx")
    built = build(tmp_path, table)
    [xlsx] = [f for f in built.extras if f.kind == "xlsx"]
    assert xlsx.name == "tram-sac.xlsx" and xlsx.rows == table.num_rows and not built.skipped
    book = openpyxl.load_workbook(xlsx.path)  # as an Excel user's tools would: the file, no hints
    assert book.sheetnames == ["Dữ liệu", "Từ điển dữ liệu"]
    sheet = book["Dữ liệu"]
    header = next(sheet.iter_rows(min_row=1, max_row=1))
    assert [c.value for c in header] == [d["label"] for d in built.dictionary]
    assert [c.value for c in header][:3] == ["Tên trạm", "Mã phường", "=Số cổng"]
    assert all(c.data_type == "s" and c.font.b for c in header)  # labels are text, bold
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:H{table.num_rows + 1}"
    rows = list(sheet.iter_rows(min_row=2, max_row=table.num_rows + 1, max_col=len(SCHEMA)))
    assert len(rows) == table.num_rows
    for cells, values in zip(rows, table.to_pylist(), strict=True):
        for cell, field in zip(cells, SCHEMA, strict=True):
            check_cell(cell, values[field.name], field.type)
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)  # no formula anywhere
    widths = [sheet.column_dimensions[c].width for c in "ABCDEFGH"]
    assert all(8 <= w <= 50 for w in widths) and widths[5] >= 12  # a date fits its column


def test_dictionary_sheet_is_the_data_dictionary(tmp_path):
    table = pa.table({"ten": ["Bến Thành"], "ma": ["00123"], "so": pa.array([4], pa.int64())})
    built = build(tmp_path, table)
    [xlsx] = [f for f in built.extras if f.kind == "xlsx"]
    sheet = openpyxl.load_workbook(xlsx.path)["Từ điển dữ liệu"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Tên cột", "Nhãn tiếng Việt", "Kiểu dữ liệu", "Mô tả", "Cho phép để trống")
    assert rows[1:] == [
        ("ten", "Tên trạm", "string", "Tên đầy đủ", "Có"),
        ("ma", "Mã phường", "string", "Mã 5 chữ số, giữ số 0 ở đầu", "Có"),
        ("so", "=Số cổng", "integer", None, "Có"),
    ]
    assert [(d["column"], d["label"], d["type"]) for d in built.dictionary] == [r[:3] for r in rows[1:]]
    assert sheet["B4"].data_type == "s"  # "=Số cổng" is no formula
    data = openpyxl.load_workbook(xlsx.path)["Dữ liệu"]
    assert data["B2"].value == "00123" and data["C2"].value == 4  # code as text, number as number


def test_above_the_row_limit_there_is_no_workbook(tmp_path):
    table = pa.table({"ma": [f"{i:05d}" for i in range(4)]})
    over = build(tmp_path / "over", table, xlsx_max_rows=3)
    assert [f.kind for f in over.extras] == ["csv", "dictionary"]
    assert over.skipped == {"xlsx": XlsxSkipped("rows", 4, 3)}
    assert not list((tmp_path / "over").rglob("*.xlsx"))
    at = build(tmp_path / "at", table, xlsx_max_rows=4)
    assert [f.kind for f in at.extras] == ["csv", "xlsx", "dictionary"] and not at.skipped
    off = build(tmp_path / "off", table, xlsx_file=False)
    assert [f.kind for f in off.extras] == ["csv", "dictionary"] and not off.skipped


def test_excel_limits_rows_columns_and_cell_length(tmp_path):
    assert fits(1_048_575, 16_384, max_rows=2_000_000) is None  # one header row + 1,048,575 rows
    assert fits(1_048_576, 1, max_rows=2_000_000) == XlsxSkipped("rows", 1_048_576, 1_048_575)
    assert fits(10, 16_385, max_rows=200_000) == XlsxSkipped("columns", 16_385, 16_384)
    source = tmp_path / "long.parquet"
    pq.write_table(pa.table({"ghi_chu": ["x" * EXCEL_MAX_CELL_CHARS]}), source)
    dictionary = [{"column": "ghi_chu", "label": "Ghi chú"}]
    assert write_xlsx(source, tmp_path / "ok.xlsx", dictionary, max_rows=10) is None
    assert openpyxl.load_workbook(tmp_path / "ok.xlsx")["Dữ liệu"]["A2"].value == "x" * EXCEL_MAX_CELL_CHARS
    pq.write_table(pa.table({"ghi_chu": ["ngắn", "x" * (EXCEL_MAX_CELL_CHARS + 1)]}), source)
    too_long = write_xlsx(source, tmp_path / "long.xlsx", dictionary, max_rows=10)
    assert too_long == XlsxSkipped("cell_chars", EXCEL_MAX_CELL_CHARS + 1, EXCEL_MAX_CELL_CHARS)
    assert not (tmp_path / "long.xlsx").exists()


@pytest.mark.parametrize("rows", [0, 1])
def test_an_empty_or_one_row_table_still_opens(tmp_path, rows):
    table = pa.table({"ma": pa.array(["007"][:rows], pa.string())})
    built = build(tmp_path, table)
    [xlsx] = [f for f in built.extras if f.kind == "xlsx"]
    sheet = openpyxl.load_workbook(xlsx.path)["Dữ liệu"]
    assert [[c.value for c in r] for r in sheet.iter_rows()] == [["Mã phường"], ["007"]][: rows + 1]
