"""One rule for every column a spec names: listed, derived by cleaning, or in the cleaned data."""

import textwrap
from pathlib import Path

import pytest

from citydata.spec import SpecError, load_spec
from citydata.spec.columns import ADMIN_COLUMNS, column_references, problem_lines, spec_column_problems
from citydata.spec.model import DatasetSpec

HEAD = """\
id: bai-giu-xe
agency: {id: so-gtvt, title: {vi: "Sở GTVT"}}
title: {vi: "Bãi giữ xe"}
description: {vi: "Bãi giữ xe công cộng"}
dublin_core: {creator: Sở GTVT, publisher: UBND TP.HCM, date: 2025-07-01}
source: {type: local_file, path: /dev/null}
schema:
  primary_key: [ma_bai]
  columns:
    ma_bai: {nullable: false}
    noi_dung: {}
    phuong: {admin_unit: ward}
    so_dien_thoai: {pii: drop}
"""


def problems(tmp_path: Path, tail: str, head: str = HEAD) -> list[str]:
    path = tmp_path / "bai-giu-xe.yaml"
    path.write_text(head + textwrap.dedent(tail), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    prefix = f"{path}:"
    assert all(p.startswith(prefix) for p in err.value.problems)
    return [p.removeprefix(prefix) for p in err.value.problems]


def test_primary_key_names_a_listed_column(tmp_path):
    text = HEAD.replace("primary_key: [ma_bai]", "primary_key: [ma_bia]")
    assert problems(tmp_path, "", head=text) == [
        "8: schema.primary_key[0]: unknown column 'ma_bia'; did you mean 'ma_bai'? "
        "(columns: admin_conflict, admin_status, ma_bai, noi_dung, old_district_code, old_district_name, "
        "phuong, province_code, province_name, ward_code, ward_name)"
    ]


def test_quality_and_labeling_references_follow_the_same_rule(tmp_path):
    tail = """\
    quality:
      expectations:
        - type: expect_column_values_to_not_be_null
          args: {column: noi_dug}
        - type: expect_compound_columns_to_be_unique
          args: {column_list: [ma_bai, nam]}
      drift: {acknowledge: [phuog]}
    labeling:
      task_type: text_classification
      labels: [a, b]
      columns: [noi_dung, tieu_de]
      id_column: ma_bai
      sampling: {strategy: stratified, column: so_dien_thoai}
      baseline: {kind: column, column: goi_y}
    """
    found = [p.split(" (columns:")[0] for p in problems(tmp_path, tail)]
    assert found == [
        "17: quality.expectations[0].args.column: unknown column 'noi_dug'; did you mean 'noi_dung'?",
        "19: quality.expectations[1].args.column_list[1]: unknown column 'nam'",
        "20: quality.drift.acknowledge[0]: unknown column 'phuog'; did you mean 'phuong'?",
        "24: labeling.columns[1]: unknown column 'tieu_de'",
        "26: labeling.sampling.column: column 'so_dien_thoai' is dropped by cleaning (pii: drop)",
        "27: labeling.baseline.column: unknown column 'goi_y'",
    ]


def test_columns_derived_by_cleaning_count_as_listed(tmp_path):
    path = tmp_path / "bai-giu-xe.yaml"
    tail = """\
    quality:
      expectations:
        - type: expect_column_values_to_not_be_null
          args: {column: ward_code}
      drift: {acknowledge: [std_ward_name]}
    """
    path.write_text(HEAD + textwrap.dedent(tail), encoding="utf-8")
    assert load_spec(path).quality["drift"]["acknowledge"] == ["std_ward_name"]


def test_without_admin_units_the_admin_columns_are_unknown(tmp_path):
    text = HEAD.replace("    phuong: {admin_unit: ward}\n", "").replace("[ma_bai]", "[ward_code]")
    [problem] = problems(tmp_path, "", head=text)
    assert "unknown column 'ward_code'" in problem


def test_without_listed_columns_nothing_is_checked_at_load_but_the_same_words_later(tmp_path):
    head = HEAD.split("  columns:")[0].replace("[ma_bai]", "[ma_bia]")
    path = tmp_path / "bai-giu-xe.yaml"
    path.write_text(head, encoding="utf-8")
    spec = load_spec(path)  # no schema.columns: checked against the cleaned data instead
    after_run = problem_lines(spec_column_problems(spec, available=["ma_bai", "ten"]))
    assert after_run == [
        "schema.primary_key[0]: unknown column 'ma_bia'; did you mean 'ma_bai'? (columns: ma_bai, ten)"
    ]
    assert spec_column_problems(spec, available=["ma_bia"]) == []


def test_references_are_read_from_the_sections_as_written():
    data = {
        "id": "bai-giu-xe",
        "agency": {"id": "so-gtvt", "title": {"vi": "Sở"}},
        "title": {"vi": "x"},
        "description": {"vi": "x"},
        "dublin_core": {"creator": "a", "publisher": "b", "date": "2025-07-01"},
        "source": {"type": "local_file", "path": "/dev/null"},
        "quality": {"expectations": [{"type": "x", "args": {"column_A": "a", "column_B": "b"}}, "junk"]},
        "labeling": {"columns": "not-a-list-but-a-name", "sampling": "junk"},
    }
    refs = column_references(DatasetSpec.model_validate(data))
    assert [(r.field, r.column) for r in refs] == [
        ("quality.expectations[0].args.column_A", "a"),
        ("quality.expectations[0].args.column_B", "b"),
        ("labeling.columns", "not-a-list-but-a-name"),
    ]


def test_the_columns_a_spec_may_name_are_the_columns_cleaning_adds(tmp_path):
    """What the spec check counts as derived is what the clean stage really writes."""
    import pyarrow.parquet as pq

    from citydata.spec.columns import derived_columns
    from connectors.base import RawObject
    from ingest.clean_files import CleanOutputs, CleanResult, clean_files

    path = tmp_path / "bai-giu-xe.yaml"
    path.write_text(HEAD.replace("/dev/null", str(tmp_path / "a.csv")), encoding="utf-8")
    spec = load_spec(path)
    source = "ma_bai,noi_dung,phuong,so_dien_thoai\nB01,Bãi A,Phường Bến Thành,0903123456\n"
    outputs = CleanOutputs(tmp_path)
    clean_files(
        spec, [RawObject("a.csv", "file://a.csv", data=source.encode())], outputs, CleanResult(spec.id, "p")
    )
    outputs.close()
    written = set(pq.read_table(outputs.data_path).column_names)
    assert set(ADMIN_COLUMNS) <= derived_columns(spec)  # and std_<name> when the source has one
    assert written - set(spec.schema_.columns) == set(ADMIN_COLUMNS)
