"""Row code columns that contradict the added admin-unit codes, and reference disagreements.

The conflicting wards are measured on the real sample of Ho Chi Minh City's 168 wards, whose
``ma`` column is vietnamadminunits' ward code: where vietnam-provinces (GSO) gives another code,
the published ``ward_code`` (GSO) and the row's ``ma`` contradict each other.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cleaning.admin_conflicts import add_row_code_conflicts, flag_row_code_conflicts
from cleaning.admin_units import ADMIN_COLUMNS, AdminUnitsResult, normalize_admin_units
from cleaning.issues import Issue

HCMC = "Thành phố Hồ Chí Minh"
# sample row: (name, GSO code published in ward_code, the row's own ma = vietnamadminunits' code)
CONFLICTING = {
    75: ("Phường Linh Xuân", "26794", "26800"),
    76: ("Phường Tam Bình", "26797", "26803"),
    77: ("Phường Hiệp Bình", "26812", "26809"),
    84: ("Phường An Nhơn", "26887", "26876"),
    88: ("Phường Hạnh Thông", "26902", "26890"),
    89: ("Phường Thông Tây Hội", "26899", "26898"),
    102: ("Phường Tân Sơn Nhì", "27010", "27019"),
    109: ("Phường An Khánh", "27118", "27094"),
    114: ("Phường Bàn Cờ", "27160", "27154"),
    129: ("Phường Bình Phú", "27385", "27364"),
}


def reference_text(gso: str, own: str) -> str:
    return f"ward_code {gso} (vietnam-provinces) ≠ {own} (vietnamadminunits)"


def row_text(gso: str, own: str, column: str = "ma") -> str:
    return f"ward_code {gso} (vietnam-provinces) ≠ {column} {own} (this row)"


@pytest.fixture(scope="module")
def wards() -> pa.Table:
    from samples.admin_units import hcmc_wards

    return hcmc_wards()


@pytest.fixture(scope="module")
def added(wards: pa.Table) -> pa.Table:
    return normalize_admin_units(None, None, wards.column("ten"), default_province=HCMC).table


def test_sample_rows_whose_ma_contradicts_ward_code(wards: pa.Table, added: pa.Table) -> None:
    conflicts, issues = flag_row_code_conflicts(wards, added, exclude=["ten"])
    names = wards.column("ten").to_pylist()
    assert {row: names[row] for row in CONFLICTING} == {r: c[0] for r, c in CONFLICTING.items()}
    expected = [None] * 168
    for row, (_, gso, own) in CONFLICTING.items():
        expected[row] = f"{reference_text(gso, own)}; {row_text(gso, own)}"
    assert conflicts.type == pa.string()
    assert conflicts.to_pylist() == expected
    assert issues == [Issue(row, "ma", own, row_text(gso, own)) for row, (_, gso, own) in CONFLICTING.items()]
    # the named examples, spelled out
    assert conflicts[75].as_py() == (
        "ward_code 26794 (vietnam-provinces) ≠ 26800 (vietnamadminunits); "
        "ward_code 26794 (vietnam-provinces) ≠ ma 26800 (this row)"
    )
    assert issues[3] == Issue(84, "ma", "26876", "ward_code 26887 (vietnam-provinces) ≠ ma 26876 (this row)")
    assert issues[8] == Issue(114, "ma", "27154", "ward_code 27160 (vietnam-provinces) ≠ ma 27154 (this row)")


def test_reference_disagreement_alone_is_flagged(wards: pa.Table, added: pa.Table) -> None:
    names_only = wards.select(["ten", "loai", "dien_tich_km2", "vi_do", "kinh_do"])  # no code column
    conflicts, issues = flag_row_code_conflicts(names_only, added, exclude=["ten"])
    expected = [None] * 168
    for row, (_, gso, own) in CONFLICTING.items():
        expected[row] = reference_text(gso, own)
    assert conflicts.to_pylist() == expected
    assert issues == []


def test_excluded_column_is_not_compared(wards: pa.Table, added: pa.Table) -> None:
    conflicts, issues = flag_row_code_conflicts(wards, added, exclude=["ten", "ma"])
    assert issues == []
    assert conflicts.to_pylist() == added.column("admin_conflict").to_pylist()


def test_codes_are_read_as_digits_zero_padded() -> None:
    result = normalize_admin_units(None, None, pa.array(["Phường Sài Gòn"] * 3), default_province=HCMC)
    table = pa.table({"ma_px": ["P. 26740", "026740", "Mã 26741"]})
    conflicts, issues = flag_row_code_conflicts(table, result.table)
    text = "ward_code 26740 (vietnam-provinces) ≠ ma_px Mã 26741 (this row)"
    assert conflicts.to_pylist() == [None, None, text]
    assert issues == [Issue(2, "ma_px", "Mã 26741", text)]


@pytest.mark.parametrize(
    "values",
    [
        ["Phường Sài Gòn", "Phường Sài Gòn", "x", "y"],  # names: no digits
        ["26740", "11111", "22222", "33333"],  # numbers equal in 1 row of 4: fewer than half
        ["1", "2", "3", "4"],  # never equal
        [None, None, None, None],
    ],
)
def test_columns_that_are_not_codes_are_ignored(values: list[str | None]) -> None:
    wards = pa.array(["Phường Sài Gòn"] * 4)
    result = normalize_admin_units(None, None, wards, default_province=HCMC)
    table = pa.table({"other": pa.array(values, pa.string()), "do_dai": [26740.0, 1.0, 2.0, 3.0]})
    conflicts, issues = flag_row_code_conflicts(table, result.table)
    assert (conflicts.to_pylist(), issues) == ([None] * 4, [])


def test_equal_in_exactly_half_of_the_rows_is_a_code_column() -> None:
    result = normalize_admin_units(None, None, pa.array(["Phường Sài Gòn"] * 4), default_province=HCMC)
    table = pa.table({"so": pa.array([26740, 26740, 11111, None], pa.int64())})  # integers count too
    conflicts, issues = flag_row_code_conflicts(table, result.table)
    text = "ward_code 26740 (vietnam-provinces) ≠ so 11111 (this row)"
    assert conflicts.to_pylist() == [None, None, text, None]  # a null code is not a contradiction
    assert issues == [Issue(2, "so", "11111", text)]


def test_province_codes_two_digits() -> None:
    provinces = pa.array(["TP.HCM", "Hà Nội", "Hồ Chí Minh", "Hà Nội", None])
    result = normalize_admin_units(provinces, column_names=("tinh", "quan", "phuong"))
    table = pa.table({"tinh": provinces, "ma_tinh": ["79", "1", "079", "48", "79"]})
    conflicts, issues = flag_row_code_conflicts(table, result.table, exclude=["tinh"])
    text = "province_code 01 (vietnam-provinces) ≠ ma_tinh 48 (this row)"
    assert conflicts.to_pylist() == [None, None, None, text, None]
    assert issues == [Issue(3, "ma_tinh", "48", text)]
    # the same codes as integers
    as_int = table.set_column(1, "ma_tinh", pa.array([79, 1, 79, 48, 79], pa.int64()))
    conflicts, issues = flag_row_code_conflicts(as_int, result.table, exclude=["tinh"])
    assert conflicts.to_pylist() == [None, None, None, text, None]
    assert issues == [Issue(3, "ma_tinh", "48", text)]


def test_pre_reform_codes_of_converted_rows_are_not_contradictions() -> None:
    # Bình Dương (74) is now part of Ho Chi Minh City (79): the old code is not a conflict
    provinces = pa.array(["Bình Dương", "Bình Dương", "TP.HCM", "TP.HCM"])
    result = normalize_admin_units(provinces)
    assert result.table.column("admin_status").to_pylist() == ["converted", "converted", "current", "current"]
    table = pa.table({"ma_tinh": ["74", "74", "79", "77"]})
    conflicts, issues = flag_row_code_conflicts(table, result.table)
    text = "province_code 79 (vietnam-provinces) ≠ ma_tinh 77 (this row)"
    assert conflicts.to_pylist() == [None, None, None, text]
    assert issues == [Issue(3, "ma_tinh", "77", text)]


def test_old_district_codes_three_digits() -> None:
    districts = pa.array(["Quận 1", "Q.1", "Quận 3", "Quận 1"])
    result = normalize_admin_units(pa.array(["TP.HCM"] * 4), districts)
    assert result.table.column("old_district_code").to_pylist() == ["760", "760", "770", "760"]
    table = pa.table({"quan": districts, "ma_quan": ["760", "760", "770", "769"]})
    conflicts, issues = flag_row_code_conflicts(table, result.table, exclude=["quan"])
    text = "old_district_code 760 (vietnamadminunits) ≠ ma_quan 769 (this row)"
    assert conflicts.to_pylist() == [None, None, None, text]
    assert issues == [Issue(3, "ma_quan", "769", text)]


def test_several_conflicts_in_one_row_are_joined() -> None:
    provinces = pa.array(["TP.HCM"] * 4)
    wards = pa.array(["Phường Sài Gòn", "Phường Sài Gòn", "Phường Bàn Cờ", "Phường Sài Gòn"])
    result = normalize_admin_units(provinces, None, wards)
    table = pa.table({"ma_tinh": ["79", "79", "79", "80"], "ma_px": ["26740", "26740", "27154", "26741"]})
    conflicts, issues = flag_row_code_conflicts(table, result.table)
    province = "province_code 79 (vietnam-provinces) ≠ ma_tinh 80 (this row)"
    assert conflicts.to_pylist() == [
        None,
        None,
        f"{reference_text('27160', '27154')}; {row_text('27160', '27154', 'ma_px')}",
        f"{province}; {row_text('26740', '26741', 'ma_px')}",
    ]
    assert issues == [
        Issue(2, "ma_px", "27154", row_text("27160", "27154", "ma_px")),
        Issue(3, "ma_tinh", "80", province),
        Issue(3, "ma_px", "26741", row_text("26740", "26741", "ma_px")),
    ]


def test_large_batch_goes_through_the_sampled_screen(wards: pa.Table, added: pa.Table) -> None:
    times = 60  # 10,080 rows: above the 2,000-row sample
    big, big_added = pa.concat_tables([wards] * times), pa.concat_tables([added] * times)
    conflicts, issues = flag_row_code_conflicts(big, big_added, exclude=["ten"])
    assert len(conflicts) == 168 * times
    assert len(issues) == len(CONFLICTING) * times
    rows = [row + 168 * k for k in range(times) for row in CONFLICTING]
    assert [i.row for i in issues] == rows
    assert conflicts.null_count == 168 * times - len(rows)


def test_add_row_code_conflicts_replaces_the_column_and_appends_issues(
    wards: pa.Table, added: pa.Table
) -> None:
    base = AdminUnitsResult(added, [Issue(0, "ten", "x", "unknown ward")])
    out = add_row_code_conflicts(wards, base, exclude=["ten"])
    assert out.table.column_names == list(ADMIN_COLUMNS)
    assert out.table.column("admin_conflict")[114].as_py() == (
        f"{reference_text('27160', '27154')}; {row_text('27160', '27154')}"
    )
    assert out.issues[0] == Issue(0, "ten", "x", "unknown ward")
    assert len(out.issues) == 1 + len(CONFLICTING)


def test_row_counts_must_match(added: pa.Table) -> None:
    with pytest.raises(ValueError, match="rows"):
        flag_row_code_conflicts(pa.table({"ma": ["1"]}), added)


def test_quality_gate_warns_on_admin_conflict() -> None:
    from citydata.spec import load_spec
    from quality.spec import derived_expectations

    spec = load_spec(Path(__file__).parents[3] / "datasets" / "phuong-xa-tphcm.yaml")
    planned = [p for p in derived_expectations(spec) if p.type == "expect_column_values_to_be_null"]
    assert [(p.columns, p.severity) for p in planned] == [(["admin_conflict"], "warn")]
    taken = derived_expectations(spec, present={"std_admin_conflict", "ma", "ten"})
    assert [p.columns for p in taken if p.type == "expect_column_values_to_be_null"] == [
        ["std_admin_conflict"]
    ]
    absent = derived_expectations(spec, present={"ma", "ten"})
    assert not [p for p in absent if p.type == "expect_column_values_to_be_null"]
