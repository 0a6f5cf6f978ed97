"""Spec-driven cleaning of one batch: names, text, types, admin units, PII, required values.

Rows with a cell that fails (a value that is not a number or a date, a missing required value)
are split off with the reason per row, for quarantine; the rest continue. Findings that do not
make a row wrong (an unknown ward name, an Excel error value) are kept as warnings.
Column types are fixed by the first batch (hints first, then inference), so every batch of a
large file ends with the same schema.
"""

from __future__ import annotations

import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.spec.model import ColumnHint, ColumnType, DatasetSpec
from cleaning import (
    Issue,
    apply_pii,
    normalize_admin_units,
    normalize_strings,
    parse_dates,
    parse_numbers,
    scan_pii,
    snake_case,
    snake_case_columns,
)
from cleaning.admin_units import ADMIN_COLUMNS
from cleaning.text import DEFAULT_NULL_TOKENS, Cleaned, is_formula_injection

_TRUE = {"true", "1", "x", "có", "co", "yes", "y", "đúng", "dung", "t"}
_FALSE = {"false", "0", "không", "khong", "no", "n", "sai", "f"}
_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
}
_INFER_MIN_VALID = 0.98  # share of non-null values that must parse before a column is typed
_INFER_SAMPLE = 2_000
_PII_SAMPLE = 20_000
_VI_THOUSANDS = r"^[+-]?\d{1,3}(\.\d{3})+$"  # "1.200", "12.345.678": Vietnamese thousands


class SchemaMismatchError(ValueError):
    """The file's columns do not fit the spec (a required column is missing)."""


@dataclass
class ColumnPlan:
    name: str  # cleaned snake_case name
    label: str  # original header, for the data dictionary
    type: ColumnType = "string"
    hint: ColumnHint | None = None
    inferred: bool = False


@dataclass
class BatchOutput:
    good: pa.Table
    rejected: pa.Table  # the rows as read (strings) + _line + _reasons
    warnings: list[Issue] = field(default_factory=list)
    pii: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> kind -> cells in the sample


def _has_leading_zero_codes(values: pa.ChunkedArray | pa.Array) -> bool:
    # "0123", "079..." are codes or phone numbers: typing them as numbers would lose the zero.
    matches = pc.match_substring_regex(values, r"^0\d+$")
    return bool(pc.any(matches).as_py())


def _valid_share(parsed: pa.Array | pa.ChunkedArray, source: pa.Array | pa.ChunkedArray) -> float:
    present = len(source) - source.null_count
    return 1.0 if present == 0 else (len(parsed) - parsed.null_count) / present


def _string_data(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of a string chunk, zero-copy: byte-level scans without per-row Python."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    data_buffer = chunk.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    return offsets, data


def _rows_with_byte(values: pa.ChunkedArray, byte: int) -> list[int]:
    """Rows whose text holds `byte` (scanning the raw buffers; rows are only computed on a hit)."""
    rows: list[int] = []
    base = 0
    for chunk in values.chunks:
        offsets, data = _string_data(chunk)
        span = data[offsets[0] : offsets[-1]]
        if span.size and (span == byte).any():
            hits = np.flatnonzero(span == byte) + offsets[0]
            rows.extend(int(r) + base for r in np.unique(np.searchsorted(offsets, hits, side="right") - 1))
        base += len(chunk)
    return rows


def _strip_nul(table: pa.Table) -> tuple[pa.Table, list[Issue]]:
    """NUL bytes: invalid in PostgreSQL text and most tools; removed, each one reported."""
    issues: list[Issue] = []
    for i, name in enumerate(table.column_names):
        values = table.column(name)
        if not pa.types.is_string(values.type):
            continue
        rows = _rows_with_byte(values, 0)
        if not rows:
            continue
        for row in rows:
            issues.append(Issue(row, name, values[row].as_py().replace("\x00", "\\0"), "NUL byte removed"))
        table = table.set_column(i, name, pc.replace_substring(values, "\x00", ""))
    return table, issues


_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="clean")
_FORMULA_FIRST_BYTES = np.frombuffer(b"=+-@\t\r", dtype=np.uint8)


def _formula_like(table: pa.Table) -> list[Issue]:
    """Cells a spreadsheet would run as a formula; kept as data, escaped in CSV downloads."""
    issues: list[Issue] = []
    for name in table.column_names:
        values = table.column(name)
        if not pa.types.is_string(values.type):
            continue
        # The first byte of every cell straight from the buffers; the exact pattern on hits only.
        candidates: list[int] = []
        base = 0
        for chunk in values.chunks:
            offsets, data = _string_data(chunk)
            starts, lengths = offsets[:-1], np.diff(offsets)
            nonempty = np.flatnonzero(lengths > 0)
            if nonempty.size:
                first = data[starts[nonempty]]
                candidates.extend((nonempty[np.isin(first, _FORMULA_FIRST_BYTES)] + base).tolist())
            base += len(chunk)
        if not candidates:
            continue
        picked = pc.take(values, pa.array(candidates, pa.int64()))
        hits = pc.fill_null(is_formula_injection(picked), False).to_pylist()
        for row, value, hit in zip(candidates, picked.to_pylist(), hits, strict=True):
            if hit:
                issues.append(Issue(row, name, value, "formula-like value (escaped in CSV downloads)"))
    return issues


class BatchCleaner:
    def __init__(
        self, spec: DatasetSpec, header_labels: list[str], number_locale: Literal["vi", "en"] | None = None
    ) -> None:
        self.spec = spec
        # The reader's own number rendering first (Excel, JSON), then the spec's locale.
        self.locales: list[Literal["vi", "en"]] = list(
            dict.fromkeys([number_locale or spec.schema_.locale, spec.schema_.locale])
        )
        hints = spec.schema_.columns
        names, _ = snake_case_columns(header_labels)
        renames: dict[str, str] = {}
        for key, hint in hints.items():
            for source in hint.rename_from:
                renames[source] = key
                renames[snake_case(source)] = key
        plans: list[ColumnPlan] = []
        taken: set[str] = set()
        for name, label in zip(names, header_labels, strict=True):
            final = renames.get(label) or renames.get(name) or name
            if final in taken:
                final = name if name not in taken else f"{name}_{len(taken)}"
            taken.add(final)
            found = hints.get(final)
            plans.append(ColumnPlan(final, label, found.type if found else "string", found))
        missing = [k for k, h in hints.items() if k not in taken and not h.nullable]
        if missing:
            raise SchemaMismatchError(
                f"required column(s) {', '.join(missing)} not found; the file has: {', '.join(header_labels)}"
            )
        self.columns = plans
        self.null_tokens = spec.cleaning.null_tokens or list(DEFAULT_NULL_TOKENS)
        self.schema: pa.Schema | None = None  # fixed by the first batch
        self.dropped: set[str] = set()  # PII columns dropped (decided on the first batch)

    # --- the data dictionary ----------------------------------------------------------
    def dictionary(self) -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "label": (p.hint.label if p.hint and p.hint.label else p.label),
                "type": p.type,
                "inferred": p.inferred,
                "description": p.hint.description if p.hint else None,
            }
            for p in self.columns
        ]

    # --- one batch ---------------------------------------------------------------------
    def clean(self, batch: pa.Table, first_line: int, lines: np.ndarray | None = None) -> BatchOutput:
        """Clean one batch; row ``i`` is on file line ``lines[i]`` (default ``first_line + i``)."""

        def line_of(row: int) -> int:
            return int(lines[row]) if lines is not None else first_line + row

        raw = batch.rename_columns([p.name for p in self.columns])
        if self.schema is None:
            self._infer_types(raw)
        table, nul_issues = _strip_nul(raw)
        rejects: list[Issue] = []
        warnings: list[Issue] = list(nul_issues)

        def one(plan: ColumnPlan) -> tuple[pa.ChunkedArray, list[Issue], list[Issue]]:
            values = table.column(plan.name)
            if plan.type == "string":
                # Typed columns are trimmed and null-token-checked by their own parsers.
                cleaned = normalize_strings(values, plan.name, self.null_tokens)
                column = cleaned.values
                text_warnings, issues = list(cleaned.issues), list[Issue]()
            else:
                column, issues = self._convert(values, plan)
                text_warnings = []
            chunked = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
            if plan.hint and not plan.hint.nullable:
                missing = pc.is_null(chunked)
                issues += [
                    Issue(i, plan.name, None, "required value missing")
                    for i in pc.indices_nonzero(missing).to_pylist()
                ]
            return chunked, issues, text_warnings

        # Columns are independent and Arrow kernels release the GIL: both cores work.
        arrays = []
        for column, issues, text_warnings in _POOL.map(one, self.columns):
            arrays.append(column)
            rejects += issues
            warnings += text_warnings
        table = pa.table(arrays, names=[p.name for p in self.columns])
        table, admin_warnings = self._admin_units(table)
        warnings += admin_warnings
        table, pii = self._pii(table)
        warnings += _formula_like(table)

        bad_rows = sorted({i.row for i in rejects})
        reasons: dict[int, list[str]] = defaultdict(list)
        for issue in rejects:
            shown = "" if issue.value is None else f" {issue.value[:60]!r}"
            reasons[issue.row].append(f"{issue.column}:{shown} {issue.reason}")
        if bad_rows:
            keep = pc.invert(
                pc.is_in(pa.array(range(len(table)), pa.int64()), pa.array(bad_rows, pa.int64()))
            )
            good = table.filter(keep)
            rejected = raw.take(pa.array(bad_rows, pa.int64()))
        else:
            good, rejected = table, raw.slice(0, 0)
        rejected = rejected.append_column("_line", pa.array([line_of(r) for r in bad_rows], pa.int64()))
        rejected = rejected.append_column("_reasons", pa.array(["; ".join(reasons[r]) for r in bad_rows]))
        if self.schema is None:
            self.schema = good.schema
        else:
            good = good.cast(self.schema, safe=False)
        warnings = [Issue(line_of(w.row), w.column, w.value, w.reason) for w in warnings]
        return BatchOutput(good, rejected, warnings, pii)

    # --- steps -------------------------------------------------------------------------
    def _infer_types(self, table: pa.Table) -> None:
        """Type unhinted string columns from the first batch; codes with leading zeros stay text."""
        for plan in self.columns:
            if plan.hint is not None:
                continue
            # A sample decides: parsing a whole batch of free text would only collect failures.
            values = pc.drop_null(table.column(plan.name)).slice(0, _INFER_SAMPLE)
            if len(values) == 0 or _has_leading_zero_codes(values):
                continue
            numbers = self._parse_numbers(values, plan.name)
            if _valid_share(numbers.values, values) >= _INFER_MIN_VALID:
                plan.type = "integer" if pa.types.is_integer(numbers.values.type) else "number"
                plan.inferred = True
                continue
            dates = parse_dates(values, plan.name, self.spec.schema_.day_first, null_tokens=self.null_tokens)
            if _valid_share(dates.values, values) >= _INFER_MIN_VALID:
                plan.type = "datetime" if pa.types.is_timestamp(dates.values.type) else "date"
                plan.inferred = True

    def _convert(self, values: pa.ChunkedArray, plan: ColumnPlan) -> tuple[pa.ChunkedArray, list[Issue]]:
        kind = plan.type
        if kind == "string":
            return values, []
        if kind in ("integer", "number"):
            parsed = self._parse_numbers(values, plan.name)
            out, issues = parsed.values, list(parsed.issues)
            if kind == "integer" and pa.types.is_floating(out.type):
                fractional = pc.not_equal(pc.floor(out), out)
                for idx in pc.indices_nonzero(pc.fill_null(fractional, False)).to_pylist():
                    issues.append(Issue(idx, plan.name, str(values[idx].as_py()), "not a whole number"))
                out = pc.if_else(pc.fill_null(fractional, False), pa.scalar(None, out.type), out)
            out = out.cast(_ARROW_TYPES[kind], safe=False)
        elif kind in ("date", "datetime"):
            parsed = parse_dates(values, plan.name, self.spec.schema_.day_first, null_tokens=self.null_tokens)
            out, issues = parsed.values, list(parsed.issues)
            out = out.cast(_ARROW_TYPES[kind], safe=False)
        else:  # boolean
            lowered = pc.utf8_lower(values)
            is_true = pc.is_in(lowered, pa.array(sorted(_TRUE)))
            is_false = pc.is_in(lowered, pa.array(sorted(_FALSE)))
            out = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
            unknown = pc.and_(pc.is_valid(values), pc.invert(pc.or_(is_true, is_false)))
            issues = [
                Issue(i, plan.name, str(values[i].as_py()), "not a yes/no value")
                for i in pc.indices_nonzero(pc.fill_null(unknown, False)).to_pylist()
            ]
        if plan.hint is not None:
            issues += self._range_issues(out, plan)
        chunked = out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])
        return chunked, issues

    def _parse_numbers(self, values: pa.ChunkedArray, column: str) -> Cleaned:
        """Parse in the reader's locale; cells that fail are tried in the spec's locale.

        "1.200" typed as text in a Vietnamese sheet means 1200: a reader rendering numbers itself
        never writes a trailing zero, so the thousands form goes to the spec's locale directly.
        """
        parsed = parse_numbers(values, self.locales[0], column, null_tokens=self.null_tokens)
        if len(self.locales) == 1:
            return parsed
        fallback = self.locales[1]
        failed = pa.array(np.isin(np.arange(len(values)), [i.row for i in parsed.issues]))
        if fallback == "vi":
            failed = pc.or_(failed, pc.fill_null(pc.match_substring_regex(values, _VI_THOUSANDS), False))
        if not pc.any(failed).as_py():
            return parsed
        retry = parse_numbers(values, fallback, column, null_tokens=self.null_tokens)
        merged = pc.if_else(failed, retry.values.cast(pa.float64()), parsed.values.cast(pa.float64()))
        if pc.all(pc.equal(pc.floor(merged), merged)).as_py() is not False:
            merged = merged.cast(pa.int64())
        retried = set(pc.indices_nonzero(failed).to_pylist())
        issues = [i for i in retry.issues if i.row in retried]
        issues += [i for i in parsed.issues if i.row not in retried]
        return Cleaned(merged, issues)

    @staticmethod
    def _range_issues(values: pa.Array | pa.ChunkedArray, plan: ColumnPlan) -> list[Issue]:
        hint = plan.hint
        assert hint is not None
        issues: list[Issue] = []
        checks = []
        if hint.min is not None and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            checks.append((pc.less(values, hint.min), f"below the minimum {hint.min:g}"))
        if hint.max is not None and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            checks.append((pc.greater(values, hint.max), f"above the maximum {hint.max:g}"))
        if hint.values is not None:
            allowed = pa.array(hint.values).cast(values.type, safe=False)
            checks.append((pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, allowed))), "not allowed"))
        for mask, reason in checks:
            for idx in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
                issues.append(Issue(idx, plan.name, str(values[idx].as_py()), reason))
        return issues

    def _admin_units(self, table: pa.Table) -> tuple[pa.Table, list[Issue]]:
        levels = {p.hint.admin_unit: p.name for p in self.columns if p.hint and p.hint.admin_unit}
        if not levels:
            return table, []
        result = normalize_admin_units(
            table.column(levels["province"]) if "province" in levels else None,
            table.column(levels["district"]) if "district" in levels else None,
            table.column(levels["ward"]) if "ward" in levels else None,
            default_province=None if "province" in levels else "Thành phố Hồ Chí Minh",
            column_names=(
                levels.get("province", "province"),
                levels.get("district", "district"),
                levels.get("ward", "ward"),
            ),
        )
        for name in ADMIN_COLUMNS:
            target = name if name not in table.column_names else f"std_{name}"
            table = table.append_column(target, result.table.column(name))
        return table, list(result.issues)

    def _pii(self, table: pa.Table) -> tuple[pa.Table, dict[str, dict[str, int]]]:
        actions = {p.name: p.hint.pii for p in self.columns if p.hint and p.hint.pii}
        # Detection on an even sample of each batch (regexes over every cell of every text column
        # would dominate the cleaning time); a flagged column is then masked in full.
        n, part = table.num_rows, _PII_SAMPLE // 4
        sample = (
            table
            if n <= _PII_SAMPLE
            else pa.concat_tables(
                [table.slice(start, part) for start in np.linspace(0, n - part, 4, dtype=int)]
            )
        )
        report = scan_pii(sample)
        found: dict[str, dict[str, int]] = defaultdict(dict)
        for f in report.findings:
            found[f.column][f.kind] = f.count
        for column in report.columns:
            action = actions.get(column, self.spec.cleaning.pii)
            if action == "keep" or column in self.dropped:
                continue
            if action == "drop" and self.schema is not None:
                action = "mask"  # the schema is fixed after the first batch: mask instead
            if action == "drop":
                self.dropped.add(column)
            sub = type(report)([f for f in report.findings if f.column == column])
            table = apply_pii(table, sub, action)
        present = [c for c in self.dropped if c in table.column_names]
        return table.drop_columns(present), dict(found)
