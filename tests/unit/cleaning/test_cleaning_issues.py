"""Issue records and their quarantine table."""

from __future__ import annotations

import pyarrow as pa

from cleaning.issues import ISSUE_SCHEMA, Issue, issues_for_mask, issues_to_table


def test_issues_for_mask_names_rows_values_and_column() -> None:
    values = pa.chunked_array([pa.array(["a", "b"]), pa.array([None, "d"])])
    mask = pa.chunked_array([pa.array([False, True]), pa.array([True, None])])
    issues = issues_for_mask(values, mask, "col", "bad")
    assert issues == [Issue(1, "col", "b", "bad"), Issue(2, "col", None, "bad")]


def test_non_string_values_are_reported_as_text() -> None:
    issues = issues_for_mask(pa.array([1, 2, 3]), pa.array([False, False, True]), "n", "too big")
    assert issues == [Issue(2, "n", "3", "too big")]


def test_issues_to_table() -> None:
    table = issues_to_table(
        [Issue(0, "ngay", "31/02/2024", "invalid calendar date")], file="a.csv", row_offset=2
    )
    assert table.schema == ISSUE_SCHEMA
    assert table.to_pylist() == [
        {
            "file": "a.csv",
            "row": 2,
            "column": "ngay",
            "value": "31/02/2024",
            "reason": "invalid calendar date",
        }
    ]
    assert issues_to_table([]).num_rows == 0
