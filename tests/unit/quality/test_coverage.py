"""The score reflects coverage: source columns nothing checks count as failed weight-1 items."""

import pyarrow as pa
import pytest

from quality.drift import profile
from quality.result import ExpectationOutcome, QualityResult, coverage, quality_score
from quality.verdict import conclude


def check(
    name: str | None,
    kind: str = "expect_column_values_to_not_be_null",
    success: bool = True,
    severity: str = "error",
    **kwargs,
) -> ExpectationOutcome:
    return ExpectationOutcome(0, kind, name, severity, "o", success, kwargs=kwargs)


def test_twenty_passing_error_checks_and_one_unchecked_column_score_98_36():
    outcomes = [check(f"c{i}") for i in range(20)]
    assert quality_score(outcomes, 100, unchecked=1) == 98.36  # 60 / 61, 98.4 to one decimal
    assert quality_score(outcomes, 100) == 100.0


def test_no_checks_at_all_on_five_columns_score_zero():
    assert quality_score([], 100, unchecked=5) == 0.0
    assert quality_score([], 0) == 100.0  # nothing to score


def test_unchecked_columns_weigh_like_failed_warnings():
    outcomes = [check("a"), check("b", severity="warn", success=False)]
    assert quality_score(outcomes, 10, unchecked=2) == 50.0  # 3 / (3 + 1 + 2)


def test_existence_type_and_drift_do_not_cover_a_column():
    outcomes = [
        check("ten", "expect_column_to_exist"),
        check("ten", "expect_column_values_to_be_of_type", type_="str"),
        check("dien_tich", "citydata_drift", column="dien_tich", statistic="median"),
        check("ma", "expect_column_values_to_be_unique", success=False),  # a failing check still covers
        check("a, b", "expect_compound_columns_to_be_unique", column_list=["a", "b"]),
        check(None, "expect_table_row_count_to_be_between", min_value=1),
    ]
    covered, unchecked = coverage(outcomes, ["ma", "ten", "dien_tich", "a", "b", "ghi_chu"])
    assert covered == ["ma", "a", "b"]
    assert unchecked == ["ten", "dien_tich", "ghi_chu"]


def test_the_result_reports_coverage_and_leaves_out_the_admin_columns_the_clean_stage_adds():
    table = pa.table({"ma": ["B01"], "ten": ["Bãi A"], "phuong": ["Bến Nghé"], "ward_code": ["26740"]})
    result = QualityResult("bai-giu-xe", "p1", rows=1, profile=profile(table))
    outcomes = [
        check("ma", "expect_column_values_to_be_unique"),
        check("ten", "expect_column_values_to_be_of_type", type_="str"),
        check("ward_code", "expect_column_values_to_match_regex", regex=r"^\d{5}$"),
    ]
    conclude(result, False, outcomes, {}, {"ward_code", "province_code"})
    assert result.covered_columns == ["ma"]
    assert result.unchecked_columns == ["ten", "phuong"]
    assert result.score == pytest.approx(round(100 * 9 / 11, 2))  # three passing errors, two unchecked
    assert result.success and result.promotable  # coverage lowers the score, it does not block
    assert QualityResult.from_dict(result.as_dict()).unchecked_columns == ["ten", "phuong"]
