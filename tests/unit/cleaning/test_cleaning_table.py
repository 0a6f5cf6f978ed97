"""The whole sequence on a table, from Windows-1258 bytes to typed, cleaned columns."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.csv as pv
import pytest

from citydata.kernels.encoding import decode_bytes
from cleaning.columns import rename_columns
from cleaning.table import clean_table

CSV = (
    "Họ và tên,Số tiền (VNĐ),Ngày cấp,Ghi chú\n"
    '  Nguyễn   Văn An ,"1.234.567,89",05/03/2024,Đã xử lý\n'
    "Trần Thị Bình,N/A,31/02/2024,không có\n"
    'Lê Hoàng Cường,"12,5",ngày 6 tháng 3 năm 2024,#VALUE!\n'
    'Phạm Minh Đức,abc,,"  Chờ   duyệt "\n'
)


def test_cp1258_file_to_clean_table() -> None:
    decoded = decode_bytes(CSV.encode("cp1258-nfc"))
    assert decoded.encoding == "cp1258-nfc"
    raw = pv.read_csv(io.BytesIO(decoded.text.encode("utf-8")))
    table, mapping = rename_columns(raw)
    assert mapping["so_tien_vnd"] == "Số tiền (VNĐ)"
    table, issues = clean_table(table, numbers=["so_tien_vnd"], dates=["ngay_cap"])

    assert table.column("ho_va_ten").to_pylist() == [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Hoàng Cường",
        "Phạm Minh Đức",
    ]
    assert table.schema.field("so_tien_vnd").type == pa.float64()
    assert table.column("so_tien_vnd").to_pylist() == [1234567.89, None, 12.5, None]
    assert table.schema.field("ngay_cap").type == pa.date32()
    assert table.column("ngay_cap").to_pylist() == [dt.date(2024, 3, 5), None, dt.date(2024, 3, 6), None]
    assert table.column("ghi_chu").to_pylist() == ["Đã xử lý", None, None, "Chờ duyệt"]
    assert [(i.row, i.column, i.reason) for i in issues] == [
        (1, "ngay_cap", "invalid calendar date"),
        (2, "ghi_chu", "excel error value"),
        (3, "so_tien_vnd", "not a number (locale vi)"),
    ]


def test_unknown_columns_are_rejected() -> None:
    with pytest.raises(KeyError):
        clean_table(pa.table({"a": ["1"]}), numbers=["b"])
