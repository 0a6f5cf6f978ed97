"""`citydata preview` shows what a run would publish (values as the source has them, rejected
rows by line and reason, the quality checks) and publishes nothing: no service is reachable here."""

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from citydata.cli import app
from citydata.cli.exit_codes import ExitCode

runner = CliRunner()
SPEC = """\
id: bai-giu-xe
agency: {id: so-gtvt, title: {vi: "Sở GTVT"}}
title: {vi: "Bãi giữ xe"}
description: {vi: "Bãi giữ xe công cộng"}
dublin_core: {creator: Sở GTVT, publisher: UBND TP.HCM, date: 2025-07-01}
source: {type: local_file, path: bai-giu-xe.csv}
schema:
  primary_key: [ma_bai]
  columns:
    ma_bai: {nullable: false}
    suc_chua: {type: integer}
    ngay_mo: {type: date}
cleaning: {max_rejected_ratio: 0.5}
quality:
  expectations:
    - type: expect_column_values_to_be_between
      args: {column: suc_chua, min_value: 0, max_value: 500}
      severity: warn
"""
ROWS = [
    ["Mã bãi", "Tên bãi", "Sức chứa", "Ngày mở"],
    ["00101", "Bãi xe Bến Thành", "1.200", "01/07/2025"],
    ["00102", "Bãi xe Thủ Đức", "80", "15/08/2024"],
    ["", "Bãi xe không mã", "40", "02/01/2023"],
    ["00101", "Bãi xe Bến Thành (trùng)", "1.200", "01/07/2025"],
    ["00104", "Bãi xe Sài Gòn", "95", "31/12/2022"],
]


def _write(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "so-gtvt"
    folder.mkdir()
    with (folder / "bai-giu-xe.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(ROWS)
    (folder / "bai-giu-xe.yaml").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYDATA_STACK_DIR", str(tmp_path / "stack"))
    # Nothing listens here: a preview that touched S3, CKAN or Label Studio would fail.
    monkeypatch.setenv("CITYDATA_S3__ENDPOINT", "127.0.0.1:9")
    monkeypatch.setenv("CITYDATA_CKAN__URL", "http://127.0.0.1:9")
    return folder / "bai-giu-xe.yaml"


def test_preview_shows_the_rows_as_published_and_the_rejected_ones_by_line(tmp_path, monkeypatch):
    spec = _write(tmp_path, monkeypatch)
    result = runner.invoke(app, ["preview", str(spec), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    source = list(csv.DictReader(io.StringIO((spec.parent / "bai-giu-xe.csv").read_text(encoding="utf-8"))))
    kept = [source[0], source[1], source[4]]  # line 4 has no key, line 5 repeats 00101
    assert [r["ma_bai"] for r in shown["first_rows"]] == [r["Mã bãi"] for r in kept]
    assert [r["ten_bai"] for r in shown["first_rows"]] == [r["Tên bãi"] for r in kept]
    assert [r["suc_chua"] for r in shown["first_rows"]] == [1200, 80, 95]
    assert [r["ngay_mo"] for r in shown["first_rows"]] == ["2025-07-01", "2024-08-15", "2022-12-31"]
    rejected = {r["line"]: r["reasons"] for r in shown["rejected_rows"]}
    assert set(rejected) == {4, 5}
    assert "ma_bai" in rejected[4] and "duplicate primary key (ma_bai)" in rejected[5]
    assert (shown["rows"], shown["rows_read"], shown["rejected"]) == (3, 5, 2)
    assert {c["name"]: c["type"] for c in shown["columns"]}["suc_chua"] == "integer"
    assert {c["name"]: c["label"] for c in shown["columns"]}["ten_bai"] == "Tên bãi"
    [between] = [
        c
        for c in shown["quality"]["checks"]
        if c["type"] == "expect_column_values_to_be_between" and c["column"] == "suc_chua"
    ]
    assert (between["severity"], between["success"], between["unexpected"]) == ("warn", False, 1)
    assert shown["quality"]["promotable"] and shown["ok"]
    assert not (tmp_path / "stack" / "tmp").exists() or not any((tmp_path / "stack" / "tmp").iterdir())


def test_preview_off_a_terminal_prints_plain_lines(tmp_path, monkeypatch):
    spec = _write(tmp_path, monkeypatch)
    result = runner.invoke(app, ["preview", str(spec), "--rows", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "ma_bai\tten_bai\tsuc_chua\tngay_mo" in lines
    assert "00101\tBãi xe Bến Thành\t1200\t2025-07-01" in lines
    assert "  bai-giu-xe.csv:4: ma_bai: required value missing" in lines


def test_preview_exits_1_and_says_why_when_the_run_would_fail(tmp_path, monkeypatch):
    spec = _write(tmp_path, monkeypatch)
    spec.write_text(SPEC.replace("severity: warn", "severity: error"), encoding="utf-8")
    result = runner.invoke(app, ["preview", str(spec), "--json"])
    assert result.exit_code == ExitCode.FAILED
    shown = json.loads(result.stdout)
    assert shown["problems"] == ["an error-severity quality check fails: the run would not publish"]
    spec.write_text(SPEC.replace("path: bai-giu-xe.csv", "path: missing.csv"), encoding="utf-8")
    result = runner.invoke(app, ["preview", str(spec)])
    assert result.exit_code == ExitCode.FAILED
    assert "missing.csv" in result.output
