"""Spec errors name the file, the line and the field, and say what to write instead."""

import textwrap
from pathlib import Path

import pytest

from citydata.spec import SpecError, load_spec
from citydata.spec.licenses import CKAN_LICENSES, LICENSE_IDS, check_license
from citydata.spec.model import DatasetSpec
from pipelines.spec_checks import deep_check

SPEC = """\
id: bai-giu-xe
agency:
  id: so-gtvt
  title: {vi: "Sở Giao thông Vận tải"}
title: {vi: "Bãi giữ xe công cộng"}
description: {vi: "Danh sách bãi giữ xe."}
dublin_core:
  creator: Sở GTVT
  publisher: UBND TP.HCM
  date: 2025-07-01
source:
  type: local_file
  path: data/bai-giu-xe.csv
schema:
  primary_key: [ma_bai]
  columns:
    ma_bai: {nullable: false}
    suc_chua: {type: integer, min: 0}
"""


def errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    """Problems of `datasets/bai-giu-xe.yaml`, loaded from tmp_path as the working folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "datasets").mkdir(exist_ok=True)
    path = Path("datasets/bai-giu-xe.yaml")
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.path == path
    assert [p.render(path) for p in err.value.details] == err.value.problems
    return err.value.problems


def test_unknown_source_field_names_file_line_field_and_the_right_spelling(tmp_path, monkeypatch):
    text = SPEC.replace("  path: data/", "  pth: data/")
    # the missing `path` is the misspelt key: one problem, not two
    assert errors(tmp_path, monkeypatch, text) == [
        "datasets/bai-giu-xe.yaml:13: source.pth: unknown field; did you mean 'path'?"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("schema:", "shema:", "datasets/bai-giu-xe.yaml:14: shema: unknown field; did you mean 'schema'?"),
        (
            "ma_bai: {nullable: false}",
            "ma_bai: {nulable: false}",
            "datasets/bai-giu-xe.yaml:17: schema.columns.ma_bai.nulable: unknown field; "
            "did you mean 'nullable'?",
        ),
        (
            "  creator:",
            "  creater:",
            "datasets/bai-giu-xe.yaml:8: dublin_core.creater: unknown field; did you mean 'creator'?",
        ),
    ],
)
def test_unknown_keys_get_the_closest_field_of_their_model(tmp_path, monkeypatch, old, new, expected):
    assert expected in errors(tmp_path, monkeypatch, SPEC.replace(old, new))


def test_the_source_type_chosen_decides_the_suggestions(tmp_path, monkeypatch):
    text = SPEC.replace(
        "  type: local_file\n  path: data/bai-giu-xe.csv\n",
        "  type: rest_api\n  url: https://api.example.gov.vn/x\n  pagination: {type: offset, limt: 50}\n",
    )
    assert errors(tmp_path, monkeypatch, text) == [
        "datasets/bai-giu-xe.yaml:14: source.pagination.limt: unknown field; did you mean 'limit'?"
    ]


def test_a_key_close_to_nothing_lists_the_accepted_fields(tmp_path, monkeypatch):
    [problem] = errors(tmp_path, monkeypatch, SPEC.replace("  path: data/", "  path: data/").replace(
        "  publisher:", "  zzzz: x\n  publisher:"))  # fmt: skip
    assert problem.startswith("datasets/bai-giu-xe.yaml:9: dublin_core.zzzz: unknown field (expected one of:")
    assert "creator" in problem and "rights" in problem


def test_wrong_values_name_their_line(tmp_path, monkeypatch):
    problems = errors(tmp_path, monkeypatch, SPEC.replace("{type: integer, min: 0}", "{type: int, min: 0}"))
    [problem] = problems
    assert problem.startswith("datasets/bai-giu-xe.yaml:18: schema.columns.suc_chua.type: Input should be")


def test_an_unknown_licence_names_the_allowed_ids(tmp_path, monkeypatch):
    [problem] = errors(tmp_path, monkeypatch, SPEC.replace("source:\n", "license: CC-BY-4.0\nsource:\n"))
    assert problem.startswith("datasets/bai-giu-xe.yaml:11: license: unknown licence 'CC-BY-4.0'")
    assert "did you mean 'cc-by'?" in problem
    assert all(licence in problem for licence in LICENSE_IDS)


def test_licence_list_is_ckans_default_list():
    assert len(CKAN_LICENSES) == 15 and LICENSE_IDS[0] == "notspecified" and "cc-by" in LICENSE_IDS
    assert check_license("odc-odbl") == "odc-odbl"
    with pytest.raises(ValueError, match="other-closed"):
        check_license("proprietary")


def test_every_problem_is_reported_at_once_in_file_order(tmp_path, monkeypatch):
    text = SPEC.replace("  creator:", "  creater:").replace("  path: data/", "  pth: data/")
    text = text.replace("suc_chua: {type: integer, min: 0}", "suc_chua: {type: integer, min: zero}")
    problems = errors(tmp_path, monkeypatch, text)
    assert [p.split(": ")[1] for p in problems] == [
        "dublin_core.creater",
        "source.pth",
        "schema.columns.suc_chua.min",
    ]
    assert [int(p.split(":")[1]) for p in problems] == [8, 13, 18]


def test_problems_given_as_text_get_their_line_looked_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = Path("bai-giu-xe.yaml")
    path.write_text(SPEC, encoding="utf-8")
    error = SpecError(path, ["schema.columns.suc_chua.min: too small", "something about the file"])
    assert error.problems == [
        "bai-giu-xe.yaml:18: schema.columns.suc_chua.min: too small",
        "bai-giu-xe.yaml: something about the file",
    ]
    assert SpecError(path, error.problems).problems == error.problems  # given again: unchanged
    assert str(error) == "; ".join(error.problems)


def test_later_sections_unknown_keys_get_suggestions_too():
    import yaml

    data = yaml.safe_load(SPEC)
    data["quality"] = {"expectatons": []}
    data["publication"] = {"privat": True}
    data["labeling"] = {"task_type": "ner", "labels": ["a"], "columns": ["ma_bai"], "overlp": 2}
    problems = deep_check(DatasetSpec.model_validate(data))
    assert "quality.expectatons: unknown field; did you mean 'expectations'?" in problems
    assert "publication.privat: unknown field; did you mean 'private'?" in problems
    assert "labeling.overlp: unknown field; did you mean 'overlap'?" in problems
