import textwrap
from pathlib import Path

import pytest

from citydata.spec import SpecError, load_spec, load_specs

VALID = """
id: bai-giu-xe
agency:
  id: so-gtvt
  title: {vi: "Sở Giao thông Vận tải", en: "Department of Transport"}
title: {vi: "Bãi giữ xe công cộng", en: "Public parking lots"}
description: {vi: "Danh sách bãi giữ xe trên địa bàn thành phố."}
dublin_core:
  creator: Sở Giao thông Vận tải
  publisher: UBND Thành phố Hồ Chí Minh
  date: 2025-07-01
  subject: [giao thông]
update_frequency: "0 2 * * *"
source:
  type: http_file
  url: https://data.example.gov.vn/bai-giu-xe.csv
schema:
  primary_key: [ma_bai]
  columns:
    ma_bai: {type: string, nullable: false, rename_from: "Mã bãi"}
    suc_chua: {type: integer, min: 0}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_valid_spec_loads_with_typed_source(tmp_path):
    spec = load_spec(write(tmp_path, "bai-giu-xe", VALID))
    assert spec.source.type == "http_file"
    assert spec.source.url.endswith(".csv")  # type: ignore[attr-defined]
    assert spec.schema_.columns["ma_bai"].rename_from == ["Mã bãi"]
    assert spec.dublin_core.language == ["vi"]
    assert spec.cleaning.pii == "mask"


def problems_of(tmp_path: Path, name: str, text: str) -> list[str]:
    with pytest.raises(SpecError) as err:
        load_spec(write(tmp_path, name, text))
    assert str(tmp_path) in str(err.value)  # the message names the file
    return err.value.problems


def located(tmp_path: Path, name: str, line: int | None) -> str:
    """The 'file:line: ' prefix every problem starts with."""
    return f"{tmp_path / name}.yaml" + (f":{line}" if line else "") + ": "


def test_missing_source_field_is_named(tmp_path):
    text = VALID.replace("  url: https://data.example.gov.vn/bai-giu-xe.csv\n", "")
    where = located(tmp_path, "bai-giu-xe", 14)  # the line of `source:`
    assert problems_of(tmp_path, "bai-giu-xe", text) == [where + "source.url: Field required"]


def test_unknown_field_is_named(tmp_path):
    text = VALID.replace("update_frequency:", "update_frequncy:")
    assert "update_frequncy: unknown field" in problems_of(tmp_path, "bai-giu-xe", text)[0]


def test_unknown_source_type_lists_known_ones(tmp_path):
    text = VALID.replace("type: http_file", "type: ftp")
    [problem] = problems_of(tmp_path, "bai-giu-xe", text)
    problem = problem.removeprefix(located(tmp_path, "bai-giu-xe", 14))
    assert problem.startswith("source:") and "http_file" in problem and "'ftp'" in problem


def test_bad_cron_and_date_are_named(tmp_path):
    text = VALID.replace('"0 2 * * *"', '"every day"').replace("2025-07-01", "01/07/2025")
    problems = problems_of(tmp_path, "bai-giu-xe", text)
    assert any(
        p.startswith(located(tmp_path, "bai-giu-xe", 13) + "update_frequency:") and "cron" in p
        for p in problems
    )
    assert any(p.startswith(located(tmp_path, "bai-giu-xe", 11) + "dublin_core.date:") for p in problems)


@pytest.mark.parametrize("bad_id", ["../etc", "Bai_Giu_Xe", "a", "x/y", "bai--xe"])
def test_unsafe_ids_are_rejected(tmp_path, bad_id):
    text = VALID.replace("id: bai-giu-xe", f"id: {bad_id!r}", 1)
    problems = problems_of(tmp_path, "some-file", text)
    assert any(p.startswith(located(tmp_path, "some-file", 2) + "id:") for p in problems)


def test_id_must_match_file_name(tmp_path):
    [problem] = problems_of(tmp_path, "other-name", VALID)
    where = located(tmp_path, "other-name", 2)
    assert problem.startswith(where + "id: must match the file name ('other-name'), got 'bai-giu-xe'")


def test_primary_key_must_be_a_listed_column(tmp_path):
    text = VALID.replace("primary_key: [ma_bai]", "primary_key: [ma_khac]")
    [problem] = problems_of(tmp_path, "bai-giu-xe", text)
    where = located(tmp_path, "bai-giu-xe", 18)  # the line of `primary_key:`
    assert problem.startswith(where + "schema.primary_key[0]:") and "ma_khac" in problem


def test_folder_load_keeps_good_specs_and_reports_bad(tmp_path):
    write(tmp_path, "bai-giu-xe", VALID)
    write(tmp_path, "broken", "id: broken\n")
    (tmp_path / "junk.yaml").write_text("- just\n- a list\n")
    loaded = load_specs(tmp_path)
    assert list(loaded.specs) == ["bai-giu-xe"]
    assert sorted(e.path.name for e in loaded.errors) == ["broken.yaml", "junk.yaml"]


def test_invalid_yaml_is_reported_with_position(tmp_path):
    problems = problems_of(tmp_path, "bai-giu-xe", "id: [unclosed\n")
    assert (
        problems[0].startswith(located(tmp_path, "bai-giu-xe", 2) + "invalid YAML") and "line" in problems[0]
    )
