"""`citydata new`: a commented spec inferred from a report workbook, a Windows-1258 CSV, a URL.

The inputs are built here; every draft is read back twice: as plain YAML (what an editor sees)
and through `load_spec` + `deep_check` (what `citydata datasets check` runs).
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import citydata.kernels.encoding  # noqa: F401 - registers the cp1258-nfc codec (how Windows writes Vietnamese)
from citydata.cli import app
from citydata.cli.exit_codes import ExitCode
from citydata.spec import load_spec
from pipelines.draft import DraftError, draft_from, slug, target, write_draft
from pipelines.spec_checks import deep_check

TODAY = dt.date(2025, 7, 1)
WARDS = ["Phường Bến Thành", "Phường Sài Gòn", "Phường Tân Định", "Phường Bàn Cờ", "Phường Chợ Lớn"]
PHONES = ["0903123456", "0912345678", "0987654321", "0283829123", "0977000111"]
runner = CliRunner()


def report_workbook(path: Path, rows: int = 5) -> Path:
    """An agency report: 2 title rows, a two-row merged header, data, a totals row, signatures."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bãi xe"
    ws.append(["ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"])
    ws.append(["DANH SÁCH BÃI GIỮ XE CÔNG CỘNG"])
    ws.append(["Mã bãi", "Tên bãi", "Phường", "Sức chứa", None, "Điện thoại liên hệ"])
    ws.append([None, None, None, "Xe máy", "Ô tô", None])
    for cells in ("A1:F1", "A2:F2", "A3:A4", "B3:B4", "C3:C4", "D3:E3", "F3:F4"):
        ws.merge_cells(cells)
    for i in range(rows):
        ws.append([f"{i + 123:05d}", f"Bãi {chr(65 + i)}", WARDS[i % 5], 40 + 10 * i, i % 3, PHONES[i % 5]])
    ws.append(["Tổng cộng", None, None, 999, 9])
    ws.append([None, None, None, "TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025"])
    ws.append(["Người lập biểu", None, None, "KT. GIÁM ĐỐC"])
    ws.append(["(Ký, ghi rõ họ tên)", None, None, "(Ký tên, đóng dấu)"])
    ws.append(["Nguyễn Văn An", None, None, "Trần Thị Bình"])
    wb.save(path)
    return path


def vi_csv(path: Path, rows: int = 4) -> Path:
    """A ';' CSV in Windows-1258 with Vietnamese numbers (1.234,5)."""
    lines = ["Mã hồ sơ;Phường;Diện tích (m²);Số tiền (đồng);Ngày cấp"]
    for i in range(rows):
        lines.append(f"{i + 1:04d};{WARDS[i % 5]};{1 + i}.{234 + i},5;{i + 1}.250.000;0{i % 9 + 1}/07/2025")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1258-nfc"))
    return path


def written(source: Path | str, specs: Path, **kwargs: Any) -> tuple[str, dict[str, Any], Path]:
    """(text, YAML read back, path) of the draft written into ``specs``."""
    dataset_id, path = target(str(source), kwargs.pop("dataset_id", None), None, specs)
    result = write_draft(str(source), dataset_id, path, today=TODAY, **kwargs)
    text = path.read_text(encoding="utf-8")
    assert text == result.text
    return text, yaml.safe_load(text), path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], Path]:
    """The draft of the report workbook, written once for the tests that read it."""
    tmp = tmp_path_factory.mktemp("report")
    return written(report_workbook(tmp / "bai-giu-xe.xlsx"), tmp / "specs")


def test_first_line_points_editors_at_the_schema_relative_to_the_spec(report: Any) -> None:
    text, _, path = report
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema = (path.parent / first.split("$schema=", 1)[1]).resolve()
    assert schema == (Path(__file__).parents[3] / "datasets" / "spec.schema.json").resolve()
    assert schema.is_file()


def test_report_draft_loads_and_passes_every_stage_check_as_written(report: Any) -> None:
    _, _, path = report
    spec = load_spec(path)
    assert deep_check(spec) == []
    assert spec.id == "bai-giu-xe" == path.stem
    assert spec.source.type == "local_file"
    # written relative to the spec's folder; the loader resolves it from there
    assert spec.source.path.resolve() == path.parent.parent / "bai-giu-xe.xlsx"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["source"]["path"] == "../bai-giu-xe.xlsx"


def test_report_titles_merged_header_and_footer_are_detected_and_pinned(report: Any) -> None:
    text, data, _ = report
    assert data["format"] == {"skip_rows": 2, "header_rows": 2, "footer_rows": 5}
    assert "header rows 3-4" in text and "2 title rows" in text
    assert data["title"]["vi"] == "Danh sách bãi giữ xe công cộng"  # the table's title, not the UBND row
    assert "title row 2" in text


def test_report_columns_types_labels_key_admin_unit_and_pii(report: Any) -> None:
    text, data, _ = report
    columns = data["schema"]["columns"]
    assert list(columns) == ["ma_bai", "ten_bai", "phuong", "suc_chua_xe_may", "suc_chua_o_to",
                             "dien_thoai_lien_he"]  # fmt: skip
    assert {n: c["type"] for n, c in columns.items()} == {
        "ma_bai": "string", "ten_bai": "string", "phuong": "string",
        "suc_chua_xe_may": "integer", "suc_chua_o_to": "integer", "dien_thoai_lien_he": "string",
    }  # fmt: skip
    assert columns["suc_chua_xe_may"]["label"] == "Sức chứa - Xe máy"  # the merged header, joined
    assert columns["ma_bai"]["label"] == "Mã bãi"
    assert data["schema"]["primary_key"] == ["ma_bai"]
    assert columns["phuong"]["admin_unit"] == "ward"
    assert [n for n, c in columns.items() if "admin_unit" in c] == ["phuong"]
    assert columns["dien_thoai_lien_he"]["pii"] == "mask"
    assert [n for n, c in columns.items() if "pii" in c] == ["dien_thoai_lien_he"]
    assert "'00123'" in text  # the leading-zero codes are named in the comment...
    assert "0903123456" not in text  # ...personal data never is


def test_few_rows_give_warn_not_error_and_say_why(report: Any) -> None:
    text, data, _ = report
    entries = data["quality"]["expectations"]
    checks = [e for e in entries if e["type"].endswith(("_to_be_unique", "_to_not_be_null"))]
    assert checks and {e["severity"] for e in checks} == {"warn"}
    assert "5 values: severity warn until there is more data" in text
    assert not [e for e in entries if e["args"].get("column") == "dien_thoai_lien_he"]  # masked: no set


def test_placeholders_are_marked_todo(report: Any) -> None:
    text, data, _ = report
    for line in ("  id: todo  # TODO", "  creator: TODO  # TODO", "  date: 2025-07-01  # TODO"):
        assert line in text
    assert data["dublin_core"]["date"] == TODAY


def test_plenty_of_rows_give_error_severity(tmp_path: Path) -> None:
    _, data, path = written(report_workbook(tmp_path / "bai-lon.xlsx", rows=40), tmp_path / "specs")
    by_column = {(e["type"], e["args"]["column"]): e["severity"] for e in data["quality"]["expectations"]}
    assert by_column[("expect_column_values_to_not_be_null", "ten_bai")] == "error"
    assert by_column[("expect_column_values_to_be_unique", "ten_bai")] == "error"
    assert data["format"]["footer_rows"] == 5
    assert load_spec(path).schema_.primary_key == ["ma_bai"]


def test_windows_1258_csv_with_semicolons_and_vietnamese_numbers(tmp_path: Path) -> None:
    text, data, path = written(vi_csv(tmp_path / "ho-so.csv"), tmp_path / "specs")
    assert data["format"] == {"encoding": "windows-1258", "delimiter": ";"}
    assert "# detected: windows-1258" in text and "delimiter ';'" in text
    assert data["schema"]["locale"] == "vi"
    columns = data["schema"]["columns"]
    assert columns["dien_tich_m2"] == {"type": "number", "label": "Diện tích (m²)"}
    assert columns["so_tien_dong"]["type"] == "integer"
    assert columns["ngay_cap"]["type"] == "date"
    assert columns["ma_ho_so"]["type"] == "string"
    assert data["schema"]["primary_key"] == ["ma_ho_so"]
    assert columns["phuong"]["admin_unit"] == "ward"
    assert "skip_rows" not in data["format"]  # a plain table: layout left to detection
    assert deep_check(load_spec(path)) == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    width=st.integers(min_value=3, max_value=12),
    numbers=st.lists(st.integers(min_value=0, max_value=10**9), min_size=2, max_size=20, unique=True),
)
def test_generated_codes_with_leading_zeros_stay_strings(
    tmp_path: Path, width: int, numbers: list[int]
) -> None:
    codes = [f"0{n:0{width}d}" for n in numbers]  # a leading zero always, whatever the width
    source = tmp_path / "codes.csv"
    source.write_text(
        "so_hieu,gia_tri\n" + "".join(f"{c},{i}\n" for i, c in enumerate(codes)), encoding="utf-8"
    )
    draft, text = draft_from(str(source), "codes", tmp_path / "codes.yaml", today=TODAY)
    assert yaml.safe_load(text)["schema"]["columns"]["so_hieu"]["type"] == "string"
    assert draft.summary["columns"][0]["identifier"] is True


def test_sample_rows_bounds_the_read_and_leaves_the_footer_to_detection(tmp_path: Path) -> None:
    source = tmp_path / "lon.csv"
    source.write_text("ma,so_luong\n" + "".join(f"A{i:05d},{i}\n" for i in range(3000)), encoding="utf-8")
    draft, text = draft_from(str(source), "lon", tmp_path / "lon.yaml", sample_rows=1000, today=TODAY)
    assert draft.summary["rows_sampled"] == 1000 and draft.summary["complete"] is False
    assert "first 1000 rows" in text and "footer not examined" in text
    assert "footer_rows" not in yaml.safe_load(text).get("format", {})


def test_id_is_the_slug_of_the_file_name() -> None:
    assert slug("Bãi giữ xe (2025)") == "bai-giu-xe-2025"
    assert target("/x/Đơn_vị hành chính.xlsx", None, None, Path("/specs")) == (
        "don-vi-hanh-chinh", Path("/specs/don-vi-hanh-chinh.yaml"))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [("trong.csv", b"", "empty file"), ("du-lieu.xyz", b"a,b\n1,2\n", "cannot tell the format"),
     ("hong.xlsx", b"not a zip at all", "hong.xlsx")],
)  # fmt: skip
def test_bad_input_names_the_file_and_writes_nothing(
    tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    specs = tmp_path / "specs"
    dataset_id, path = target(str(source), None, None, specs)
    with pytest.raises(DraftError, match=name.replace(".", r"\.")) as caught:
        write_draft(str(source), dataset_id, path)
    assert says in str(caught.value)
    assert not path.exists() and not (specs.exists() and any(specs.iterdir()))


# --- through the command line --------------------------------------------------------------------


def test_cli_writes_the_spec_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    source = vi_csv(tmp_path / "ho-so.csv")
    out = tmp_path / "specs" / "ho-so-dat.yaml"
    result = runner.invoke(app, ["new", str(source), "--id", "ho-so-dat", "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    assert out.is_file() and "wrote" in result.output
    before = out.read_text(encoding="utf-8")
    out.write_text(before + "# edited by the agency\n", encoding="utf-8")
    again = runner.invoke(app, ["new", str(source), "--id", "ho-so-dat", "--out", str(out)])
    assert again.exit_code == ExitCode.FAILED
    assert "exists" in again.output and "--force" in again.output
    assert out.read_text(encoding="utf-8").endswith("# edited by the agency\n")  # untouched
    forced = runner.invoke(app, ["new", str(source), "--id", "ho-so-dat", "--out", str(out), "--force"])
    assert forced.exit_code == ExitCode.OK
    assert out.read_text(encoding="utf-8") == before
    check = runner.invoke(app, ["datasets", "check", str(out)])
    assert check.exit_code == ExitCode.OK, check.output


def test_cli_default_path_is_the_specs_folder_and_json_summarises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(tmp_path / "specs"))
    source = report_workbook(tmp_path / "Bãi giữ xe.xlsx")
    result = runner.invoke(app, ["new", str(source), "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert summary["path"] == str(tmp_path / "specs" / "bai-giu-xe.yaml")
    assert (tmp_path / "specs" / "bai-giu-xe.yaml").is_file()
    assert summary["id"] == "bai-giu-xe" and summary["primary_key"] == ["ma_bai"]
    assert [c["name"] for c in summary["columns"] if c["admin_unit"] == "ward"] == ["phuong"]
    assert summary["layout_pinned"] == {"skip_rows": 2, "header_rows": 2, "footer_rows": 5}


def test_cli_bad_input_fails_naming_the_file(tmp_path: Path) -> None:
    source = tmp_path / "rong.csv"
    source.write_bytes(b"")
    out = tmp_path / "rong.yaml"
    result = runner.invoke(app, ["new", str(source), "--out", str(out)])
    assert result.exit_code == ExitCode.FAILED
    assert "rong.csv" in result.output and "empty" in result.output
    assert not out.exists()
    missing = runner.invoke(app, ["new", str(tmp_path / "khong-co.csv"), "--out", str(out)])
    assert missing.exit_code == ExitCode.FAILED and "khong-co.csv" in missing.output
    bad_id = runner.invoke(app, ["new", str(source), "--id", "Bad Id", "--out", str(out)])
    assert bad_id.exit_code == ExitCode.USAGE


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A local web server over tmp_path/www (the http_file source downloads from it)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_url_becomes_an_http_file_source(tmp_path: Path, served: str) -> None:
    vi_csv(tmp_path / "www" / "ho-so.csv")
    url = f"{served}/ho-so.csv"
    _, data, path = written(url, tmp_path / "specs")
    assert data["source"] == {"type": "http_file", "url": url}
    assert path.name == "ho-so.yaml" and data["format"]["encoding"] == "windows-1258"
    assert load_spec(path).source.type == "http_file"
    with pytest.raises(DraftError, match=r"khong-co\.csv.*HTTP 404"):
        draft_from(f"{served}/khong-co.csv", "khong-co", tmp_path / "khong-co.yaml")
