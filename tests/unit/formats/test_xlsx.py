"""XLSX / XLS readers on real workbooks built here: merged multi-row headers, several sheets,
cached formula values, dates, Vietnamese text, zip bombs, DTDs and corrupt files."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from connectors.base import RawObject, file_object
from connectors.formats._excel_cells import format_has_time, render_number
from connectors.formats.base import FormatError, FormatOptions, ReadBatch, ReadInfo
from connectors.formats.xls import XlsReader
from connectors.formats.xlsx import XlsxReader, _scan_merges

SHEET1 = "xl/worksheets/sheet1.xml"


def save(wb: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite(data: bytes, member: str, edit: Callable[[bytes], bytes]) -> bytes:
    """The same zip with one member's bytes changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            dst.writestr(item.filename, edit(body) if item.filename == member else body)
    return out.getvalue()


def read(
    data: bytes, name: str = "bao-cao.xlsx", reader: Any = None, **options: Any
) -> tuple[list[ReadBatch], ReadInfo]:
    info = ReadInfo()
    batches = list(
        (reader or XlsxReader()).read(RawObject(name, "test://", data=data), FormatOptions(**options), info)
    )
    return batches, info


def rows(batches: list[ReadBatch]) -> list[dict[str, str | None]]:
    return [row for b in batches for row in b.table.to_pylist()]


def population_workbook() -> bytes:
    """A typical agency report: merged title, blank line, two header rows with merges, a gap row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Dân số"
    ws["A1"] = "BÁO CÁO DÂN SỐ NĂM 2024"
    ws.merge_cells("A1:F1")
    for ref, label in {
        "A3": "STT",
        "B3": "Phường\nxã",
        "C3": "Dân số",
        "E3": "Ngày cập nhật",
        "F3": "Ghi chú",
    }.items():
        ws[ref] = label
    ws["C4"], ws["D4"] = "Nam", "Nữ"
    for merged in ("A3:A4", "B3:B4", "C3:D3", "E3:E4", "F3:F4"):
        ws.merge_cells(merged)
    ws.append([1, "Bến Nghé", 12000, 13000.5, dt.date(2024, 3, 1), None])  # row 5
    ws.append([2, "Đa Kao", 0.30000000000000004, 1e-05, dt.datetime(2024, 3, 1, 8, 30), "  "])  # row 6
    # row 7 left empty
    ws.append([])
    ws.append([3, "Tân Định", 12345678901, True, dt.date(1999, 12, 31), "Sáp nhập"])  # row 8
    return save(wb)


def test_merged_two_row_header_gives_joined_labels_and_real_row_numbers() -> None:
    batches, info = read(population_workbook(), skip_rows=1, header_rows=2)

    labels = ["STT", "Phường xã", "Dân số - Nam", "Dân số - Nữ", "Ngày cập nhật", "Ghi chú"]
    assert info.header_labels == labels
    assert [b.table.column_names for b in batches] == [labels, labels]
    assert [(b.sheet, b.first_line, b.table.num_rows) for b in batches] == [
        ("Dân số", 5, 2),
        ("Dân số", 8, 1),
    ]
    assert all(b.rejected == [] for b in batches)
    assert rows(batches) == [
        dict(zip(labels, ["1", "Bến Nghé", "12000", "13000.5", "2024-03-01", None], strict=True)),
        dict(zip(labels, ["2", "Đa Kao", "0.3", "0.00001", "2024-03-01T08:30:00", "  "], strict=True)),
        dict(zip(labels, ["3", "Tân Định", "12345678901", "TRUE", "1999-12-31", "Sáp nhập"], strict=True)),
    ]
    assert all(t == "string" for b in batches for t in map(str, b.table.schema.types))


def test_leading_empty_rows_are_skipped_without_skip_rows_when_title_is_absent() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"], ws["C3"] = "Mã", "Tên"
    ws["B4"], ws["C4"] = "079", "Quận 1"
    batches, info = read(save(wb))
    assert info.header_labels == ["Mã", "Tên"]
    assert [(b.first_line, b.table.to_pylist()) for b in batches] == [(4, [{"Mã": "079", "Tên": "Quận 1"}])]


def test_formulas_give_cached_values_and_formula_like_text_is_data() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Số", "Gấp đôi", "Chưa tính", "Liên kết"])
    ws.append([21, "=A2*2", "=A2+1"])
    link = ws.cell(row=2, column=4)
    link.value = '=HYPERLINK("http://x.vn","Xem")'
    link.data_type = "s"  # text that looks like a formula
    data = rewrite(save(wb), SHEET1, lambda xml: xml.replace(b"<f>A2*2</f><v></v>", b"<f>A2*2</f><v>42</v>"))
    assert b"<v>42</v>" in zipfile.ZipFile(io.BytesIO(data)).read(SHEET1)  # the cached value is there

    batches, _ = read(data)
    assert rows(batches) == [
        {"Số": "21", "Gấp đôi": "42", "Chưa tính": None, "Liên kết": '=HYPERLINK("http://x.vn","Xem")'}
    ]


def three_sheet_workbook() -> bytes:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "Quận 1"
    first.append(["Phường", "Hộ"])
    first.append(["Bến Thành", 1500])
    wb.create_sheet("Trống")
    third = wb.create_sheet("Quận 3")
    third.append(["Phường", "Diện tích (km²)"])
    third.append(["Võ Thị Sáu", 2.12])
    third.append(["Xuân Hòa", 1.05])
    return save(wb)


def test_every_non_empty_sheet_is_read_and_batches_carry_the_sheet() -> None:
    batches, info = read(three_sheet_workbook())
    assert [(b.sheet, b.first_line, b.table.to_pylist()) for b in batches] == [
        ("Quận 1", 2, [{"Phường": "Bến Thành", "Hộ": "1500"}]),
        (
            "Quận 3",
            2,
            [
                {"Phường": "Võ Thị Sáu", "Diện tích (km²)": "2.12"},
                {"Phường": "Xuân Hòa", "Diện tích (km²)": "1.05"},
            ],
        ),
    ]
    assert info.header_labels == ["Phường", "Diện tích (km²)"]  # the sheet being read last


@pytest.mark.parametrize("sheet", ["Quận 3", 2, " quận 3 "])
def test_sheet_option_picks_one_sheet_by_name_or_index(sheet: str | int) -> None:
    batches, _ = read(three_sheet_workbook(), sheet=sheet)
    assert {b.sheet for b in batches} == {"Quận 3"}
    assert rows(batches)[1] == {"Phường": "Xuân Hòa", "Diện tích (km²)": "1.05"}


@pytest.mark.parametrize(
    ("sheet", "message"),
    [
        ("Quận 5", "bao-cao.xlsx: no sheet named 'Quận 5' (sheets: 'Quận 1', 'Trống', 'Quận 3')"),
        (3, "bao-cao.xlsx: no sheet index 3 (the workbook has 3 sheets)"),
        ("Trống", "bao-cao.xlsx: sheet 'Trống' has no data"),
    ],
)
def test_bad_or_empty_sheet_choice_is_a_format_error(sheet: str | int, message: str) -> None:
    with pytest.raises(FormatError) as exc:
        read(three_sheet_workbook(), sheet=sheet)
    assert str(exc.value) == message


def test_workbook_without_data_is_a_format_error() -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Tiêu đề"
    with pytest.raises(FormatError, match=r"^trong\.xlsx: no sheet has data after skipping 1 rows$"):
        read(save(wb), name="trong.xlsx", skip_rows=1)


def test_duplicate_and_missing_labels_get_unique_names_and_keep_originals() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Tên", "Tên", None, "Tên_2", "Dân số"])
    ws.merge_cells("E1:F1")  # one label merged over two columns in a single header row
    ws.append(["a", "b", "c", "d", "e", "f"])
    batches, info = read(save(wb))
    assert info.header_labels == ["Tên", "Tên", "", "Tên_2", "Dân số", "Dân số"]
    assert batches[0].table.column_names == ["Tên", "Tên_3", "column_3", "Tên_2", "Dân số", "Dân số_2"]
    assert rows(batches) == [dict(zip(batches[0].table.column_names, "abcdef", strict=True))]


def test_value_outside_the_header_columns_is_rejected_with_its_excel_row() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DS"
    ws["A1"] = "Danh sách"
    ws.append(["Mã", "Tên"])  # row 2
    ws.append(["01", "An"])  # row 3
    ws.append(["02", "Bình", None, "ghi chú lạc"])  # row 4: D is outside A:B
    ws.append(["03", "Chi"])  # row 5
    batches, _ = read(save(wb), skip_rows=1)
    assert [(b.first_line, b.table.to_pylist()) for b in batches] == [
        (3, [{"Mã": "01", "Tên": "An"}]),
        (5, [{"Mã": "03", "Tên": "Chi"}]),
    ]
    rejected = [r for b in batches for r in b.rejected]
    assert [(r.line, r.sheet, r.reason, r.raw) for r in rejected] == [
        (4, "DS", "value in column D, outside the table (A:B)", "02\tBình\t\tghi chú lạc")
    ]


def test_header_rows_zero_names_columns_by_position() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["x", None, "z"])
    ws.append(["p", "q"])
    batches, info = read(save(wb), header_rows=0)
    assert info.header_labels == ["", "", ""]
    assert batches[0].first_line == 1
    assert rows(batches) == [
        {"column_1": "x", "column_2": None, "column_3": "z"},
        {"column_1": "p", "column_2": "q", "column_3": None},
    ]


def test_large_sheet_is_batched_with_exact_first_lines(tmp_path: Any) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["n", "tên"])
    for i in range(2500):
        ws.append([i, f"Người {i}"])
    path = tmp_path / "lon.xlsx"
    wb.save(path)
    info = ReadInfo()
    batches = list(
        XlsxReader().read(
            file_object("lon.xlsx", path, source_uri="f://"), FormatOptions(batch_rows=1000), info
        )
    )
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(2, 1000), (1002, 1000), (2002, 500)]
    assert batches[2].table.to_pylist()[-1] == {"n": "2499", "tên": "Người 2499"}


def test_dates_times_and_number_rendering() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ngày", "giờ", "lúc", "số"])
    ws.append([dt.datetime(2024, 1, 15), dt.time(7, 45), dt.datetime(2024, 1, 15), -1234.5])
    ws["A2"].number_format = "dd/mm/yyyy"
    ws["C2"].number_format = "dd/mm/yyyy hh:mm"  # shows a time even at midnight
    batches, _ = read(save(wb))
    assert rows(batches) == [
        {"ngày": "2024-01-15", "giờ": "07:45:00", "lúc": "2024-01-15T00:00:00", "số": "-1234.5"}
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.1 + 0.2, "0.30000000000000004"),  # what the cell holds: the exact double, not Excel's display
        (10.969, "10.969"),
        (106.66123456789012, "106.66123456789012"),
        (1e-07, "0.0000001"),
        (1e20, "100000000000000000000"),
        (-0.0, "0"),
        (7, "7"),
    ],
)
def test_render_number_is_plain(value: float, text: str) -> None:
    assert render_number(value) == text
    assert float(text) == value  # reads back as the very same double


@pytest.mark.parametrize(
    ("fmt", "shows"),
    [("dd/mm/yyyy", False), ('dd "tháng" mm "năm" yyyy', False), ("[$-409]d-mmm-yy", False),
     ("h:mm AM/PM", True), ("[h]:mm", True), ("yyyy-mm-dd hh:mm:ss", True), ("mm:ss", True), (None, False)],
)  # fmt: skip
def test_format_has_time(fmt: str | None, shows: bool) -> None:
    assert format_has_time(fmt) is shows


# --- safety -----------------------------------------------------------------------------------------


def test_zip_bomb_by_compression_ratio_is_refused() -> None:
    padding = b" " * (30 * 2**20)  # 30 MiB of whitespace inside the sheet XML: deflates ~1000x
    data = rewrite(
        save(openpyxl.Workbook()), SHEET1, lambda xml: xml.replace(b"<sheetData", padding + b"<sheetData", 1)
    )
    assert len(data) < 200_000
    with pytest.raises(
        FormatError, match=r"^bomba\.xlsx: possible zip bomb: xl/worksheets/sheet1\.xml expands"
    ):
        read(data, name="bomba.xlsx")


def test_zip_bomb_by_total_size_is_refused() -> None:
    data = population_workbook()
    with pytest.raises(
        FormatError, match=r"^bao-cao\.xlsx: possible zip bomb: [\d,]+ bytes uncompressed \(limit 1,000\)$"
    ):
        read(data, reader=XlsxReader(max_uncompressed=1000))
    assert rows(read(data, skip_rows=1, header_rows=2)[0])  # the same file passes the default limits


def test_xml_with_a_dtd_is_refused() -> None:
    dtd = (
        b'<?xml version="1.0"?>\n<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
    )

    def add_dtd(xml: bytes) -> bytes:
        return dtd + (xml.split(b"?>", 1)[1].lstrip() if xml.startswith(b"<?xml") else xml)

    data = rewrite(save(openpyxl.Workbook()), SHEET1, add_dtd)
    with pytest.raises(FormatError, match=r"^x\.xlsx: xl/worksheets/sheet1\.xml declares a DTD"):
        read(data, name="x.xlsx")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^hong\.xlsx: not an XLSX file \(not a valid zip archive"),
        (b"Ma;Ten\n01;An\n", r"^hong\.xlsx: not an XLSX file \(not a valid zip archive"),
        (b"PK\x03\x04" + b"\x00" * 100, r"^hong\.xlsx: not an XLSX file \(not a valid zip archive"),
    ],
)
def test_non_zip_input_is_a_format_error(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read(data, name="hong.xlsx")


def test_truncated_and_foreign_zips_are_format_errors() -> None:
    good = population_workbook()
    with pytest.raises(FormatError, match=r"^hong\.xlsx: "):
        read(good[: len(good) // 2], name="hong.xlsx")
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "không phải Excel")
    with pytest.raises(
        FormatError, match=r"^hong\.xlsx: not an XLSX file \(a zip without \[Content_Types\]\.xml\)$"
    ):
        read(other.getvalue(), name="hong.xlsx")
    no_workbook = rewrite(good, "xl/workbook.xml", lambda xml: b"<oops")
    with pytest.raises(FormatError, match=r"^hong\.xlsx: not a readable XLSX workbook"):
        read(no_workbook, name="hong.xlsx")


def test_corrupt_sheet_xml_is_a_format_error_naming_file_and_sheet() -> None:
    data = rewrite(population_workbook(), SHEET1, lambda xml: xml.replace(b"</sheetData>", b"<row><c>"))
    with pytest.raises(FormatError, match=r"^bao-cao\.xlsx \(sheet 'Dân số'\): unreadable"):
        read(data)


def test_merge_scan_finds_a_tag_split_across_read_chunks() -> None:
    prefix = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/>'
    tag = b'<mergeCells count="2"><mergeCell ref="B1:C1"/><x:mergeCell ref="A1:A2"/></mergeCells>'
    filler = b" " * (2**20 - len(prefix) - 40)  # the first <mergeCell straddles the 1 MiB chunk boundary
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("s.xml", prefix + filler + tag + b"</worksheet>")
    raw = RawObject("m.xlsx", "test://", data=buf.getvalue())
    assert _scan_merges(raw, "s.xml") == [(1, 2, 1, 3), (1, 1, 2, 1)]


# --- legacy XLS ----------------------------------------------------------------------------------------
# xlwt is not available, so a minimal but genuine BIFF8 workbook (OLE2 container, SST, XF formats,
# MERGEDCELLS) is written here; xlrd reads it like any Excel 97-2003 file.


def _rec(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def write_xls(sheets: list[tuple[str, dict[tuple[int, int], Any], list[tuple[int, int, int, int]]]]) -> bytes:
    """sheets: (name, {(row, col): value} 0-based, merges as (first row, last row, first col, last col))."""
    strings: list[str] = []
    for _, cells, _ in sheets:
        strings += [v for v in cells.values() if isinstance(v, str) and v not in strings]

    def bof(kind: int) -> bytes:
        return _rec(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))

    font = _rec(
        0x0031,
        struct.pack("<HHHHHBBBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0, 5, 1) + "Arial".encode("utf-16-le"),
    )

    def xf(number_format: int, style: bool) -> bytes:
        return _rec(
            0x00E0,
            struct.pack("<HHHBBBBIIH", 0, number_format, 0xFFF5 if style else 1, 0x20, 0, 0, 0, 0, 0, 0x20C0),
        )

    # XF 15: general, 16: built-in date format 14 (m/d/yy), 17: built-in 22 (m/d/yy h:mm)
    xfs = b"".join(xf(0, True) for _ in range(15)) + xf(0, False) + xf(14, False) + xf(22, False)
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings
    )

    def sheet_stream(cells: dict[tuple[int, int], Any], merges: list[tuple[int, int, int, int]]) -> bytes:
        out = bof(0x0010)
        for (r, c), v in sorted(cells.items()):
            if isinstance(v, bool):
                out += _rec(0x0205, struct.pack("<HHHBB", r, c, 15, int(v), 0))
            elif isinstance(v, str):
                out += _rec(0x00FD, struct.pack("<HHHI", r, c, 15, strings.index(v)))
            elif isinstance(v, dt.datetime):
                serial = (v - dt.datetime(1899, 12, 30)).total_seconds() / 86400
                out += _rec(0x0203, struct.pack("<HHHd", r, c, 17, serial))
            elif isinstance(v, dt.date):
                out += _rec(0x0203, struct.pack("<HHHd", r, c, 16, float((v - dt.date(1899, 12, 30)).days)))
            else:
                out += _rec(0x0203, struct.pack("<HHHd", r, c, 15, float(v)))
        if merges:
            out += _rec(
                0x00E5, struct.pack("<H", len(merges)) + b"".join(struct.pack("<HHHH", *m) for m in merges)
            )
        return out + _rec(0x000A)

    def boundsheet(position: int, name: str) -> bytes:
        return _rec(0x0085, struct.pack("<IBBBB", position, 0, 0, len(name), 1) + name.encode("utf-16-le"))

    head = (
        bof(0x0005)
        + _rec(0x0042, struct.pack("<H", 1200))
        + _rec(0x0022, struct.pack("<H", 0))
        + font * 5
        + xfs
    )
    tail = _rec(0x00FC, sst) + _rec(0x000A)
    bodies = [sheet_stream(cells, merges) for _, cells, merges in sheets]
    position = len(head) + sum(len(boundsheet(0, name)) for name, _, _ in sheets) + len(tail)
    directory_of_sheets = b""
    for (name, _, _), body in zip(sheets, bodies, strict=True):
        directory_of_sheets += boundsheet(position, name)
        position += len(body)
    stream = head + directory_of_sheets + tail + b"".join(bodies)
    stream += b"\x00" * (max(4096, -(-len(stream) // 512) * 512) - len(stream))  # no mini stream needed
    return _ole2(stream)


def _ole2(stream: bytes, stream_name: str = "Workbook") -> bytes:
    """An OLE2 compound file holding one 'Workbook' stream: header, 1 FAT sector, 1 directory sector."""
    end, free, fat_sector, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    sectors = len(stream) // 512
    fat = [fat_sector, end, *range(3, 2 + sectors), end]
    fat += [free] * (128 - len(fat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", bytes.fromhex("d0cf11e0a1b11ae1"), b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6,
        b"\0" * 6, 0, 1, 1, 0, 4096, end, 0, end, 0,
    ) + struct.pack("<109I", 0, *([free] * 108))  # fmt: skip

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        fields = (raw, len(raw) if name else 0, kind, 1, none, none, child, b"\0" * 16, 0, 0, 0, start, size)
        return struct.pack("<64sHBBIII16sIQQII", *fields) + b"\0" * 4

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream_name, 2, none, 2, len(stream))
    directory += entry("", 0, none, 0, 0) * 2
    return header + struct.pack("<128I", *fat) + directory + stream


def population_xls_cells() -> dict[tuple[int, int], Any]:
    return {
        (0, 0): "BÁO CÁO",
        (2, 0): "STT", (2, 1): "Dân số", (2, 3): "Ngày", (2, 4): "Lúc", (2, 5): "Đạt",
        (3, 1): "Nam", (3, 2): "Nữ",
        (4, 0): 1, (4, 1): 1200, (4, 2): 1300.5, (4, 3): dt.date(2024, 3, 1),
        (4, 4): dt.datetime(2024, 3, 1, 8, 30), (4, 5): True,
        (6, 0): 2, (6, 1): 0.1 + 0.2, (6, 5): False,
    }  # fmt: skip


def population_xls() -> bytes:
    merges = [(2, 3, 0, 0), (2, 2, 1, 2), (2, 3, 3, 3), (2, 3, 4, 4), (2, 3, 5, 5)]
    return write_xls([("Dân số", population_xls_cells(), merges), ("Trống", {}, [])])


XLS_LABELS = ["STT", "Dân số - Nam", "Dân số - Nữ", "Ngày", "Lúc", "Đạt"]


@pytest.mark.parametrize("reader", [XlsReader(), XlsxReader()])  # an .xls named .xlsx is read too
def test_xls_with_merged_header_dates_and_gaps(reader: Any) -> None:
    batches, info = read(population_xls(), name="bao-cao.xls", reader=reader, skip_rows=1, header_rows=2)
    assert info.header_labels == XLS_LABELS
    assert [(b.sheet, b.first_line) for b in batches] == [("Dân số", 5), ("Dân số", 7)]
    assert rows(batches) == [
        dict(
            zip(XLS_LABELS, ["1", "1200", "1300.5", "2024-03-01", "2024-03-01T08:30:00", "TRUE"], strict=True)
        ),
        dict(zip(XLS_LABELS, ["2", "0.30000000000000004", None, None, None, "FALSE"], strict=True)),
    ]


def test_xlsx_named_xls_is_read_as_xlsx() -> None:
    batches, _ = read(three_sheet_workbook(), name="tai-ve.xls", reader=XlsReader(), sheet="Quận 1")
    assert rows(batches) == [{"Phường": "Bến Thành", "Hộ": "1500"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body><table><tr><td>1</td></tr></table>", "it is an HTML page saved as .xls"),
        ("Mã\tTên\n01\tAn\n".encode(), "it looks like a text file (CSV/TSV saved as .xls?)"),
    ],
)
def test_non_xls_file_is_a_format_error(data: bytes, message: str) -> None:
    with pytest.raises(FormatError) as exc:
        read(data, name="web.xls", reader=XlsReader())
    assert str(exc.value) == f"web.xls: not an XLS file (no OLE2 signature; {message})"


def test_corrupt_ole2_file_is_a_format_error() -> None:
    data = population_xls()
    with pytest.raises(FormatError, match=r"^hong\.xls: not a readable XLS workbook"):
        read(data[:700], name="hong.xls", reader=XlsReader())


def test_encrypted_workbook_is_named_as_such() -> None:
    data = _ole2(b"\x00" * 4096, stream_name="EncryptionInfo")  # how Excel wraps a password-protected .xlsx
    for reader, name in ((XlsReader(), "mat-khau.xls"), (XlsxReader(), "mat-khau.xlsx")):
        with pytest.raises(FormatError) as exc:
            read(data, name=name, reader=reader)
        assert (
            str(exc.value)
            == f"{name}: the workbook is password-protected (encrypted); an unprotected copy is needed"
        )


# --- report-shaped sheets read without hints ---------------------------------------------------------

REPORT_LABELS = [
    "Mã số",
    "Tên đơn vị",
    "Tọa độ trung tâm - Vĩ độ",
    "Tọa độ trung tâm - Kinh độ",
    "Diện tích (km²)",
]
REPORT_ROWS = [
    ["26734", "Phường Sài Gòn", "10.7769", "106.7009", "1.23"],
    ["26737", "Phường Tân Định", "10.7892", "106.6897", "0.62"],
    ["27004", "Xã Bình Chánh", "10.6879", "106.5684", "1.65"],
]


def report_workbook(column_numbers: bool = False, footer: bool = True) -> bytes:
    """Two merged title rows, a two-row merged header, numeric cells, a totals row, notes, signatures."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phường xã"
    ws.append(["ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"])
    ws.append(["DANH SÁCH PHƯỜNG, XÃ VÀ TỌA ĐỘ TRUNG TÂM"])
    ws.append(["Mã số", "Tên đơn vị", "Tọa độ trung tâm", None, "Diện tích (km²)"])
    ws.append([None, None, "Vĩ độ", "Kinh độ", None])
    for cells in ("A1:E1", "A2:E2", "A3:A4", "B3:B4", "C3:D3", "E3:E4"):
        ws.merge_cells(cells)
    if column_numbers:
        ws.append([1, 2, 3, 4, 5])
    for code, name, lat, lon, area in REPORT_ROWS:
        ws.append([code, name, float(lat), float(lon), float(area)])
    if footer:
        ws.append(["Tổng cộng", None, None, None, 3.5])
        ws.merge_cells(f"A{ws.max_row}:B{ws.max_row}")
        ws.append(["Ghi chú: số liệu theo Nghị quyết 1685/NQ-UBTVQH15"])
        ws.append([])
        ws.append([None, None, None, "TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025"])
        ws.append(["Người lập biểu", None, None, "KT. GIÁM ĐỐC"])
        ws.append(["(Ký, ghi rõ họ tên)", None, None, "(Ký tên, đóng dấu)"])
        ws.append([])
        ws.append(["Nguyễn Văn An", None, None, "Trần Thị Bình"])
    return save(wb)


def skipped(info: ReadInfo) -> list[tuple[int, str, str]]:
    return [(s.line, s.kind, s.text) for s in info.skipped]


REPORT_FOOTER = [
    (8, "total", "Tổng cộng\t\t\t\t3.5"),
    (9, "footer", "Ghi chú: số liệu theo Nghị quyết 1685/NQ-UBTVQH15"),
    (11, "footer", "TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025"),
    (12, "footer", "Người lập biểu\t\t\tKT. GIÁM ĐỐC"),
    (13, "footer", "(Ký, ghi rõ họ tên)\t\t\t(Ký tên, đóng dấu)"),
    (15, "footer", "Nguyễn Văn An\t\t\tTrần Thị Bình"),
]


def test_report_sheet_without_hints_finds_titles_header_and_footer() -> None:
    batches, info = read(report_workbook())
    assert info.header_labels == REPORT_LABELS
    assert [(b.sheet, b.first_line, b.table.num_rows, b.rejected) for b in batches] == [
        ("Phường xã", 5, 3, [])
    ]
    assert rows(batches) == [dict(zip(REPORT_LABELS, row, strict=True)) for row in REPORT_ROWS]
    assert [b.line_numbers().tolist() for b in batches] == [[5, 6, 7]]
    assert batches[0].kinds["Diện tích (km²)"].to_pylist() == [2, 2, 2]  # still native numbers
    assert skipped(info) == [
        (1, "title", "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"),
        (2, "title", "DANH SÁCH PHƯỜNG, XÃ VÀ TỌA ĐỘ TRUNG TÂM"),
        *REPORT_FOOTER,
    ]
    assert {s.sheet for s in info.skipped} == {"Phường xã"}
    assert info.layout == {
        "Phường xã": {
            "skip_rows": 2,
            "header_rows": 2,
            "header_lines": [3, 4],
            "column_numbers_line": None,
            "footer_rows": 6,
            "detected": ["skip_rows", "header_rows", "footer_rows"],
            "first_column": 1,
        }
    }


def test_report_sheet_with_a_row_of_column_numbers() -> None:
    batches, info = read(report_workbook(column_numbers=True, footer=False))
    assert info.header_labels == REPORT_LABELS
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(6, 3)]
    assert skipped(info)[2:] == [(5, "column_numbers", "1\t2\t3\t4\t5")]
    assert info.layout["Phường xã"]["column_numbers_line"] == 5
    assert info.layout["Phường xã"]["footer_rows"] == 0


def test_given_layout_is_used_as_given_and_footer_rows_zero_keeps_the_footer() -> None:
    batches, info = read(report_workbook(), skip_rows=2, header_rows=2, footer_rows=0)
    assert info.header_labels == REPORT_LABELS
    assert info.layout["Phường xã"]["detected"] == []
    assert skipped(info) == [(1, "title", "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"),
                             (2, "title", "DANH SÁCH PHƯỜNG, XÃ VÀ TỌA ĐỘ TRUNG TÂM")]  # fmt: skip
    # without footer detection the footer is read as it always was: data rows and rejected rows
    assert [r["Mã số"] for r in rows(batches)] == ["26734", "26737", "27004", "Tổng cộng",
        "Ghi chú: số liệu theo Nghị quyết 1685/NQ-UBTVQH15", None, "Người lập biểu", "(Ký, ghi rõ họ tên)",
        "Nguyễn Văn An"]  # fmt: skip
    assert [b.line_numbers().tolist() for b in batches] == [[5, 6, 7, 8, 9], [11, 12, 13], [15]]
    assert [r.line for b in batches for r in b.rejected] == []
    batches, info = read(report_workbook(), footer_rows=2)
    assert [s[0] for s in skipped(info)] == [1, 2, 13, 15]
    assert info.layout["Phường xã"]["detected"] == ["skip_rows", "header_rows"]
    assert info.layout["Phường xã"]["footer_rows"] == 2


def test_signature_outside_the_table_is_footer_not_rejected() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DS"
    ws.append(["Mã", "Tên"])
    ws.append(["01", "An"])
    ws.append(["02", "Bình"])
    ws.append(["Người lập biểu", None, None, "Thủ trưởng đơn vị"])  # D is outside A:B
    ws.append(["Nguyễn Văn An", None, None, "Trần Thị Bình"])
    batches, info = read(save(wb))
    assert rows(batches) == [{"Mã": "01", "Tên": "An"}, {"Mã": "02", "Tên": "Bình"}]
    assert [r for b in batches for r in b.rejected] == []
    assert skipped(info) == [
        (4, "footer", "Người lập biểu\t\t\tThủ trưởng đơn vị"),
        (5, "footer", "Nguyễn Văn An\t\t\tTrần Thị Bình"),
    ]


def test_notes_row_in_the_middle_of_the_data_stays_data() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Mã", "Tên", "Số hộ"])
    ws.append(["01", "An", 3])
    ws.append(["Ghi chú"])
    ws.append(["02", "Bình", 4])
    batches, info = read(save(wb))
    assert [r["Mã"] for r in rows(batches)] == ["01", "Ghi chú", "02"]
    assert info.skipped == []
    assert info.layout[ws.title]["footer_rows"] == 0


def test_footer_after_many_batches(tmp_path: Any) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["BÁO CÁO SỐ HỘ"])
    ws.append(["n", "tên"])
    for i in range(2010):
        ws.append([i, f"Người {i}"])
    ws.append(["Tổng cộng", 2010])
    ws.append(["Người lập biểu"])
    path = tmp_path / "lon.xlsx"
    wb.save(path)
    info = ReadInfo()
    raw = file_object("lon.xlsx", path, source_uri="f://")
    batches = list(XlsxReader().read(raw, FormatOptions(batch_rows=1000), info))
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(3, 1000), (1003, 1000), (2003, 10)]
    assert batches[-1].table.to_pylist()[-1] == {"n": "2009", "tên": "Người 2009"}
    assert skipped(info) == [(1, "title", "BÁO CÁO SỐ HỘ"), (2013, "total", "Tổng cộng\t2010"),
                             (2014, "footer", "Người lập biểu")]  # fmt: skip


def test_xls_report_without_hints() -> None:
    cells = dict(population_xls_cells())
    cells[(8, 0)] = "Tổng cộng"
    cells[(8, 1)] = 1200.3
    cells[(9, 0)] = "Người lập biểu"
    merges = [(2, 3, 0, 0), (2, 2, 1, 2), (2, 3, 3, 3), (2, 3, 4, 4), (2, 3, 5, 5)]
    batches, info = read(write_xls([("Dân số", cells, merges)]), name="bao-cao.xls", reader=XlsReader())
    assert info.header_labels == XLS_LABELS
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(5, 1), (7, 1)]
    assert skipped(info) == [(1, "title", "BÁO CÁO"), (9, "total", "Tổng cộng\t1200.3"),
                             (10, "footer", "Người lập biểu")]  # fmt: skip
