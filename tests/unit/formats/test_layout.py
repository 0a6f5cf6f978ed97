"""The pure layout detection: titles, header rows, column numbers and footers of report-shaped tables."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from connectors.formats.base import CellKind
from connectors.formats.layout import (
    Head,
    Row,
    detect_head,
    fold,
    footer_kind,
    footer_start,
    is_column_numbers,
)

N, D = CellKind.NUMBER, CellKind.DATE


def csv_rows(text: str, delimiter: str = ";") -> list[Row]:
    """Records of a CSV export (positions are record indexes, as the CSV reader gives them)."""
    return [Row(i, line.split(delimiter)) for i, line in enumerate(text.strip("\n").split("\n"))]


def sheet_rows(cells: Sequence[Sequence[object]]) -> list[Row]:
    """Sheet rows from row 1: str is a text cell, int/float a native number (CellKind.NUMBER)."""
    out = []
    for line, values in enumerate(cells, start=1):
        texts = [None if v is None else str(v) for v in values]
        kinds = [N if isinstance(v, int | float) else 0 for v in values]
        out.append(Row(line, texts, kinds if any(kinds) else None))
    return out


# --- head: plain tables stay as they were -----------------------------------------------------------


def test_plain_table_is_one_header_row_at_the_top() -> None:
    rows = csv_rows(
        "Mã;Họ và tên;Phường xã;Số tiền\n"
        "01;Nguyễn Văn An;Phường Bến Nghé;1.234,5\n"
        "02;Trần Thị Bích;Phường Đa Kao;12.000\n"
    )
    assert detect_head(rows) == Head(top=0, bottom=0, column_numbers=None, titles=())


def test_plain_sheet_with_native_numbers() -> None:
    rows = sheet_rows([["Phường", "Hộ", "Diện tích"], ["Bến Thành", 1500, 0.93], ["Đa Kao", 1200, 0.99]])
    assert detect_head(rows) == Head(1, 1, None, ())


def test_all_text_list_has_one_header_row() -> None:
    rows = csv_rows(
        "Họ tên;Địa chỉ;Ghi chú\nNguyễn Văn An;12 Lê Lợi;\nTrần Thị Bích;3 Hai Bà Trưng;chuyển đi\n"
    )
    assert detect_head(rows) == Head(0, 0, None, ())


def test_header_with_blank_labels_and_a_plain_first_row_of_numbers() -> None:
    rows = csv_rows("Tên,Tên, Ghi  chú ,,Tên_2\na,b,c,d,e\n", ",")
    assert detect_head(rows) == Head(0, 0, None, ())
    rows = csv_rows("a,b,c\n1,2,3\n4,5,6\n", ",")  # 1 2 3 is data in a plain table
    assert detect_head(rows) == Head(0, 0, None, ())


def test_blank_rows_above_the_header_are_not_titles() -> None:
    rows = [
        Row(1, []),
        Row(2, [None, None]),
        *sheet_rows([[], [], [None, "Mã", "Tên"], [None, "079", "Quận 1"]])[2:],
    ]
    assert detect_head(rows) == Head(3, 3, None, ())


def test_nothing_but_blank_rows() -> None:
    assert detect_head(csv_rows(";;\n ; ;\n")) is None


# --- head: titles -----------------------------------------------------------------------------------


def test_one_title_row() -> None:
    rows = csv_rows("DANH SÁCH PHƯỜNG, XÃ;;\nMã;Tên;Diện tích\n26734;Phường Sài Gòn;1,2\n")
    assert detect_head(rows) == Head(1, 1, None, (0,))


def test_two_title_rows_merged_across_the_sheet() -> None:
    rows = sheet_rows(
        [
            ["ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"],
            ["DANH SÁCH PHƯỜNG, XÃ"],
            [],
            ["Mã", "Tên", "Diện tích"],
            ["26734", "Phường Sài Gòn", 1.2],
        ]
    )
    merges = [(1, 1, 1, 3), (2, 1, 2, 3)]
    assert detect_head(rows, merges) == Head(4, 4, None, (1, 2))


def test_official_heading_two_cells_far_apart_is_a_title() -> None:
    rows = csv_rows(
        "ỦY BAN NHÂN DÂN;;;CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "SỞ NỘI VỤ;;;Độc lập - Tự do - Hạnh phúc\n"
        "Số: 12/BC-SNV;;;TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025\n"
        "Đơn vị tính: người;;;\n"
        "STT;Phường;Đơn vị tính;Dân số\n"
        "1;Bến Nghé;người;12000\n"
    )
    assert detect_head(rows) == Head(4, 4, None, (0, 1, 2, 3))


def test_given_skip_rows_start_the_header_at_the_first_non_empty_row() -> None:
    rows = csv_rows("Mã;Tên\n01;An\n")
    assert detect_head(rows, skip_given=True) == Head(0, 0, None, ())
    assert detect_head(rows, skip_given=True, header_rows=0) == Head(0, -1, None, ())


def test_given_header_rows_are_used_as_given() -> None:
    rows = csv_rows("BÁO CÁO;;\nMã;Tên;Số\n;x;y\n1;a;2\n")
    assert detect_head(rows, header_rows=2) == Head(1, 2, None, (0,))
    assert detect_head(rows, header_rows=0) == Head(1, 0, None, (0,))


# --- head: multi-row headers ---------------------------------------------------------------------------

WARDS: list[list[object]] = [
    ["ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"],
    ["DANH SÁCH PHƯỜNG, XÃ"],
    ["Mã số", "Tên đơn vị", "Tọa độ trung tâm", None, "Diện tích (km²)"],
    [None, None, "Vĩ độ", "Kinh độ", None],
    ["26734", "Phường Sài Gòn", 10.7769, 106.7009, 1.23],
    ["26737", "Phường Tân Định", 10.7892, 106.6897, 0.62],
]


def test_merged_two_row_header_in_a_sheet() -> None:
    merges = [(1, 1, 1, 5), (2, 1, 2, 5), (3, 1, 4, 1), (3, 2, 4, 2), (3, 3, 3, 4), (3, 5, 4, 5)]
    assert detect_head(sheet_rows(WARDS), merges) == Head(3, 4, None, (1, 2))


def test_vertical_merges_alone_extend_the_header() -> None:
    """No horizontal merge and a blank second row: the merges still say the header is two rows."""
    rows = sheet_rows([["STT", "Phường", "Ghi chú"], [], [1, "Bến Nghé", None]])
    assert detect_head(rows, [(1, 1, 2, 1), (1, 2, 2, 2), (1, 3, 2, 3)]) == Head(1, 2, None, ())
    assert detect_head(rows) == Head(1, 1, None, ())


def test_three_row_header_in_a_sheet() -> None:
    rows = sheet_rows(
        [
            ["BÁO CÁO KẾT QUẢ"],
            ["STT", "Đơn vị", "Kết quả", None, None, None, "Ghi chú"],
            [None, None, "Năm 2024", None, "Năm 2025", None, None],
            [None, None, "Kế hoạch", "Thực hiện", "Kế hoạch", "Thực hiện", None],
            [1, "Phường A", 10, 12, 11, 13, None],
            [2, "Phường B", 10, 12, 11, 13, "x"],
        ]
    )
    merges = [
        (1, 1, 1, 7),
        (2, 1, 4, 1),
        (2, 2, 4, 2),
        (2, 3, 2, 6),
        (3, 3, 3, 4),
        (3, 5, 3, 6),
        (2, 7, 4, 7),
    ]
    assert detect_head(rows, merges) == Head(2, 4, None, (1,))


def test_csv_exported_from_a_merged_sheet() -> None:
    """Merged cells come out empty: the header is found from where the blanks are."""
    rows = csv_rows(
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH;;;;\n"
        "DANH SÁCH PHƯỜNG, XÃ;;;;\n"
        "Mã số;Tên đơn vị;Tọa độ trung tâm;;Diện tích (km²)\n"
        ";;Vĩ độ;Kinh độ;\n"
        "26734;Phường Sài Gòn;10,7769;106,7009;1,23\n"
        "26737;Phường Tân Định;10,7892;106,6897;0,62\n"
    )
    assert detect_head(rows) == Head(2, 3, None, (0, 1))
    three = csv_rows(
        "BÁO CÁO;;;;;;\n"
        "STT;Đơn vị;Kết quả;;;;Ghi chú\n"
        ";;Năm 2024;;Năm 2025;;\n"
        ";;KH;TH;KH;TH;\n"
        "1;Phường A;10;12;11;13;\n"
    )
    assert detect_head(three) == Head(1, 3, None, (0,))


def test_two_header_rows_without_titles() -> None:
    rows = csv_rows(
        "Mã hộ,Thông tin chủ hộ,,Dân số,\n,Họ tên,Năm sinh,Nam,Nữ\nH01,Nguyễn Văn An,1970,2,3\n", ","
    )
    assert detect_head(rows) == Head(0, 1, None, ())


def test_years_are_labels_in_a_second_header_row() -> None:
    rows = csv_rows("Chỉ tiêu;Dân số;\n;2024;2025\nNam;100;120\n")
    assert detect_head(rows) == Head(0, 1, None, ())


def test_rows_of_native_numbers_are_data_not_header() -> None:
    """Under a label spanning two columns, a row with numbers is data, a row with words a header."""
    header = ["Phường", "Dân số", None]
    assert detect_head(sheet_rows([header, [None, "Nam", "Nữ"], ["A", 1, 2]])) == Head(1, 2, None, ())
    assert detect_head(sheet_rows([header, [None, 1200, 1300], ["A", 1, 2]])) == Head(1, 1, None, ())
    as_text = [Row(1, header), Row(2, [None, "1.200", "1.300"]), Row(3, ["A", "1", "2"])]
    assert detect_head(as_text) == Head(1, 1, None, ())
    dates = [Row(1, header), Row(2, [None, "2024-01-01", "Nữ"], [0, D, 0])]
    assert detect_head(dates) == Head(1, 1, None, ())


def test_first_row_of_numbers_is_the_header_as_without_detection() -> None:
    rows = sheet_rows([[1, 2, 3], [4, 5, 6]])
    assert detect_head(rows) == Head(1, 1, None, ())


# --- head: column numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "numbers",
    ["1;2;3;4;5", "(1);(2);(3);(4);(5)", "A;B;1;2;3", "(1);(2);(3);(4);(5)=(3)+(4)", "1;2;3;4;5 = 3 x 4"],
)
def test_column_number_row_under_the_header_is_skipped(numbers: str) -> None:
    rows = csv_rows(
        "DANH SÁCH;;;;\nMã;Tên;Tọa độ;;Diện tích\n;;Vĩ độ;Kinh độ;\n"
        + numbers
        + "\n26734;Sài Gòn;10,7;106,7;1,2\n"
    )
    assert detect_head(rows) == Head(1, 2, 3, (0,))
    assert detect_head(rows).data_start == 4  # type: ignore[union-attr]


def test_a_lone_row_after_the_header_is_data_even_if_it_looks_like_column_numbers() -> None:
    # "Tên;Tên;Số lượng / A;B;1": the only row under the header is the table's data
    assert detect_head(csv_rows("Tên;Tên;Số lượng\nA;B;1\n")) == Head(0, 0, None, ())
    assert detect_head(csv_rows("Tên;Tên;Số lượng\nA;B;1\nx;y;2\n")) == Head(0, 0, 1, ())


def test_bare_numbers_under_a_plain_header_are_data_but_parentheses_are_not() -> None:
    assert detect_head(csv_rows("Mã;Tên;Số\n1;2;3\n4;5;6\n")) == Head(0, 0, None, ())
    assert detect_head(csv_rows("Mã;Tên;Số\n(1);(2);(3)\n4;5;6\n")) == Head(0, 0, 1, ())


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["1", "2", "3"], True),
        (["1", None, "2", "3"], True),  # a merged cell between
        (["1", "3", "4"], False),  # not consecutive
        (["2", "3", "4"], False),  # bare numbers start at 1
        (["(2)", "(3)", "(4)"], True),
        (["A", "B", "C"], True),
        (["a", "b", "c"], False),  # lower-case letters: data
        (["1", "A", "5"], False),
        (["A", "1", "2"], False),  # one letter: a data row such as "A | 1 | 2"
        (["B", "C", "1"], False),  # letters start at A
        (["1", "Phường A", "3"], False),
        (["1", None, None, None, None, None], False),  # one cell is not a row of numbers
    ],
)
def test_is_column_numbers(cells: list[str | None], expected: bool) -> None:
    assert is_column_numbers(Row(0, cells), width=3) is expected


# --- footer ------------------------------------------------------------------------------------------------

DATA = ["1;Phường A;10;12;5", "2;Phường B;11;13;6", "3;Phường C;9;14;7"]


def tail(*lines: str, rejected: Sequence[int] = ()) -> list[Row]:
    rows = csv_rows("\n".join([*DATA, *lines]))
    return [Row(r.pos, r.cells, rejected=r.pos in rejected) for r in rows]


def test_full_footer_starts_at_the_totals_row() -> None:
    rows = tail(
        "Tổng cộng;;30;39;18",
        "Ghi chú: số liệu tạm tính;;;;",
        ";;;TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025;",
        "Người lập biểu;;;KT. GIÁM ĐỐC;",
        "(Ký, ghi rõ họ tên);;;(Ký tên, đóng dấu);",
        ";;;PHÓ GIÁM ĐỐC;",
        "Nguyễn Văn An;;;Trần Thị Bình;",
    )
    assert footer_start(rows, 5) == 3
    assert [footer_kind(r) for r in rows[3:]] == ["total"] + ["footer"] * 6


@pytest.mark.parametrize(
    "lines",
    [
        ["TỔNG CỘNG;;30;39;18"],
        ["Tổng số:;;30;39;18"],
        ["Cộng;;30;39;18"],
        ["Ghi chú:;;;;", "- Số liệu tạm tính;;;;"],
        ["Nguồn: Sở Nội vụ;;;;"],
        ["Người lập;;;;Thủ trưởng đơn vị"],
        ["TM. ỦY BAN NHÂN DÂN;;;;", "CHỦ TỊCH;;;;", "Nguyễn Văn An;;;;"],
        ["Thành phố Hồ Chí Minh, ngày ... tháng ... năm 2025;;;;"],
        ["(Ký, ghi rõ họ tên);;;;"],
    ],
)
def test_each_kind_of_footer(lines: list[str]) -> None:
    assert footer_start(tail(*lines), 5) == 3


def test_rejected_ragged_rows_inside_the_footer_are_footer() -> None:
    rows = tail("Ghi chú: số liệu", "- dòng hai", "Người lập biểu;;;;Thủ trưởng", rejected=(3, 4))
    assert footer_start(rows, 5) == 3
    bad_data_then_note = tail("4;Phường D", "Ghi chú: số liệu", rejected=(3, 4))
    assert footer_start(bad_data_then_note, 5) == 4  # the bad data row stays rejected data


def test_a_notes_row_in_the_middle_of_the_data_is_data() -> None:
    rows = tail("Ghi chú;;;;", "4;Phường D;1;2;3", "5;Phường E;1;2;3")
    assert footer_start(rows, 5) == len(rows)
    full = tail("Ghi chú;12;34;56;78")  # a marker word in a row full of numbers: data
    assert footer_start(full, 5) == len(full)


def test_sparse_last_rows_without_a_marker_stay_data() -> None:
    rows = tail("4;Phường D;;;", "5;;;;", ";Phường F;;;")
    assert footer_start(rows, 5) == len(rows)


def test_sparse_rows_before_the_marker_stay_data() -> None:
    rows = tail(";Phường D;;;", "Ghi chú: x;;;;")
    assert footer_start(rows, 5) == 4


def test_a_sparse_row_of_numbers_after_a_marker_is_data() -> None:
    rows = tail("Nguồn: điều tra;;;;", ";;12;;")
    assert footer_start(rows, 5) == len(rows)


def test_footer_only_in_the_last_rows() -> None:
    rows = tail("Ghi chú: a", *[f"dòng {i}" for i in range(40)])
    assert footer_start(rows, 5) == len(rows)


def test_given_footer_rows_are_the_last_non_empty_rows() -> None:
    rows = tail("Tổng;;1;2;3", "ký tên")
    assert footer_start(rows, 5, count=2) == 3
    assert footer_start(rows, 5, count=0) == len(rows)
    assert footer_start(rows, 5, count=99) == 0
    assert footer_start(tail("dòng;;;;", ";;;;", "x;;;;"), 5, count=2) == 3  # the blank row is not counted


def test_fold() -> None:
    assert fold("  TỔNG   CỘNG ") == "tong cong"
    assert fold("Đơn vị tính") == "don vi tinh"
    assert fold("Ghi chu\u0301") == "ghi chu"  # decomposed tone marks too


def test_a_merge_from_the_header_into_the_data_does_not_take_the_data() -> None:
    rows = sheet_rows([["STT", "Phường", "Ghi chú"], [1, "Bến Nghé", "chung"], [2, "Đa Kao", None]])
    assert detect_head(rows, [(1, 3, 3, 3)]) == Head(1, 1, None, ())


def test_place_and_date_split_by_the_delimiter_is_a_marker() -> None:
    rows = tail("TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025", "Người lập biểu", rejected=(3, 4))
    rows[3] = Row(3, ["TP. Hồ Chí Minh", " ngày 05 tháng 7 năm 2025"], rejected=True)  # split on ","
    assert footer_start(rows, 5) == 3


def test_a_long_sentence_above_the_header_is_a_title() -> None:
    sentence = "Số liệu dân số và diện tích của các phường, xã trên địa bàn thành phố sau sắp xếp (tạm tính)"
    assert len(sentence) > 80
    rows = csv_rows(f"{sentence};Phụ lục 1;\nMã;Tên;Dân số\n01;An;3\n")
    assert detect_head(rows) == Head(1, 1, None, (0,))


def test_numbers_before_any_header_mean_no_titles() -> None:
    """A sparse first row is no title when data (numbers) comes before any header: as before."""
    rows = csv_rows("Số hộ;\n107,82;12 Lê Lợi\n;Nguyễn Văn An\n")
    assert detect_head(rows) == Head(0, 0, None, ())
    rows = csv_rows("Ngày;\n38277;\n00614;Nguyễn Văn An\n")
    assert detect_head(rows) == Head(0, 0, None, ())


def test_few_labels_narrower_than_the_table_are_a_title_line() -> None:
    rows = csv_rows("Đơn vị báo cáo;Sở Nội vụ;;;;\nMã;Tên;Nam;Nữ;Tổng;Ghi chú\n01;An;1;2;3;\n")
    assert detect_head(rows) == Head(1, 1, None, (0,))


def test_two_labels_far_apart_heading_a_two_row_header_are_the_header_not_a_title() -> None:
    # "Chỉ tiêu" merged over four columns, then "Tên đơn vị": the second line labels the gap.
    rows = csv_rows(
        "Chỉ tiêu;;;;Tên đơn vị\nDân số;Số hộ;Số lượng;Số học sinh;\n1;2;3;4;Bến Thành\n5;6;7;8;Sài Gòn\n"
    )
    assert detect_head(rows) == Head(0, 1, None, ())
    titled = csv_rows(
        "TP. HCM;;;;Năm 2025\nMã;Tên;Dân số;Số hộ;Ghi chú\n1;A;3;4;x\n"
    )  # the next line is a header
    assert detect_head(titled) == Head(1, 1, None, (0,))
