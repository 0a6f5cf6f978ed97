"""Column labels to ASCII snake_case."""

from __future__ import annotations

import pyarrow as pa
import pytest

from cleaning.columns import rename_columns, snake_case, snake_case_columns


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Họ và tên", "ho_va_ten"),
        ("Số CCCD/CMND", "so_cccd_cmnd"),
        ("Đơn vị (VNĐ)", "don_vi_vnd"),
        ("Ngày cấp", "ngay_cap"),
        ("Địa chỉ thường trú", "dia_chi_thuong_tru"),
        ("Tỷ lệ %", "ty_le"),
        ("  Mã số thuế  ", "ma_so_thue"),
        ("maSoThue", "ma_so_thue"),
        ("Quận/Huyện", "quan_huyen"),
        ("2024", "c_2024"),
        ("1. Tên đơn vị", "c_1_ten_don_vi"),
        ("", "column"),
        ("???", "column"),
        ("Giá trị\n(triệu đồng)", "gia_tri_trieu_dong"),
    ],
)
def test_snake_case(label: str, expected: str) -> None:
    assert snake_case(label) == expected


def test_duplicates_get_numbered_and_mapping_keeps_originals() -> None:
    names, mapping = snake_case_columns(["Tên", "Ten", "tên ", "Tên_2", "STT"])
    assert names == ["ten", "ten_2", "ten_3", "ten_2_2", "stt"]
    assert mapping == {"ten": "Tên", "ten_2": "Ten", "ten_3": "tên ", "ten_2_2": "Tên_2", "stt": "STT"}
    assert len(set(names)) == len(names)


def test_digit_prefix_is_configurable() -> None:
    names, _ = snake_case_columns(["2023", "2024"], digit_prefix="nam_")
    assert names == ["nam_2023", "nam_2024"]


def test_rename_columns_on_table() -> None:
    table = pa.table({"Họ và tên": ["An"], "Ngày sinh": ["01/01/2000"], "Họ và tên ": ["Bình"]})
    renamed, mapping = rename_columns(table)
    assert renamed.column_names == ["ho_va_ten", "ngay_sinh", "ho_va_ten_2"]
    assert mapping["ho_va_ten_2"] == "Họ và tên "
    assert renamed.column("ho_va_ten_2").to_pylist() == ["Bình"]
