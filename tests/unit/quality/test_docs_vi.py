"""Data Docs in Vietnamese (quality.docs_vi): every description GX writes for the expectation types
the project uses has a Vietnamese template with the same parameters; data values are never changed."""

import itertools
import re

import pytest

from quality.docs_vi import EXPECTATION_TYPES, HEADINGS, translate_document, translate_template

_PARAM = re.compile(r"\$[A-Za-z_0-9]+")


def _variants() -> list[tuple[str, dict]]:
    """Each type with the argument shapes that change GX's wording (bounds, strictness, mostly)."""
    out: list[tuple[str, dict]] = []
    bounds = [{"min_value": 0}, {"max_value": 5}, {"min_value": 0, "max_value": 5}]
    strict = [{}, {"strict_min": True}, {"strict_max": True}, {"strict_min": True, "strict_max": True}]
    for kind in EXPECTATION_TYPES:
        base: dict = {"column": "c"}
        if kind == "expect_table_row_count_to_be_between":
            base = {}
        elif kind == "expect_compound_columns_to_be_unique":
            base = {"column_list": ["a", "b", "c"]}
        elif kind == "expect_column_values_to_be_of_type":
            base["type_"] = "int64"
        elif kind == "expect_column_values_to_be_in_set":
            base["value_set"] = ["01", "79", "x"]
        elif kind == "expect_column_values_to_match_regex":
            base["regex"] = r"^\d{5}$"
        shapes: list[dict] = [{}]
        if kind.endswith("_between"):
            shapes = [b | s for b, s in itertools.product(bounds, strict)]
            shapes = [s for s in shapes if ("strict_min" not in s or "min_value" in s)]
            shapes = [s for s in shapes if ("strict_max" not in s or "max_value" in s)]
        mostly = (
            [{}, {"mostly": 0.9}] if kind.startswith("expect_column_values") or "compound" in kind else [{}]
        )
        if kind in ("expect_column_to_exist", "expect_column_values_to_be_of_type"):
            mostly = [{}]
        out += [(kind, base | shape | m) for shape in shapes for m in mostly]
    return out


def _gx_templates() -> list[tuple[str, str]]:
    from great_expectations.expectations.registry import get_renderer_impl

    from quality import _gx

    found = []
    for kind, kwargs in _variants():
        expectation = _gx.instantiate(kind, kwargs, "error", {})
        renderer = get_renderer_impl(kind, "renderer.prescriptive")[1]
        for rendered in renderer(configuration=expectation.configuration):
            template = rendered.to_json_dict()["string_template"]["template"]
            found.append((kind, template))
            if template.startswith("$column "):  # Data Docs show it under the column's heading
                found.append((kind, template.removeprefix("$column ")))
    return found


@pytest.mark.parametrize(("kind", "template"), _gx_templates())
def test_every_description_gx_writes_for_the_projects_types_is_translated(kind, template):
    vi = translate_template(template)
    assert vi is not None, (kind, template)
    assert sorted(_PARAM.findall(vi)) == sorted(_PARAM.findall(template)), (template, vi)
    assert not re.search(r"\b(values?|must|than|equal|least|time|rows?|unique|null)\b", vi), vi


def test_unknown_templates_stay_in_english_and_column_names_stay_names():
    assert translate_template("$column values must be valid JSON.") is None
    assert translate_template("Status") is None  # a column may be called so
    assert translate_template("Overview") == HEADINGS["Overview"]


def test_only_gx_words_change_never_the_data():
    doc = {
        "renderer_type": "ValidationResultsPageRenderer",
        "page_title": "Validations / ds / p1 / 2026-01-01T00:00:00Z",
        "sections": [
            {"section_name": "Overview", "content_blocks": [
                {"content_block_type": "string_template", "string_template": {
                    "template": "${status_title} ${success}",
                    "params": {"status_title": "Status:", "success": "Failed", "column": "Overview"}}},
                {"content_block_type": "table",
                 "table": [["Evaluated Expectations", "3"], ["Run Name", "Failed"]]},
            ]},
            {"section_name": "Status", "content_blocks": [
                {"content_block_type": "header", "header": {"content_block_type": "string_template",
                                                            "string_template": {"template": "Status"}}},
                {"content_block_type": "table", "header_row": ["Status", "Expectation", "Observed Value"],
                 "table": [["", {"content_block_type": "string_template", "string_template": {
                     "template": "values must be unique.", "params": {"column": "Status"}}},
                     "25% unexpected"]]},
                {"content_block_type": "table", "header_row": ["Unexpected Value", "Count", "Index"],
                 "table": [["25% unexpected", "1", "0"], ["Failed", "1", "1"]]},
            ]},
        ],
    }  # fmt: skip
    translate_document(doc)
    overview, column = doc["sections"]
    assert overview["section_name"] == "Tổng quan" and column["section_name"] == "Status"
    params = overview["content_blocks"][0]["string_template"]["params"]
    assert params == {"status_title": "Trạng thái:", "success": "Không đạt", "column": "Overview"}
    assert overview["content_blocks"][1]["table"] == [["Số kiểm tra đã chạy", "3"], ["Lần chạy", "Failed"]]
    assert column["content_blocks"][0]["header"]["string_template"]["template"] == "Status"  # a column
    results = column["content_blocks"][1]
    assert results["header_row"] == ["Trạng thái", "Kiểm tra", "Giá trị ghi nhận"]
    assert results["table"][0][1]["string_template"]["template"] == "Giá trị không được trùng nhau."
    assert results["table"][0][1]["string_template"]["params"] == {"column": "Status"}
    assert results["table"][0][2] == "25% không đạt"
    unexpected = column["content_blocks"][2]
    assert unexpected["header_row"] == ["Giá trị không đạt", "Số lần", "Vị trí dòng"]
    assert unexpected["table"] == [["25% unexpected", "1", "0"], ["Failed", "1", "1"]]  # the data
    assert doc["page_title"] == "Kết quả kiểm tra / ds / p1 / 2026-01-01T00:00:00Z"
