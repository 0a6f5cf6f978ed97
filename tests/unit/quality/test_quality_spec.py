"""The quality section: typed model, derived expectations, validation before any run."""

import textwrap
from pathlib import Path

import pytest

from citydata.spec import load_spec
from citydata.spec.model import DatasetSpec
from quality.spec import QualitySpec, derived_expectations, parse_quality, plan, validate_quality_section

BASE = {
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
            "suc_chua": {"type": "integer", "min": 0, "max": 5000},
            "loai": {"values": ["xe máy", "ô tô"]},
            "phuong": {"admin_unit": "ward"},
            "so_dien_thoai": {"pii": "drop"},
            "ghi_chu": {},
        },
    },
}


def spec_with(quality=None, **changes) -> DatasetSpec:
    data = {**BASE, **changes}
    if quality is not None:
        data["quality"] = quality
    return DatasetSpec.model_validate(data)


def by_origin(planned):
    return {(p.type, tuple(p.columns)): p for p in planned}


def test_dataset_spec_keeps_accepting_the_dict_and_the_typed_model_parses_it():
    spec = spec_with(
        {"partial_publication": True, "expectations": [{"type": "ExpectTableRowCountToBeBetween"}]}
    )
    assert isinstance(spec.quality, dict)
    quality = parse_quality(spec)
    assert isinstance(quality, QualitySpec)
    assert quality.partial_publication and quality.defaults
    assert quality.expectations[0].severity == "error"  # the default severity


def test_defaults_derived_from_schema_hints():
    planned = by_origin(derived_expectations(spec_with()))
    assert planned[("expect_column_values_to_be_of_type", ("suc_chua",))].kwargs["type_"] == "int64"
    assert planned[("expect_column_values_to_be_of_type", ("ma_bai",))].kwargs["type_"] == "str"
    assert ("expect_column_values_to_not_be_null", ("ma_bai",)) in planned
    assert ("expect_column_values_to_be_unique", ("ma_bai",)) in planned  # one-column primary key
    assert ("expect_column_values_to_not_be_null", ("suc_chua",)) not in planned  # nullable
    between = planned[("expect_column_values_to_be_between", ("suc_chua",))]
    assert (between.kwargs["min_value"], between.kwargs["max_value"], between.severity) == (0, 5000, "error")
    assert planned[("expect_column_values_to_be_in_set", ("loai",))].kwargs["value_set"] == ["xe máy", "ô tô"]
    provinces = planned[("expect_column_values_to_be_in_set", ("province_code",))].kwargs["value_set"]
    assert "79" in provinces and len(provinces) == 34  # Ho Chi Minh City among the 34 provinces
    assert planned[("expect_column_values_to_match_regex", ("ward_code",))].kwargs["regex"] == r"^\d{5}$"
    assert not any("so_dien_thoai" in p.columns for p in planned.values())  # dropped by PII handling


def test_multi_column_key_and_absent_columns():
    schema = {"primary_key": ["ma", "nam"], "columns": {"ma": {}, "nam": {"type": "integer"}, "ten": {}}}
    planned = by_origin(derived_expectations(spec_with(schema=schema), present={"ma", "nam"}))
    assert ("expect_compound_columns_to_be_unique", ("ma", "nam")) in planned
    assert ("expect_column_values_to_be_unique", ("ma",)) not in planned
    absent = planned[("expect_column_to_exist", ("ten",))]
    assert absent.severity == "warn"  # nullable hint: a missing column is worth a warning only


def test_plan_puts_spec_expectations_after_the_defaults_and_can_turn_defaults_off():
    entry = {"type": "expect_column_values_to_match_regex", "args": {"column": "ma_bai", "regex": "^B"}}
    _, planned = plan(spec_with({"expectations": [entry]}))
    assert planned[-1].origin == "quality.expectations[0]" and planned[-1].severity == "error"
    _, only = plan(spec_with({"defaults": False, "expectations": [entry]}))
    assert [p.type for p in only] == ["expect_column_values_to_match_regex"]


def test_a_valid_section_has_no_problems():
    quality = {
        "partial_publication": True,
        "expectations": [
            {"type": "expect_column_values_to_be_between", "args": {"column": "suc_chua", "max_value": 900}},
            {"type": "ExpectColumnValuesToMatchRegex", "args": {"column": "ma_bai", "regex": r"^B\d+$"}},
            {
                "type": "expect_column_values_to_be_in_set",
                "args": {"column": "ward_code", "value_set": ["26734"]},
                "severity": "warn",
            },
            {"type": "expect_compound_columns_to_be_unique", "args": {"column_list": ["ma_bai", "loai"]}},
            {"type": "expect_table_row_count_to_be_between", "args": {"min_value": 1}},
        ],
    }
    assert validate_quality_section(spec_with(quality)) == []
    assert validate_quality_section(spec_with()) == []  # no section at all


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"type": "expect_column_values_to_be_betwen", "args": {"column": "suc_chua", "min_value": 0}},
            "quality.expectations[0].type: unknown expectation 'expect_column_values_to_be_betwen'; "
            "did you mean expect_column_values_to_be_between",
        ),
        (
            {
                "type": "expect_column_values_to_be_between",
                "args": {"column": "suc_chua", "min_value": "nhiều"},
            },
            "quality.expectations[0].args.min_value: value is not a valid float",
        ),
        (
            {"type": "expect_column_values_to_be_between", "args": {"column": "suc_chua", "min": 1}},
            "quality.expectations[0].args.min: unknown argument for this expectation",
        ),
        (
            {"type": "expect_column_values_to_be_in_set", "args": {"column": "loai"}},
            "quality.expectations[0].args.value_set: field required",
        ),
        (
            {
                "type": "expect_column_values_to_be_between",
                "args": {"column": "suc_chua", "min_value": 9, "max_value": 1},
            },
            "quality.expectations[0].args.min_value: greater than max_value",
        ),
        (
            {"type": "expect_column_values_to_match_regex", "args": {"column": "ma_bai", "regex": "(["}},
            "quality.expectations[0].args.regex: invalid regular expression",
        ),
        (
            {"type": "expect_column_values_to_not_be_null", "args": {"column": "ma_bia"}},
            "quality.expectations[0].args.column: column 'ma_bia' is not declared under schema.columns",
        ),
        (
            {"type": "expect_compound_columns_to_be_unique", "args": {"column_list": ["ma_bai", "nam"]}},
            "quality.expectations[0].args.column_list: column 'nam' is not declared",
        ),
        (
            {"type": "expect_column_values_to_not_be_null", "args": {"column": "so_dien_thoai"}},
            "quality.expectations[0].args.column: column 'so_dien_thoai' is dropped (pii: drop)",
        ),
        (
            {
                "type": "expect_column_values_to_match_like_pattern",
                "args": {"column": "ma_bai", "like_pattern": "B%"},
            },
            "quality.expectations[0].type: expect_column_values_to_match_like_pattern cannot run on a "
            "DataFrame",
        ),
        (
            {"type": "expect_column_values_to_not_be_null", "args": {"column": "ma_bai", "severity": "warn"}},
            "quality.expectations[0].args.severity: set by the quality runner",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "args": {"column": "ma_bai"},
                "severity": "fatal",
            },
            "quality.expectations[0].severity: Input should be 'error' or 'warn'",
        ),
        (
            {"type": "expect_column_values_to_not_be_null", "arguments": {"column": "ma_bai"}},
            "quality.expectations[0].arguments: unknown field",
        ),
        ({"args": {"column": "ma_bai"}}, "quality.expectations[0].type: Field required"),
    ],
)
def test_problems_name_the_field(entry, expected):
    problems = validate_quality_section(spec_with({"expectations": [entry]}))
    assert any(p.startswith(expected) for p in problems), problems


def test_unknown_top_level_key_and_wrong_shape_are_named():
    assert validate_quality_section(spec_with({"partial": True}))[0].startswith(
        "quality.partial: unknown field"
    )
    assert validate_quality_section(spec_with({"expectations": {"type": "x"}}))[0].startswith(
        "quality.expectations: Input should be a valid list"
    )


def test_columns_are_not_checked_when_the_spec_declares_none():
    entry = {"type": "expect_column_values_to_not_be_null", "args": {"column": "anything"}}
    assert validate_quality_section(spec_with({"expectations": [entry]}, schema={})) == []


def test_a_malformed_section_in_a_yaml_spec_file_is_rejected_with_the_field(tmp_path: Path):
    text = textwrap.dedent(
        """
        id: bai-giu-xe
        agency: {id: so-gtvt, title: {vi: "Sở GTVT"}}
        title: {vi: "Bãi giữ xe"}
        description: {vi: "Bãi giữ xe công cộng"}
        dublin_core: {creator: Sở GTVT, publisher: UBND TP.HCM, date: 2025-07-01}
        source: {type: local_file, path: /dev/null}
        schema:
          columns:
            suc_chua: {type: integer}
        quality:
          expectations:
            - type: expect_column_values_to_be_between
              args: {column: suc_chua, min_value: 0}
            - type: expect_column_values_to_be_between
              args: {column: suc_chua, min_value: 0, max_value: lots}
              severity: warn
        """
    )
    path = tmp_path / "bai-giu-xe.yaml"
    path.write_text(text, encoding="utf-8")
    spec = load_spec(path)  # the spec model keeps accepting the section as a dict
    problems = validate_quality_section(spec)
    assert len(problems) == 1
    assert problems[0].startswith("quality.expectations[1].args.max_value: value is not a valid float")


def test_plausibility_and_drift_fields_parse_with_defaults_and_name_their_errors():
    quality = parse_quality(spec_with())
    assert quality.plausibility is True
    assert (quality.drift.max_ratio, quality.drift.acknowledge) == (10.0, [])
    custom = parse_quality(
        spec_with({"plausibility": False, "drift": {"max_ratio": 4, "acknowledge": ["suc_chua"]}})
    )
    assert (
        not custom.plausibility and custom.drift.max_ratio == 4 and custom.drift.acknowledge == ["suc_chua"]
    )
    assert validate_quality_section(spec_with({"drift": {"max_ratio": 1}}))[0].startswith(
        "quality.drift.max_ratio: Input should be greater than 1"
    )
    assert validate_quality_section(spec_with({"drift": {"ratio": 5}}))[0].startswith(
        "quality.drift.ratio: unknown field"
    )
