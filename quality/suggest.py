"""Suggest expectations from cleaned data, ready to paste under `quality.expectations` in a spec.

GX 1.x has no profiler; this one reads the Arrow table with pyarrow compute:

    no nulls                       expect_column_values_to_not_be_null          error (warn below 30
                                                                                values, see below)
    every value distinct           expect_column_values_to_be_unique            error (warn below 30
                                                                                values; not floats,
                                                                                not booleans)
    numbers                        expect_column_values_to_be_between observed  warn
    text, few distinct values      expect_column_values_to_be_in_set            warn
    text that looks like codes     expect_column_values_to_match_regex          warn
      (no spaces, a digit, one shape of letters/digits/punctuation, e.g. ^[A-Z]{2}\\d{4,6}$)

Severity fits the evidence: a column with fewer than ``MIN_EVIDENCE`` (30) non-null values says
little about next month's file (three distinct values are unique by chance), so its not-null and
unique suggestions are ``warn`` until there is more data; from 30 values on they are ``error``.

Columns the clean stage adds for admin units (province_code, ward_name, admin_status...) are left
out, and so are suggestions the schema hints already imply (`quality.spec.derived_expectations`).
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from citydata.spec.model import DatasetSpec
from quality.spec import ADMIN_DERIVED, derived_expectations

MAX_SET = 20  # at most this many distinct values for a value-set suggestion
MIN_EVIDENCE = 30  # non-null values a column needs before its not-null / unique checks block (error)
_CLASSES = {"9": r"\d", "A": "[A-Z]", "a": "[a-z]"}
_KEY_NAME = re.compile(r"^(id|ma|ma_.*|.*_id|.*_code|.*_ma)$")
_SKIP = set(ADMIN_DERIVED) | {f"std_{c}" for c in ADMIN_DERIVED}


def _shapes(values: pa.ChunkedArray | pa.Array) -> list[str]:
    shape = pc.replace_substring_regex(values, r"[0-9]", "9")
    shape = pc.replace_substring_regex(shape, r"[A-Z]", "A")
    shape = pc.replace_substring_regex(shape, r"[a-z]", "a")
    return [s for s in pc.unique(shape).to_pylist() if s is not None]


def _runs(shape: str) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for ch in shape:
        if runs and runs[-1][0] == ch and ch in _CLASSES:
            runs[-1] = (ch, runs[-1][1] + 1)
        else:
            runs.append((ch, 1))
    return runs


def code_regex(values: pa.ChunkedArray | pa.Array, max_shapes: int = 8) -> str | None:
    """A regex every value matches when the values look like codes (one shape, lengths may vary)."""
    valid = pc.drop_null(values)
    if len(valid) == 0 or pc.any(pc.match_substring_regex(valid, r"\s")).as_py():
        return None
    if not pc.all(pc.match_substring_regex(valid, r"[0-9]")).as_py():
        return None
    if pc.max(pc.utf8_length(valid)).as_py() > 40:
        return None
    shapes = _shapes(valid)
    if not shapes or len(shapes) > max_shapes:
        return None
    runs = [_runs(s) for s in shapes]
    kinds = {tuple(ch for ch, _ in r) for r in runs}
    if len(kinds) != 1:
        return None
    parts = []
    for i, ch in enumerate(next(iter(kinds))):
        if ch not in _CLASSES:
            parts.append(re.escape(ch))
            continue
        lengths = [r[i][1] for r in runs]
        low, high = min(lengths), max(lengths)
        quantifier = "" if low == high == 1 else f"{{{low}}}" if low == high else f"{{{low},{high}}}"
        parts.append(_CLASSES[ch] + quantifier)
    return "^" + "".join(parts) + "$"


def key_like(name: str) -> bool:
    """A column name that says it identifies rows: id, ma, ma_*, *_id, *_code, *_ma."""
    return _KEY_NAME.match(name) is not None


def _entry(kind: str, severity: str, **args: Any) -> dict[str, Any]:
    return {"type": kind, "args": args, "severity": severity}


def evidence_severity(values: int, min_evidence: int = MIN_EVIDENCE) -> str:
    """``error`` once a column has ``min_evidence`` non-null values, else ``warn``: a rule seen to
    hold on a handful of rows must not block the next publication."""
    return "error" if values >= min_evidence else "warn"


def suggest_expectations(
    table: pa.Table, max_set: int = MAX_SET, min_evidence: int = MIN_EVIDENCE
) -> list[dict[str, Any]]:
    """Expectation entries (`type`, `args`, `severity`) the data satisfies today; not-null and
    unique ones are `warn` for columns with fewer than `min_evidence` non-null values."""
    out: list[dict[str, Any]] = []
    rows = table.num_rows
    if rows == 0:
        return out
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        present = rows - column.null_count
        if present == 0 or name in _SKIP:
            continue
        sure = evidence_severity(present, min_evidence)
        if column.null_count == 0:
            out.append(_entry("expect_column_values_to_not_be_null", sure, column=name))
        distinct = pc.count_distinct(column, mode="only_valid").as_py()
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if (
            present > 1
            and distinct == present
            and not pa.types.is_floating(kind)
            and not pa.types.is_boolean(kind)
        ):
            out.append(_entry("expect_column_values_to_be_unique", sure, column=name))
        if numeric:
            bounds = pc.min_max(column)
            out.append(_entry("expect_column_values_to_be_between", "warn", column=name,
                              min_value=bounds["min"].as_py(), max_value=bounds["max"].as_py()))  # fmt: skip
        elif text and distinct <= max_set and distinct < present:
            values = sorted(v for v in pc.unique(pc.drop_null(column)).to_pylist() if v is not None)
            out.append(_entry("expect_column_values_to_be_in_set", "warn", column=name, value_set=values))
        elif text and (regex := code_regex(column)) is not None:
            out.append(_entry("expect_column_values_to_match_regex", "warn", column=name, regex=regex))
    return out


def without_defaults(
    spec: DatasetSpec, entries: list[dict[str, Any]], columns: list[str]
) -> list[dict[str, Any]]:
    """Drop suggestions the spec's schema hints already derive (same expectation, same column)."""
    derived = {(p.type, tuple(p.columns)) for p in derived_expectations(spec, set(columns))}
    return [e for e in entries if (e["type"], (e["args"].get("column"),)) not in derived]


def to_yaml(entries: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(
        {"quality": {"expectations": entries}},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=100,
    )
