"""`citydata quality suggest`: profiling a clean table into expectations ready for the spec."""

import pyarrow as pa
import yaml

from citydata.spec.model import DatasetSpec
from quality.spec import validate_quality_section
from quality.suggest import code_regex, suggest_expectations, to_yaml, without_defaults

SPEC = {
    "id": "bai-giu-xe",
    "agency": {"id": "so-gtvt", "title": {"vi": "Sở GTVT"}},
    "title": {"vi": "Bãi giữ xe"},
    "description": {"vi": "Bãi giữ xe công cộng"},
    "dublin_core": {"creator": "Sở GTVT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
    "source": {"type": "local_file", "path": "/dev/null"},
}
TABLE = pa.table(
    {
        "ma_bai": ["BX-0001", "BX-0002", "BX-0103", "BX-0004", "BX-0005", "BX-0006"],
        "suc_chua": pa.array([120, 80, None, 45, 1000, 60], pa.int64()),
        "ty_le": [0.5, 0.25, 0.5, 1.0, 0.75, 0.5],
        "loai": ["xe máy", "ô tô", "xe máy", "ô tô", "xe đạp", "xe máy"],
        "ten": ["Bãi A", "Bãi B", "Bãi C", "Bãi D", "Bãi E", "Bãi F"],
    }
)


def by_key(entries):
    return {(e["type"], e["args"]["column"]): e for e in entries}


def test_code_regex_from_the_values_shape():
    assert code_regex(pa.array(["B01", "B02", "B10"])) == r"^[A-Z]\d{2}$"
    assert code_regex(pa.array(["PA00000001", "PA123", None])) == r"^[A-Z]{2}\d{3,8}$"
    assert code_regex(pa.array(["79-26734", "79-00001"])) == r"^\d{2}\-\d{5}$"
    assert code_regex(pa.array(["Bãi A", "Bãi B"])) is None  # spaces: not a code
    assert code_regex(pa.array(["abc", "abd"])) is None  # no digits
    assert code_regex(pa.array(["B01", "01B"])) is None  # two shapes


def test_suggestions_follow_the_data():
    found = by_key(suggest_expectations(TABLE))
    assert found[("expect_column_values_to_not_be_null", "ma_bai")]["severity"] == "warn"  # 6 rows
    assert ("expect_column_values_to_not_be_null", "suc_chua") not in found  # it has a null
    assert ("expect_column_values_to_be_unique", "ma_bai") in found
    assert ("expect_column_values_to_be_unique", "ty_le") not in found  # floats are not keys
    between = found[("expect_column_values_to_be_between", "suc_chua")]
    assert (between["args"]["min_value"], between["args"]["max_value"], between["severity"]) == (
        45,
        1000,
        "warn",
    )
    assert found[("expect_column_values_to_be_in_set", "loai")]["args"]["value_set"] == [
        "xe máy",
        "xe đạp",
        "ô tô",
    ]
    assert found[("expect_column_values_to_match_regex", "ma_bai")]["args"]["regex"] == r"^[A-Z]{2}\-\d{4}$"
    ten = sorted(kind for kind, column in found if column == "ten")  # free text: no set, no regex
    assert ten == ["expect_column_values_to_be_unique", "expect_column_values_to_not_be_null"]


def test_yaml_pastes_into_a_spec_that_validates_and_skips_what_hints_imply():
    hinted = {**SPEC, "schema": {"primary_key": ["ma_bai"], "columns": {c: {} for c in TABLE.column_names}}}
    spec = DatasetSpec.model_validate(hinted)
    entries = without_defaults(spec, suggest_expectations(TABLE), TABLE.column_names)
    assert ("expect_column_values_to_be_unique", "ma_bai") not in by_key(entries)  # the key implies it
    text = to_yaml(entries)
    assert "xe máy" in text  # readable Vietnamese, not escapes
    pasted = DatasetSpec.model_validate({**hinted, **yaml.safe_load(text)})
    assert validate_quality_section(pasted) == []


def test_columns_added_for_admin_units_are_left_out():
    admin = TABLE.append_column("ward_code", pa.array(["26734"] * 6)).append_column(
        "admin_status", pa.array(["current"] * 6)
    )
    columns = {e["args"]["column"] for e in suggest_expectations(admin)}
    assert "ma_bai" in columns and not columns & {"ward_code", "admin_status"}


def test_empty_table_suggests_nothing():
    assert suggest_expectations(TABLE.slice(0, 0)) == []


def test_three_row_table_gets_no_blocking_unique_or_not_null_suggestion():
    entries = suggest_expectations(TABLE.slice(0, 3))
    checks = [e for e in entries if e["type"].endswith(("_to_be_unique", "_to_not_be_null"))]
    assert {e["args"]["column"] for e in checks} >= {"ma_bai", "ten"}  # still suggested...
    assert {e["severity"] for e in checks} == {"warn"}  # ...but not blocking on 3 rows


def test_unique_and_not_null_are_errors_from_thirty_values_on():
    codes = [f"BX-{i:04d}" for i in range(30)]
    big = pa.table({"ma_bai": codes, "suc_chua": pa.array([*range(29), None], pa.int64())})
    found = by_key(suggest_expectations(big))
    assert found[("expect_column_values_to_be_unique", "ma_bai")]["severity"] == "error"
    assert found[("expect_column_values_to_not_be_null", "ma_bai")]["severity"] == "error"
    # 29 non-null values: one short of the evidence an error needs
    assert found[("expect_column_values_to_be_unique", "suc_chua")]["severity"] == "warn"
    assert (
        by_key(suggest_expectations(big.slice(0, 29)))[("expect_column_values_to_be_unique", "ma_bai")][
            "severity"
        ]
        == "warn"
    )
