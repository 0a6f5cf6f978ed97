"""Data Docs in Vietnamese: the words of GX's rendered documents, translated before they become HTML.

GX renders each page as a document (headers, tables, string templates with `$params`) and then
HTML. `translate_document` rewrites that document: the page chrome (headings, table labels,
status words) and the descriptions of the expectation types the project derives or suggests
(`EXPECTATION_TYPES`), whose templates are built here from the same pieces GX composes them of,
so each English template has exactly one Vietnamese one with the same `$params`. Values from the
data (column names, unexpected values, parameters) are never touched: only the keys named below.
A template not in the table (an expectation type added by hand in a spec) stays in English rather
than half translated. `tests/unit/quality/test_docs_vi.py` renders every variant GX produces for
`EXPECTATION_TYPES` and checks that each one is translated.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

EXPECTATION_TYPES = (
    "expect_column_to_exist",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_null",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
    "expect_table_row_count_to_be_between",
)

# Headings and section names: the only plain words translated where a column's name also appears
# (a column named "Status" keeps its name).
HEADINGS = {
    "Overview": "Tổng quan",
    "Statistics": "Thống kê",
    "Info": "Thông tin",
    "Notes": "Ghi chú",
    "Batch Markers": "Dấu mốc của lô dữ liệu",
    "Batch Spec": "Mô tả lô dữ liệu",
    "Table-Level Expectations": "Kiểm tra trên toàn bảng",
}
WORDS = HEADINGS | {
    "Validation Results": "Kết quả kiểm tra",
    "Expectation Suites": "Bộ kiểm tra",
    # table labels
    "Evaluated Expectations": "Số kiểm tra đã chạy",
    "Successful Expectations": "Số kiểm tra đạt",
    "Unsuccessful Expectations": "Số kiểm tra không đạt",
    "Success Percent": "Tỷ lệ đạt",
    "Great Expectations Version": "Phiên bản Great Expectations",
    "Expectation Suite Name": "Tên bộ kiểm tra",
    "Run Name": "Lần chạy",
    "Run Time": "Thời điểm chạy",
    "Status": "Trạng thái",
    "Expectation": "Kiểm tra",
    "Expectation Suite": "Bộ kiểm tra",
    "Observed Value": "Giá trị ghi nhận",
    "Unexpected Value": "Giá trị không đạt",
    "Count": "Số lần",
    "Index": "Vị trí dòng",
    "Asset Name": "Dữ liệu",
    "Batch ID": "Mã lô",
    "Show more info...": "Xem thêm thông tin...",
    "Show more...": "Xem thêm...",
    # status words
    "Succeeded": "Đạt",
    "Failed": "Không đạt",
    "Expectation Suite:": "Bộ kiểm tra:",
    "Data asset:": "Dữ liệu:",
    "Status:": "Trạng thái:",
    "Data Docs": "Báo cáo chất lượng dữ liệu",
    "Validations": "Kết quả kiểm tra",
    "Expectations": "Bộ kiểm tra",
}

_OBSERVED = [  # observed values GX writes as text: "≈66.667% unexpected", "75% not null"
    (re.compile(r"^(≈?[\d.]+%) unexpected$"), r"\1 không đạt"),
    (re.compile(r"^(≈?[\d.]+%) not null$"), r"\1 có giá trị"),
    (re.compile(r"^(≈?[\d.]+%) null$"), r"\1 để trống"),
]
_SUITE_NOTE = re.compile(
    r"^This Expectation suite currently contains (\d+) total Expectations across (\d+) columns\.$"
)
_PAGE_TITLE = re.compile(r"^(Validations|Expectations) / ")
# Lists of values and columns GX numbers one by one ($v__0 $v__1 ..., $column_list_0, ...).
_VALUES = re.compile(r"\$v__\d+(?: \$v__\d+)*")
_COLUMNS = re.compile(r"\$column_list_\d+(?:, \$column_list_\d+)*")
_MOSTLY_EN = ", at least $mostly_pct % of the time"
_MOSTLY_VI = ", ở ít nhất $mostly_pct % số dòng"


def _bounds() -> list[tuple[str, str]]:
    """Every bound phrase GX writes for min/max values (inclusive or strict, one or both)."""
    low = [("greater than or equal to $min_value", "lớn hơn hoặc bằng $min_value"),
           ("greater than $min_value", "lớn hơn $min_value")]  # fmt: skip
    high = [("less than or equal to $max_value", "nhỏ hơn hoặc bằng $max_value"),
            ("less than $max_value", "nhỏ hơn $max_value")]  # fmt: skip
    both = [(f"{a} and {b}", f"{x} và {y}") for (a, x), (b, y) in itertools.product(low, high)]
    return low + high + both


def _templates() -> dict[str, str]:
    """English template (as Data Docs show it under a column's heading) -> Vietnamese."""
    out: dict[str, str] = {}

    def add(en: str, vi: str, mostly: bool = True) -> None:
        out[en + "."] = vi + "."
        if mostly:
            out[en + _MOSTLY_EN + "."] = vi + _MOSTLY_VI + "."

    add("is a required field", "là cột bắt buộc phải có", mostly=False)
    add("values must be of type $type_", "giá trị phải có kiểu $type_", mostly=False)
    add("values must never be null", "giá trị không được để trống", mostly=False)
    add("values must not be null", "giá trị không được để trống")
    add("values must be unique", "giá trị không được trùng nhau")
    add("values must be null", "giá trị phải để trống")
    add("values must belong to this set: {values}", "giá trị phải thuộc tập: {values}")
    add("values must match this regular expression: $regex", "giá trị phải khớp biểu thức chính quy: $regex")
    for en, vi in _bounds():
        add(f"values must be {en}", f"giá trị phải {vi}")
        add(f"minimum value must be {en}", f"giá trị nhỏ nhất phải {vi}", mostly=False)
        add(f"maximum value must be {en}", f"giá trị lớn nhất phải {vi}", mostly=False)
        out[f"Must have {en} rows."] = f"Số dòng phải {vi}."
    out["Values for given compound columns must be unique together: {columns}"] = (
        "Tổ hợp giá trị của các cột không được trùng nhau: {columns}"
    )
    out["Values for given compound columns must be unique together" + _MOSTLY_EN + ": {columns}"] = (
        "Tổ hợp giá trị của các cột không được trùng nhau" + _MOSTLY_VI + ": {columns}"
    )
    out["$unexpected_count unexpected values found. $unexpected_percent of $element_count total rows."] = (
        "$unexpected_count giá trị không đạt, chiếm $unexpected_percent trong $element_count dòng."
    )
    return out


TEMPLATES = _templates()


def translate_template(template: str) -> str | None:
    """The Vietnamese template for a GX one, or None when it is not in the table."""
    if template in HEADINGS:
        return HEADINGS[template]
    body = template.strip()
    lead, trail = template[: len(template) - len(template.lstrip())], template[len(template.rstrip()) :]
    column = body.startswith("$column ")  # the form outside a column's section names the column
    if column:
        body = body.removeprefix("$column ")
    values = _VALUES.search(body)
    columns = _COLUMNS.search(body)
    key = _COLUMNS.sub("{columns}", _VALUES.sub("{values}", body))
    vi = TEMPLATES.get(key)
    if vi is None:
        return None
    vi = vi.replace("{values}", values.group(0) if values else "")
    vi = vi.replace("{columns}", columns.group(0) if columns else "")
    return lead + ("$column: " + vi if column else vi[:1].upper() + vi[1:]) + trail


def _cell(text: str) -> str:
    for pattern, replacement in _OBSERVED:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return WORDS.get(text, text)


_PARAM_KEYS = {"suite_title", "data_asset", "status_title", "success", "title_prefix"}


def _string_template(block: dict[str, Any]) -> None:
    template = block.get("template")
    if isinstance(template, str):
        block["template"] = translate_template(template) or template
    params = block.get("params")
    if isinstance(params, dict):
        for key in _PARAM_KEYS & params.keys():
            if isinstance(params[key], str):
                params[key] = WORDS.get(params[key], params[key])


def _table(block: dict[str, Any]) -> None:
    header = block.get("header_row")
    rows = block.get("table")
    if isinstance(header, list):
        block["header_row"] = [WORDS.get(h, h) if isinstance(h, str) else h for h in header]
    if not isinstance(rows, list):
        return
    if not header:  # label / value tables (Statistics, Info): the labels are GX's words
        for row in rows:
            if isinstance(row, list) and row and isinstance(row[0], str):
                row[0] = WORDS.get(row[0], row[0])
    elif header[-1:] == ["Observed Value"]:  # the observed value's own words; never the data
        for row in rows:
            if isinstance(row, list) and row and isinstance(row[-1], str):
                row[-1] = _cell(row[-1])


def translate_document(node: Any) -> Any:
    """Translate a GX document (as `to_json_dict()` gives it) in place; returns it."""
    if isinstance(node, list):
        for item in node:
            translate_document(item)
        return node
    if not isinstance(node, dict):
        return node
    if node.get("content_block_type") == "table":
        _table(node)
    if "string_template" in node and isinstance(node["string_template"], dict):
        _string_template(node["string_template"])
    if node.get("content_block_type") == "string_template" or ("template" in node and "params" in node):
        _string_template(node)
    if isinstance(node.get("section_name"), str):
        node["section_name"] = HEADINGS.get(node["section_name"], node["section_name"])
    for key in ("tab_name", "collapse_toggle_link", "title", "_validation_success_text"):
        if isinstance(node.get(key), str):
            node[key] = WORDS.get(node[key], node[key])
    if isinstance(node.get("page_title"), str):
        node["page_title"] = _PAGE_TITLE.sub(lambda m: WORDS[m.group(1)] + " / ", node["page_title"])
    if isinstance(node.get("text"), list):
        node["text"] = [
            _SUITE_NOTE.sub(r"Bộ kiểm tra này có \1 kiểm tra trên \2 cột.", t) if isinstance(t, str) else t
            for t in node["text"]
        ]
    for key, value in node.items():
        if key != "params" and isinstance(value, dict | list):
            translate_document(value)
    return node
