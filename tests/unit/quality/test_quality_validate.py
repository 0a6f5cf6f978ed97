"""Running suites with real Great Expectations on in-memory frames (no S3)."""

import datetime

import dagster as dg
import pyarrow as pa
import pytest

from citydata.spec.model import DatasetSpec
from pipelines.datasets.checks import check_result
from quality.result import ExpectationOutcome, QualityResult, quality_score
from quality.validate import _outcomes, float_int_columns, run_suite, to_frame

SPEC = {
    "id": "bai-giu-xe",
    "agency": {"id": "so-gtvt", "title": {"vi": "Sở Giao thông Vận tải"}},
    "title": {"vi": "Bãi giữ xe"},
    "description": {"vi": "Bãi giữ xe công cộng"},
    "dublin_core": {"creator": "Sở GTVT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
    "source": {"type": "local_file", "path": "/dev/null"},
    "schema": {
        "primary_key": ["ma_bai"],
        "columns": {
            "ma_bai": {"nullable": False},
            "suc_chua": {"type": "integer", "min": 0},
            "ty_le": {"type": "number"},
            "mo_cua": {"type": "boolean"},
            "ngay": {"type": "date"},
            "loai": {"values": ["xe máy", "ô tô"]},
        },
    },
}


def spec_with(expectations=(), **quality) -> DatasetSpec:
    return DatasetSpec.model_validate({**SPEC, "quality": {"expectations": list(expectations), **quality}})


def table(**overrides) -> pa.Table:
    columns = {
        "ma_bai": pa.array(["B01", "B02", "B03", "B04"]),
        "suc_chua": pa.array([120, None, 500, 45], pa.int64()),  # a null: the frame gets Int64
        "ty_le": pa.array([0.5, 0.25, None, 1.0]),
        "mo_cua": pa.array([True, None, False, True]),
        "ngay": pa.array([datetime.date(2024, 1, d) for d in (1, 2, 3, 4)], pa.date32()),
        "loai": pa.array(["xe máy", "ô tô", None, "ô tô"]),
    }
    columns.update(overrides)
    return pa.table(columns)


def run(spec: DatasetSpec, data: pa.Table):
    frame = to_frame(data)
    planned, result = run_suite(spec, frame, float_int_columns(data))
    return _outcomes(planned, result, set(frame.columns))


def test_typed_clean_data_passes_every_derived_expectation():
    outcomes, rows = run(spec_with(), table())
    assert outcomes and all(o.success for o in outcomes), [(o.label, o.observed_value) for o in outcomes]
    assert rows == {}
    kinds = {o.label for o in outcomes}
    assert "expect_column_values_to_be_of_type(suc_chua)" in kinds
    assert "expect_column_values_to_be_unique(ma_bai)" in kinds
    assert quality_score(outcomes, 4) == 100.0


def test_integer_type_check_follows_the_parquet_type_not_pandas_nulls():
    with_nulls = run(spec_with(), table())[0]
    (check,) = [o for o in with_nulls if o.label == "expect_column_values_to_be_of_type(suc_chua)"]
    assert check.success and check.kwargs["type_"] == "float64"  # int64 with nulls: float64 in pandas
    as_float = table(suc_chua=pa.array([120.5, None, 500.0, 45.0]))  # not an integer column
    (wrong,) = [o for o in run(spec_with(), as_float)[0] if o.label == check.label]
    assert not wrong.success and wrong.kwargs["type_"] == "int64" and wrong.observed_value == "float64"
    full = table(suc_chua=pa.array([120, 80, 500, 45], pa.int64()))
    assert all(o.success for o in run(spec_with(), full)[0])


def test_row_level_failure_gives_the_failing_rows_and_counts():
    entry = {"type": "expect_column_values_to_be_between", "args": {"column": "suc_chua", "max_value": 200}}
    outcomes, rows = run(spec_with([entry]), table())
    failed = [o for o in outcomes if not o.success]
    assert [o.label for o in failed] == ["expect_column_values_to_be_between(suc_chua)"]
    (o,) = failed
    assert o.row_level and o.unexpected_count == 1 and o.partial_unexpected_list == [500]
    assert o.severity == "error" and o.origin == "quality.expectations[0]"
    assert rows == {o.index: [2]}


def test_duplicate_keys_fail_uniqueness_on_every_copy():
    outcomes, rows = run(spec_with(), table(ma_bai=pa.array(["B01", "B02", "B01", "B04"])))
    (o,) = [o for o in outcomes if not o.success]
    assert o.type == "expect_column_values_to_be_unique" and sorted(rows[o.index]) == [0, 2]


def test_missing_column_at_run_time_is_a_failed_expectation_naming_it():
    entry = {"type": "expect_column_values_to_not_be_null", "args": {"column": "ghi_chu"}, "severity": "warn"}
    outcomes, rows = run(spec_with([entry]), table().drop_columns(["loai"]))
    failed = {o.label: o for o in outcomes if not o.success}
    assert (
        failed["expect_column_values_to_not_be_null(ghi_chu)"].message
        == "column ghi_chu not found in the cleaned data"
    )
    assert failed["expect_column_to_exist(loai)"].severity == "warn"  # hinted, nullable, absent
    assert rows == {}  # no row-level verdict without the column


def test_an_empty_batch_runs_and_only_the_row_count_fails():
    entry = {"type": "expect_table_row_count_to_be_between", "args": {"min_value": 1}}
    outcomes, rows = run(spec_with([entry]), table().slice(0, 0))
    assert [o.label for o in outcomes if not o.success] == ["expect_table_row_count_to_be_between"]
    assert rows == {}


def test_aggregate_failure_has_no_rows_and_scores_zero():
    entry = {"type": "expect_table_row_count_to_be_between", "args": {"min_value": 10}, "severity": "warn"}
    outcomes, rows = run(spec_with([entry]), table())
    (o,) = [o for o in outcomes if not o.success]
    assert not o.row_level and o.observed_value == 4 and rows == {}
    passed = len(outcomes) - 1
    assert quality_score(outcomes, 4) == round(100 * 3 * passed / (3 * passed + 1), 2)


def test_score_weights_errors_over_warnings_and_credits_passing_rows():
    def outcome(severity, success, count=None, row_level=True):
        return ExpectationOutcome(0, "x", "c", severity, "o", success, row_level, count)

    assert quality_score([], 0) == 100.0
    assert quality_score([outcome("error", True), outcome("warn", False, 0, False)], 10) == 75.0
    assert quality_score([outcome("error", False, 5)], 10) == 50.0  # half the rows pass
    assert quality_score([outcome("error", False, 5), outcome("warn", True)], 10) == 62.5


def result(**fields) -> QualityResult:
    outcome = ExpectationOutcome(
        3, "expect_column_values_to_be_between", "suc_chua", "error", "o", False, True, 2
    )
    return QualityResult("bai-giu-xe", "p1", rows=10, expectations=[outcome], **fields)


@pytest.mark.parametrize(
    ("fields", "passed", "severity"),
    [
        ({"blocking": True, "promotable": False}, False, dg.AssetCheckSeverity.ERROR),
        ({"blocking": True, "promotable": True, "partial": True}, False, dg.AssetCheckSeverity.WARN),
        ({"blocking": False, "promotable": True}, False, dg.AssetCheckSeverity.WARN),
    ],
)
def test_check_verdict_follows_promotability(fields, passed, severity):
    check = check_result(result(**fields))
    assert (check.passed, check.severity) == (passed, severity)
    assert check.metadata["score"].value == 100.0
    table = check.metadata["expectations"]
    assert isinstance(table, dg.TableMetadataValue) and table.records[0].data["column"] == "suc_chua"


def test_check_passes_when_everything_passed():
    ok = QualityResult("bai-giu-xe", "p1", rows=10, score=100.0)
    assert check_result(ok).passed


def test_check_metadata_names_the_unchecked_columns_and_shows_drift_messages():
    drift = ExpectationOutcome(
        9, "citydata_drift", "dien_tich_km2", "error", "quality.drift", False,
        message="median of dien_tich_km2 went from 15.682 (version 3) to 15682 (x1000, more than x10)",
    )  # fmt: skip
    blocked = result(
        blocking=True, promotable=False, unchecked_columns=["ten", "ghi_chu"], covered_columns=["ma"]
    )
    blocked.expectations.append(drift)
    check = check_result(blocked)
    assert check.metadata["unchecked_columns"].value == "ten, ghi_chu"
    assert check.metadata["covered_columns"].value == 1
    assert check.description is not None and check.description.endswith("; unchecked columns: ten, ghi_chu")
    (row,) = [
        r.data for r in check.metadata["expectations"].records if r.data["expectation"] == "citydata_drift"
    ]
    assert row["detail"].startswith("median of dien_tich_km2 went from 15.682 (version 3) to 15682")
