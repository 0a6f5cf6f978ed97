"""The dataset quality score: measured facts, explained point by point, with what to fix."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from catalog.quality_score import SHARES, dataset_score, previous_created_at
from catalog.spec import parse_publication
from citydata.spec.model import DatasetSpec

FULL_PUBLICATION = {
    "spatial": "Thành phố Hồ Chí Minh",
    "temporal": {"start": "2025-01-01", "end": "2025-12-31"},
    "contact": {"name": "Phòng CNTT", "email": "cntt@example.gov.vn"},
    "themes": ["GOVE"],
    "landing_page": "https://example.gov.vn/du-lieu",
}


def make_spec(**changes: Any) -> DatasetSpec:
    base: dict[str, Any] = {
        "id": "phan-anh",
        "agency": {"id": "so-tttt", "title": {"vi": "Sở Thông tin và Truyền thông"}},
        "title": {"vi": "Phản ánh của người dân", "en": "Citizen reports"},
        "description": {"vi": "Phản ánh hiện trường", "en": "Field reports"},
        "dublin_core": {
            "creator": "Sở TTTT",
            "publisher": "UBND TP.HCM",
            "date": "2025-07-01",
            "subject": ["phản ánh"],
            "source": "Hệ thống 1022",
            "rights": "Ghi nguồn khi sử dụng",
        },
        "license": "cc-by",
        "update_frequency": "@daily",
        "source": {"type": "http_file", "url": "https://example.org/phan-anh.csv"},
        "publication": FULL_PUBLICATION,
    }
    base.update(changes)
    return DatasetSpec.model_validate(base)


def make_manifest(
    *, score: float | None = 100.0, unchecked: list[str] | None = None, described: int = 3, columns: int = 3,
    fidelity: dict[str, Any] | None = None, version: int = 1, created_at: str = "2025-07-10T00:00:00+00:00",
    rows: int = 50, empty: list[int | None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    quality: dict[str, Any] = {"unchecked_columns": unchecked or []}
    if score is not None:
        quality["score"] = score
    quality["fidelity"] = fidelity or {"status": "passed", "cells_checked": 300, "cells_not_verified": 0}
    return {
        "version": version,
        "created_at": created_at,
        "quality": quality,
        "rows": rows,
        "columns": [
            {
                "column": f"c{i}",
                "description": "ý nghĩa" if i < described else "",
                "empty": (empty or [0] * columns)[i],
            }
            for i in range(columns)
        ],
    }


def score_of(spec: DatasetSpec, manifest: dict[str, Any], previous_at: str | None = None) -> Any:
    return dataset_score(spec, parse_publication(spec), manifest, previous_at)


def test_a_complete_open_checked_documented_first_version_scores_100():
    result = score_of(make_spec(), make_manifest())
    assert result.score == 100
    assert result.fixes() == []
    assert {name: d["earned"] for name, d in result.dimensions().items()} == SHARES


def test_each_missing_metadata_field_costs_its_share_and_says_where_to_add_it():
    spec = make_spec(title={"vi": "Phản ánh của người dân"})  # no English title
    result = score_of(spec, make_manifest())
    assert result.score == 98
    [fix] = result.fixes()
    assert fix["key"] == "title_en" and "title.en" in fix["vi"] and "title.en" in fix["en"]


def test_unchecked_columns_lower_the_data_checks_and_are_named():
    result = score_of(make_spec(), make_manifest(score=80.0, unchecked=["ghi_chu"]))
    assert result.dimensions()["data_checks"]["earned"] == 16.0
    assert any(f["dimension"] == "data_checks" and "ghi_chu" in f["vi"] for f in result.fixes())


def test_no_quality_summary_earns_no_data_check_points():
    result = score_of(make_spec(), make_manifest(score=None))
    assert result.dimensions()["data_checks"]["earned"] == 0
    assert result.score == 80


def test_fidelity_counts_the_share_of_cells_verified_and_nothing_when_it_did_not_run():
    half = {"status": "passed", "cells_checked": 50, "cells_not_verified": 50}
    assert score_of(make_spec(), make_manifest(fidelity=half)).dimensions()["fidelity"]["earned"] == 7.5
    skipped = {"status": "skipped", "notes": ["no reader"]}
    assert score_of(make_spec(), make_manifest(fidelity=skipped)).dimensions()["fidelity"]["earned"] == 0


def test_freshness_against_the_declared_frequency():
    manifest = make_manifest(version=2, created_at="2025-07-10T00:00:00+00:00")
    on_time = score_of(make_spec(), manifest, "2025-07-09T00:00:00+00:00")
    assert on_time.dimensions()["freshness"]["earned"] == 15
    late = score_of(make_spec(), manifest, "2025-07-07T06:00:00+00:00")  # 2.75 days for a daily dataset
    assert late.dimensions()["freshness"]["earned"] == 7.5
    very_late = score_of(make_spec(), manifest, "2025-06-30T00:00:00+00:00")  # 10 days
    assert very_late.dimensions()["freshness"]["earned"] == 0
    [fix] = [f for f in very_late.fixes() if f["dimension"] == "freshness"]
    assert "9 ngày" in fix["vi"] and "9 days late" in fix["en"]
    weekly = score_of(make_spec(update_frequency="@weekly"), manifest, "2025-06-30T00:00:00+00:00")
    assert weekly.dimensions()["freshness"]["earned"] == 15


def test_undescribed_columns_are_named():
    result = score_of(make_spec(), make_manifest(described=1, columns=4))
    assert result.dimensions()["documentation"]["earned"] == 2.5
    [fix] = [f for f in result.fixes() if f["dimension"] == "documentation"]
    assert "c1, c2, c3" in fix["vi"]


def test_a_non_commercial_licence_is_not_open():
    result = score_of(make_spec(license="cc-nc"), make_manifest())
    assert result.dimensions()["licence"]["earned"] == 0 and result.score == 90


def test_empty_values_lower_completeness_and_the_emptiest_columns_are_named_with_their_share():
    result = score_of(make_spec(), make_manifest(rows=50, empty=[0, 6, 1]))  # 7 of 150 cells empty
    assert result.dimensions()["completeness"]["earned"] == 9.53
    [fix] = [f for f in result.fixes() if f["dimension"] == "completeness"]
    assert fix["vi"] == "Cột c1 có 12% ô trống; Cột c2 có 2% ô trống"
    assert fix["en"] == "Column c1 has 12% empty values; Column c2 has 2% empty values"
    [point] = [p for p in result.points if p.dimension == "completeness"]
    assert point.detail_vi.startswith("95,3% ô có giá trị") and point.detail_en.startswith(
        "95.3% of the cells"
    )


def test_one_empty_cell_in_a_million_is_still_a_loss_that_says_what_to_fix():
    result = score_of(make_spec(), make_manifest(rows=1_000_000, empty=[0, 1, 0]))
    assert result.dimensions()["completeness"]["earned"] < 10
    [fix] = [f for f in result.fixes() if f["dimension"] == "completeness"]
    assert fix["en"] == "Column c1 has <1% empty values"


def test_a_version_without_empty_counts_is_not_measured_and_earns_nothing_for_completeness():
    manifest = make_manifest()
    for column in manifest["columns"]:
        del column["empty"]
    result = score_of(make_spec(), manifest)
    assert result.dimensions()["completeness"]["earned"] == 0
    assert any("new version" in f["en"] for f in result.fixes() if f["dimension"] == "completeness")


def test_previous_version_time_comes_from_the_pointer():
    pointer = {"versions": [{"version": 3, "created_at": "c"}, {"version": 1, "created_at": "a"},
                            {"version": 2, "created_at": "b"}]}  # fmt: skip
    assert previous_created_at(pointer, 3) == "b"
    assert previous_created_at(pointer, 1) is None


@given(
    score=st.one_of(st.none(), st.floats(0, 100)),
    described=st.integers(0, 6),
    checked=st.integers(0, 1000),
    unverified=st.integers(0, 1000),
    gap_hours=st.integers(0, 24 * 400),
    licence=st.sampled_from(["cc-by", "cc-nc", "notspecified", "odc-odbl"]),
    rows=st.integers(0, 10**7),
    empty=st.lists(st.floats(0, 1), min_size=6, max_size=6),
)
def test_the_score_is_the_sum_of_its_points_and_within_0_100(
    score, described, checked, unverified, gap_hours, licence, rows, empty
):
    fidelity = {"status": "passed", "cells_checked": checked, "cells_not_verified": unverified}
    counts = [int(share * rows) for share in empty]
    manifest = make_manifest(score=score, described=described, columns=6, fidelity=fidelity, version=2,
                             rows=rows, empty=counts)  # fmt: skip
    from datetime import datetime, timedelta

    previous = (datetime.fromisoformat(manifest["created_at"]) - timedelta(hours=gap_hours)).isoformat()
    result = score_of(make_spec(license=licence), manifest, previous)
    assert 0 <= result.score <= 100
    assert abs(result.score - sum(p.earned for p in result.points)) < 0.06
    for point in result.points:
        assert 0 <= point.earned <= point.possible
        assert bool(point.fix_vi) == (point.earned < point.possible - 1e-9)  # every loss says what to fix
