"""The agency scoreboard's logic (the project's CKAN plugin, pure functions): lateness against the
declared frequency, sorting, per-agency figures and the CSV as Excel users open it."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

# ckanext/ is a namespace package (no __init__.py), as CKAN's extensions are.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "stack" / "ckan" / "ckanext-citydata"))
scoreboard = pytest.importorskip("ckanext.citydata.scoreboard")

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
EU = "http://publications.europa.eu/resource/authority/frequency/"


def package(name: str, agency: str, score: float, modified: str, frequency: str = "DAILY", fixes=()):
    detail = {"score": score, "version": 3, "fixes": [{"vi": f, "en": f"en {f}"} for f in fixes]}
    return {
        "name": name,
        "title": name.title(),
        "organization": {"name": agency, "title": agency.upper()},
        "modified": modified,
        "frequency": EU + frequency,
        "extras": [{"key": "citydata_quality_score_detail", "value": json.dumps(detail)}],
    }


def test_late_means_older_than_one_and_a_half_periods():
    assert scoreboard.late_days("2026-12-04T12:00:00+00:00", EU + "DAILY", NOW) is None  # 1 day
    assert scoreboard.late_days("2026-12-03T00:00:00+00:00", EU + "DAILY", NOW) == 1.5  # 2.5 days
    assert scoreboard.late_days("2026-11-25T12:00:00+00:00", EU + "WEEKLY", NOW) is None  # 10 days
    assert scoreboard.late_days("2026-11-20T12:00:00+00:00", EU + "WEEKLY", NOW) == 8.0  # 15 days
    assert scoreboard.late_days("2020-01-01", EU + "IRREG", NOW) is None  # no period: never late
    assert scoreboard.late_days(None, EU + "DAILY", NOW) is None


def test_a_late_dataset_says_so_first_among_its_fixes():
    row = scoreboard.dataset_row(
        package("ga", "so-a", 70, "2026-11-26T12:00:00+00:00", fixes=["Thêm mô tả cột"]), NOW, "http://x"
    )
    assert row["late_days"] == 8.0
    assert row["fixes"] == ["Cập nhật trễ 8 ngày", "Thêm mô tả cột"]
    assert row["url"] == "http://x/dataset/ga" and row["agency"] == "SO-A"


def test_unscored_datasets_are_left_out():
    pkg = package("ga", "so-a", 70, "2026-12-05")
    pkg["extras"] = []
    assert scoreboard.dataset_row(pkg, NOW, "http://x") is None


def rows():
    packages = [
        package("b-late", "so-b", 90, "2026-11-01T00:00:00+00:00"),
        package("a-good", "so-a", 95, "2026-12-05T00:00:00+00:00"),
        package("a-poor", "so-a", 40, "2026-12-05T00:00:00+00:00", fixes=["Bổ sung chủ đề"]),
    ]
    return [scoreboard.dataset_row(p, NOW, "http://x") for p in packages]


def test_sorting_by_score_late_and_agency():
    by_score = scoreboard.sort_rows(rows(), "score", descending=True)
    assert [r["dataset"] for r in by_score] == ["a-good", "b-late", "a-poor"]
    by_late = scoreboard.sort_rows(rows(), "late", descending=True)
    assert by_late[0]["dataset"] == "b-late"
    assert [r["dataset"] for r in scoreboard.sort_rows(rows(), "agency", False)] == [
        "a-good",
        "a-poor",
        "b-late",
    ]
    assert scoreboard.sort_rows(rows(), "unknown", False) == scoreboard.sort_rows(rows(), "agency", False)


def test_agencies_lowest_mean_first_with_late_counts():
    found = scoreboard.agencies(rows())
    assert [(a["name"], a["datasets"], a["mean_score"], a["late"]) for a in found] == [
        ("so-a", 2, 67.5, 0),
        ("so-b", 1, 90.0, 1),
    ]


def test_csv_has_a_bom_and_reads_back_with_the_csv_module():
    body = scoreboard.csv_bytes(rows())
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["Mã bộ dữ liệu"] for r in table] == ["b-late", "a-good", "a-poor"]
    assert table[2]["Điểm chất lượng"] == "40.0" and table[2]["Cần khắc phục"] == "Bổ sung chủ đề"
    assert table[0]["Số ngày trễ"] != "" and table[1]["Số ngày trễ"] == ""


def test_packages_pages_through_the_search():
    everything = [{"name": f"d{i}"} for i in range(7)]
    calls = []

    def search(**data):
        calls.append(data)
        start, rows_ = data["start"], data["rows"]
        return {"count": len(everything), "results": everything[start : start + rows_]}

    assert scoreboard.packages(search, page=3) == everything
    assert [c["start"] for c in calls] == [0, 3, 6]
