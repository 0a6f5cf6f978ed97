"""Code-like headers under a merged parent: "Thông tin chung - Mã đơn vị" is a column of codes."""

from __future__ import annotations

import pytest

from cleaning.columns import snake_case
from cleaning.identifiers import is_code_name


@pytest.mark.parametrize(
    "label",
    [
        "Mã đơn vị",
        "Thông tin chung - Mã đơn vị",  # a two-row header: the parent, then the column's own label
        "Tọa độ trung tâm - Mã hồ sơ",
        "Mã định danh - Cấp xã",  # a code-like parent over its parts
        "Kết quả - Số hiệu",
    ],
)
def test_a_code_label_in_any_header_line_makes_a_code_column(label):
    assert is_code_name(snake_case(label), label)


@pytest.mark.parametrize(
    "label", ["Dân số", "Thông tin chung - Dân số", "Số liệu năm 2024 - Số hộ", "Tọa độ trung tâm - Vĩ độ"]
)
def test_other_labels_are_not_codes(label):
    assert not is_code_name(snake_case(label), label)


def test_unique_fixed_width_amounts_under_a_quantity_header_are_not_codes() -> None:
    import pyarrow as pa

    from cleaning.identifiers import is_quantity_name, looks_like_codes

    amounts = pa.array([str(v) for v in range(123_456_789_000, 123_456_789_070, 7)])
    assert looks_like_codes(amounts) and not looks_like_codes(amounts, fixed_width=False)
    assert is_quantity_name("kinh_phi_dong", "Kinh phí (đồng)") and is_quantity_name("x", "Diện tích (km²)")
    assert not is_quantity_name("ma_so", "Mã số") and not is_quantity_name("ten", "Tên đơn vị")
