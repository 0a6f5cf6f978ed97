"""Ho Chi Minh City's 168 wards served the three ways agencies serve them (issue 14's shapes).

Real data (``samples.admin_units.hcmc_wards``): codes like "27676", latitudes like 10.969,
longitudes like 106.661, areas in km² like 15.682 -- exactly the values a Vietnamese-locale
re-read of the text "10.969" would turn into 10969.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from samples.admin_units import hcmc_wards

TITLE_ROWS = ["ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH", "DANH SÁCH PHƯỜNG, XÃ, ĐẶC KHU (từ ngày 01/07/2025)"]
FOOTER = [
    ["Ghi chú: diện tích theo Nghị quyết 1685/NQ-UBTVQH15 ngày 16/6/2025."],
    ["Nguồn: Sở Nội vụ Thành phố Hồ Chí Minh."],
    [None, None, None, None, "TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025"],
    ["Người lập biểu", None, None, None, "Thủ trưởng đơn vị"],
    ["(Ký, ghi rõ họ tên)", None, None, None, "(Ký tên, đóng dấu)"],
    ["Nguyễn Văn An", None, None, None, "Trần Thị Bình"],
]
FIRST_DATA_ROW = 5  # Excel row of the first ward: two title rows, a two-row header


def wards() -> list[dict[str, Any]]:
    return hcmc_wards().to_pylist()


def report_workbook(path: Path, footer: bool = True) -> Path:
    """The agency workbook: title rows, a merged two-row header, native numeric cells, a footer."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phường xã"
    for title in TITLE_ROWS:
        ws.append([title])
    ws.merge_cells("A1:F1")
    ws.merge_cells("A2:F2")
    ws.append(["Mã số", "Tên đơn vị", "Loại", "Tọa độ trung tâm", None, "Diện tích (km²)"])
    ws.append([None, None, None, "Vĩ độ", "Kinh độ", None])
    for cells in ("A3:A4", "B3:B4", "C3:C4", "D3:E3", "F3:F4"):
        ws.merge_cells(cells)
    for row in wards():
        ws.append(
            [int(row["ma"]), row["ten"], row["loai"], row["vi_do"], row["kinh_do"], row["dien_tich_km2"]]
        )
        for column in (4, 5):
            ws.cell(ws.max_row, column).number_format = "0.0000"
        ws.cell(ws.max_row, 6).number_format = "#,##0.000"  # shown "15,682" by a Vietnamese Excel
    if footer:
        ws.append([])
        for line in FOOTER:
            ws.append(line)
    wb.save(path)
    return path


def api_document() -> dict[str, Any]:
    """The agency JSON API: codes as JSON strings, coordinates and areas as JSON numbers."""
    records = [
        {"ma_so": r["ma"], "ten": r["ten"], "loai": r["loai"], "vi_do": r["vi_do"], "kinh_do": r["kinh_do"],
         "dien_tich_km2": r["dien_tich_km2"]}
        for r in wards()
    ]  # fmt: skip
    return {"ma_loi": 0, "du_lieu": {"tong_so": len(records), "danh_sach": records}}


TABLE_DDL = (
    "CREATE TABLE {name} (ma_so varchar(5) PRIMARY KEY, ten text NOT NULL, loai text, "
    "vi_do double precision, kinh_do double precision, dien_tich_km2 numeric(10,3))"
)
