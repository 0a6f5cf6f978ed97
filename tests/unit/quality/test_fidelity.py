"""The fidelity check's comparison: raw files read by independent readers against published rows."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

import citydata.kernels.encoding  # noqa: F401 - registers the cp1258-nfc codec (writes tone marks as Windows does)
from quality.fidelity import RawFile, compare_with_sources, fidelity_outcome
from quality.reference_values import UNREADABLE, expected_date, expected_number, expected_text, same_value

TOKENS = ("", "n/a", "-", "không có")
OPTIONS = {"null_tokens": TOKENS, "day_first": True}
NULLS = frozenset(TOKENS)


def where(file: str, lines: list[int], sheet: str | None = None) -> pa.Table:
    return pa.table({"file": [file] * len(lines), "sheet": [sheet] * len(lines), "line": lines})


def columns(*entries: tuple[str, str | None]) -> list[dict[str, object]]:
    return [
        {"name": n, "source_label": n, "source_index": i, "locale": loc} for i, (n, loc) in enumerate(entries)
    ]


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "bai-xe.csv"
    text = (
        'Mã;Tên;Sức chứa;Ngày\n"B01";"Bãi\nNguyễn Huệ";1.200;05/03/2024\nB02;Bãi Bến Thành;80,5;31/12/2023\n'
    )
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def csv_table(capacity: list[float]) -> pa.Table:
    return pa.table(
        {
            "ma": ["B01", "B02"],
            "ten": ["Bãi Nguyễn Huệ", "Bãi Bến Thành"],
            "suc_chua": pa.array(capacity, pa.float64()),
            "ngay": pa.array([date(2024, 3, 5), date(2023, 12, 31)], pa.date32()),
        }
    )


def csv_files(path: Path) -> dict[str, RawFile]:
    return {
        path.name: RawFile(path.name, "csv", path, {**OPTIONS, "encoding": "utf-8-sig", "delimiter": ";"})
    }


CSV_COLUMNS = columns(("ma", None), ("ten", None), ("suc_chua", "vi"), ("ngay", None))


def test_a_faithful_csv_passes_with_lines_spanning_quoted_newlines(csv_file):
    # Row 1 starts on line 2 and spans two lines; row 2 starts on line 4.
    report = compare_with_sources(csv_table([1200, 80.5]), where(csv_file.name, [2, 4]), CSV_COLUMNS,
                                  csv_files(csv_file), OPTIONS)  # fmt: skip
    assert (report.status, report.rows_checked, report.cells_checked, report.mismatches) == (
        "passed",
        2,
        8,
        0,
    )
    assert report.readers == ["csv module"]


def test_a_value_times_1000_fails_naming_file_line_column_and_both_values(csv_file):
    report = compare_with_sources(csv_table([1200, 80500]), where(csv_file.name, [2, 4]), CSV_COLUMNS,
                                  csv_files(csv_file), OPTIONS)  # fmt: skip
    assert report.status == "failed" and report.mismatches == 1
    assert report.examples == [
        {
            "file": "bai-xe.csv",
            "sheet": None,
            "line": 4,
            "column": "suc_chua",
            "source": "80,5",
            "published": 80500.0,
        }
    ]
    outcome = fidelity_outcome(report, 7)
    assert (outcome.success, outcome.severity, outcome.unexpected_count) == (False, "error", 1)


def test_rows_shifted_by_one_line_are_caught(csv_file):
    report = compare_with_sources(csv_table([1200, 80.5]), where(csv_file.name, [4, 2]), CSV_COLUMNS,
                                  csv_files(csv_file), OPTIONS)  # fmt: skip
    assert report.status == "failed" and report.mismatches == 8


def test_workbook_cells_native_numbers_and_zero_formatted_codes(tmp_path):
    path = tmp_path / "phuong.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phường"
    ws.append(["DANH SÁCH"])
    ws.append([None, "Mã", "Vĩ độ", "Diện tích"])
    ws.append([None, 1234, 10.969, 15.682])
    ws["B3"].number_format = "00000"
    ws.append([None, 27676, 10.5464, "1.234,5"])
    wb.save(path)
    table = pa.table({"ma": ["01234", "27676"], "vi_do": [10.969, 10.5464], "dien_tich": [15.682, 1234.5]})
    files = {path.name: RawFile(path.name, "xlsx", path, OPTIONS, layout={"Phường": {"first_column": 2}})}
    cols = columns(("ma", None), ("vi_do", "vi"), ("dien_tich", "vi"))
    report = compare_with_sources(table, where(path.name, [3, 4], "Phường"), cols, files, OPTIONS)
    assert (report.status, report.cells_checked) == ("passed", 6)
    wrong = table.set_column(1, "vi_do", pa.array([10969.0, 10.5464]))
    report = compare_with_sources(wrong, where(path.name, [3, 4], "Phường"), cols, files, OPTIONS)
    assert report.examples[0] == {"file": "phuong.xlsx", "sheet": "Phường", "line": 3, "column": "vi_do",
                                       "source": 10.969, "published": 10969.0}  # fmt: skip


def test_json_records_strings_numbers_and_declared_kinds(tmp_path):
    path = tmp_path / "api.json"
    records = [
        {"ma_so": "27676", "vi_do": 10.5464, "so_tien": "1500000.50", "ngay": "2025-07-01T08:30:00+07:00"}
    ]
    path.write_text(json.dumps({"du_lieu": {"danh_sach": records}}), encoding="utf-8")
    table = pa.table({"ma_so": ["27676"], "vi_do": [10.5464], "so_tien": [1500000.5],
                      "ngay": pa.array([datetime(2025, 7, 1, 8, 30)], pa.timestamp("s"))})  # fmt: skip
    declared = {"so_tien": "number", "ngay": "datetime"}
    files = {
        path.name: RawFile(
            path.name, "json", path, {**OPTIONS, "records_path": "du_lieu.danh_sach"}, declared
        )
    }
    cols = columns(("ma_so", None), ("vi_do", "vi"), ("so_tien", "vi"), ("ngay", None))
    report = compare_with_sources(table, where(path.name, [1]), cols, files, OPTIONS)
    assert (report.status, report.cells_checked, report.cells_not_verified) == ("passed", 4, 0)
    as_int = table.set_column(0, "ma_so", pa.array(["27676.0"]))
    assert compare_with_sources(as_int, where(path.name, [1]), cols, files, OPTIONS).mismatches == 1


def test_nothing_verified_is_not_a_pass(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("so\n12 quả\n", encoding="utf-8")
    table = pa.table({"so": [12.0]})
    files = {path.name: RawFile(path.name, "csv", path, {**OPTIONS, "encoding": "utf-8", "delimiter": ","})}
    report = compare_with_sources(table, where(path.name, [2]), columns(("so", "vi")), files, OPTIONS)
    assert (report.status, report.cells_not_verified) == ("not_checked", 1)
    outcome = fidelity_outcome(report, 0)
    assert outcome.success is False and outcome.severity == "warn"


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("1.234,5", "vi", 1234.5),
        ("1.234.567", "vi", 1234567),
        ("12,5%", "vi", 12.5),
        ("(1.234)", "vi", -1234),
        ("1 234 đ", "vi", 1234),
        ("1,234.5", "en", 1234.5),
        ("10.5464", "en", 10.5464),
        ("N/A", "vi", None),
        ("1.5", "vi", UNREADABLE),
        ("mười", "vi", UNREADABLE),
    ],
)
def test_reference_numbers(text, locale, value):
    result = expected_number(text, locale, NULLS)
    if value is None or value is UNREADABLE:
        assert result is value
    else:
        assert result == value and type(result) is type(value)  # ints stay exact ints


def test_reference_text_dates_and_equality():
    assert expected_text("  Phu\u031bo\u031b\u0300ng  Bến\u00a0Nghé ", NULLS) == "Phường Bến Nghé"
    assert expected_text(27676.0, NULLS) == "27676" and expected_text(-0.5, NULLS) == "-0.5"
    assert expected_date("05/03/2024", True, NULLS, False) == date(2024, 3, 5)
    assert expected_date("ngày 5 tháng 3 năm 2024", True, NULLS, False) == date(2024, 3, 5)
    assert expected_date("31/02/2024", True, NULLS, False) is UNREADABLE
    assert same_value(Decimal("10.969"), 10.969) and not same_value(Decimal("10.969"), 10969.0)
    assert same_value(None, None) and not same_value(None, "") and not same_value(1, True)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1258"])
def test_large_csv_records_read_from_a_line_index_equal_a_full_scan(tmp_path, monkeypatch, newline, encoding):
    from quality import source_cells

    rows = [["Mã", "Ghi chú", "Số"]]
    for i in range(300):
        note = f"dòng {i}{newline}xuống dòng" if i % 7 == 0 else f"dòng {i}"
        rows.append([f"A{i:03d}", note, f"{i},5"])
    text = newline.join(";".join(f'"{v}"' if newline in v else v for v in row) for row in rows) + newline
    path = tmp_path / "lon.csv"
    path.write_bytes(text.encode("cp1258-nfc" if encoding == "cp1258" else encoding))  # as Windows writes it
    lines, line = [], 1
    for row in rows:  # the physical line each record starts on
        lines.append(line)
        line += 1 + row[1].count(newline)
    wanted = {(None, n) for n in lines[1:][::3]}
    options = {"encoding": encoding, "delimiter": ";"}
    scanned = source_cells.read_source_rows("csv", path, wanted, options)
    monkeypatch.setattr(source_cells, "_INDEX_BYTES", 0)
    indexed = source_cells.read_source_rows("csv", path, wanted, options)
    assert indexed == scanned and len(indexed) == len(wanted)
    first = [unicodedata.normalize("NFC", v) for v in indexed[(None, lines[1])].values]
    assert first == ["A000", f"dòng 0{newline}xuống dòng", "0,5"]
