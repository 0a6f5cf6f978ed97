"""Spec-driven cleaning of one batch: names, text, types, admin units, PII, required values.

Rows with a cell that fails (a value that is not a number or a date, a missing required value)
are split off with the reason per row, for quarantine; the rest continue. Findings that do not
make a row wrong (an unknown ward name, an Excel error value) are kept as warnings.
Column types are fixed by the first batch (hints first, then inference), so every batch of a
large file ends with the same schema.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
from cleaning.buffers import bool_array, string_span
from cleaning.libc import buffer_contains, keep_freed_memory
from cleaning.text import DEFAULT_NULL_TOKENS, Cleaned, is_formula_injection
from connectors.formats.base import ReadBatch

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
_INFER_PROBE = 200
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


def _digit_share(values: pa.ChunkedArray | pa.Array) -> float:
    """Share of the (non-null) cells holding at least one ASCII digit."""
    return float(pc.mean(pc.cast(pc.match_substring_regex(values, "[0-9]"), pa.float64())).as_py() or 0.0)


def _valid_share(parsed: pa.Array | pa.ChunkedArray, source: pa.Array | pa.ChunkedArray) -> float:
    present = len(source) - source.null_count
    return 1.0 if present == 0 else (len(parsed) - parsed.null_count) / present


def _rows_with_byte(values: pa.ChunkedArray, byte: int) -> list[int]:
    """Rows whose text holds `byte` (memchr over the buffers; rows are only computed on a hit)."""
    rows: list[int] = []
    base = 0
    for chunk in values.chunks:
        data, offsets = string_span(chunk)
        if buffer_contains(data, bytes([byte])):
            hits = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == byte)
            rows.extend(int(r) + base for r in np.unique(np.searchsorted(offsets, hits, side="right") - 1))
        base += len(chunk)
    return rows


def _strip_nul(values: pa.ChunkedArray, name: str) -> tuple[pa.ChunkedArray, list[Issue]]:
    """NUL bytes: invalid in PostgreSQL text and most tools; removed, each one reported."""
    if not pa.types.is_string(values.type):
        return values, []
    rows = _rows_with_byte(values, 0)
    if not rows:
        return values, []
    issues = [
        Issue(row, name, values[row].as_py().replace("\x00", "\\0"), "NUL byte removed") for row in rows
    ]
    return pc.replace_substring(values, "\x00", ""), issues


# Threads for column tasks; Arrow kernels and most numpy loops release the GIL.
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="clean")
# Threads for whole batches in flight (see BatchCleaner.clean_all); they wait on _POOL.
_BATCHES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="clean-batch")
_FORMULA_FIRST = np.zeros(256, dtype=bool)
_FORMULA_FIRST[list(b"=+-@\t\r")] = True


def _formula_like(values: pa.ChunkedArray, name: str) -> list[Issue]:
    """Cells a spreadsheet would run as a formula; kept as data, escaped in CSV downloads."""
    if not pa.types.is_string(values.type):
        return []
    # The first byte of every cell straight from the buffers; the exact pattern on hits only.
    candidates: list[np.ndarray] = []
    base = 0
    for chunk in values.chunks:
        span, offsets = string_span(chunk)
        if span.size:
            data = np.frombuffer(span, dtype=np.uint8)
            starts = offsets[:-1]
            # an empty cell reads its neighbour's first byte: a candidate at worst, checked below
            hit = _FORMULA_FIRST[data[np.minimum(starts, data.size - 1)]]
            if hit.any():
                candidates.append(np.flatnonzero(hit & (offsets[1:] > starts)) + base)
        base += len(chunk)
    rows = np.concatenate(candidates) if candidates else np.zeros(0, dtype=np.int64)
    if not rows.size:
        return []
    picked = pc.take(values, pa.array(rows, pa.int64()))
    hits = pc.fill_null(is_formula_injection(picked), False).to_pylist()
    return [
        Issue(int(row), name, value, "formula-like value (escaped in CSV downloads)")
        for row, value, hit in zip(rows, picked.to_pylist(), hits, strict=True)
        if hit
    ]


@dataclass
class _Column:
    values: pa.ChunkedArray
    rejects: list[Issue]
    warnings: list[Issue]
    formulas: list[Issue]


class BatchCleaner:
    def __init__(
        self, spec: DatasetSpec, header_labels: list[str], number_locale: Literal["vi", "en"] | None = None
    ) -> None:
        self.spec = spec
        keep_freed_memory()
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

    # --- batches -----------------------------------------------------------------------
    def clean_all(
        self, batches: Iterable[ReadBatch], ahead: int = 1
    ) -> Iterator[tuple[ReadBatch, BatchOutput]]:
        """Each batch with its output, in order; up to ``ahead`` more batches are cleaned meanwhile.

        The first batch fixes the schema alone; after it batches are independent, so the next one
        is cleaned while the caller de-duplicates and writes this one (both cores stay busy).
        """
        pending: deque[tuple[ReadBatch, Future[BatchOutput]]] = deque()
        try:
            for batch in batches:
                if self.schema is None:
                    yield batch, self.clean(batch.table, batch.first_line, batch.lines)
                    continue
                pending.append(
                    (batch, _BATCHES.submit(self.clean, batch.table, batch.first_line, batch.lines))
                )
                while len(pending) > ahead:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()

    def clean(self, batch: pa.Table, first_line: int, lines: np.ndarray | None = None) -> BatchOutput:
        """Clean one batch; row ``i`` is on file line ``lines[i]`` (default ``first_line + i``)."""

        def line_of(row: int) -> int:
            return int(lines[row]) if lines is not None else first_line + row

        raw = batch.rename_columns([p.name for p in self.columns])
        if self.schema is None:
            self._infer_types(raw)
        # Columns are independent and Arrow kernels release the GIL: both cores work.
        results = list(_POOL.map(lambda p: self._column(raw.column(p.name), p), self.columns))
        rejects = [i for r in results for i in r.rejects]
        warnings = [i for r in results for i in r.warnings]
        table = pa.table([r.values for r in results], names=[p.name for p in self.columns])
        table, admin_warnings = self._admin_units(table)
        warnings += admin_warnings
        table, pii, masked = self._pii(table)
        for plan, result in zip(self.columns, results, strict=True):
            if plan.name not in table.column_names:  # dropped as PII
                continue
            if plan.name in masked:  # the warning must show the masked value
                warnings += _formula_like(table.column(plan.name), plan.name)
            else:
                warnings += result.formulas

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
        warnings.sort(key=lambda w: w.row)
        warnings = [Issue(line_of(w.row), w.column, w.value, w.reason) for w in warnings]
        return BatchOutput(good, rejected, warnings, pii)

    def _column(self, values: pa.ChunkedArray, plan: ColumnPlan) -> _Column:
        """One column of a batch: NUL bytes, then text cleaning or typing, then required values."""
        values, warnings = _strip_nul(values, plan.name)
        if plan.type == "string":
            # Typed columns are trimmed and null-token-checked by their own parsers.
            cleaned = normalize_strings(values, plan.name, self.null_tokens)
            column = cleaned.values
            warnings += cleaned.issues
            rejects: list[Issue] = []
        else:
            column, rejects = self._convert(values, plan)
        chunked = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
        formulas = _formula_like(chunked, plan.name)
        if plan.hint and not plan.hint.nullable:
            missing = pc.is_null(chunked)
            rejects += [
                Issue(i, plan.name, None, "required value missing")
                for i in pc.indices_nonzero(missing).to_pylist()
            ]
        return _Column(chunked, rejects, warnings, formulas)

    # --- steps -------------------------------------------------------------------------
    def _infer_types(self, table: pa.Table) -> None:
        """Type unhinted string columns from the first batch; codes with leading zeros stay text."""
        for plan in self.columns:
            if plan.hint is not None:
                continue
            # A sample decides: parsing a whole batch of free text would only collect failures.
            values = pc.drop_null(table.column(plan.name)).slice(0, _INFER_SAMPLE)
            if len(values) == 0 or _digit_share(values) < _INFER_MIN_VALID or _has_leading_zero_codes(values):
                continue  # every number and date has a digit: free text is not parsed at all
            # A probe first: more failures (nulls after parsing) in it than the whole sample may have
            # rules a type out.
            allowed = (1 - _INFER_MIN_VALID) * len(values)
            probe = values.slice(0, _INFER_PROBE)
            if self._parse_numbers(probe, plan.name).values.null_count <= allowed:
                numbers = self._parse_numbers(values, plan.name)
                if _valid_share(numbers.values, values) >= _INFER_MIN_VALID:
                    plan.type = "integer" if pa.types.is_integer(numbers.values.type) else "number"
                    plan.inferred = True
                    continue
            day_first, tokens = self.spec.schema_.day_first, self.null_tokens
            if parse_dates(probe, plan.name, day_first, null_tokens=tokens).values.null_count > allowed:
                continue
            dates = parse_dates(values, plan.name, day_first, null_tokens=tokens)
            if _valid_share(dates.values, values) >= _INFER_MIN_VALID:
                plan.type = "datetime" if pa.types.is_timestamp(dates.values.type) else "date"
                plan.inferred = True

    def _convert(self, values: pa.ChunkedArray, plan: ColumnPlan) -> tuple[pa.ChunkedArray, list[Issue]]:
        kind = plan.type
        if kind == "string":
            return values, []
        if kind in ("integer", "number"):
            parsed = self._parse_numbers(values, plan.name, as_float=kind == "number")
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

    def _parse_numbers(self, values: pa.ChunkedArray, column: str, as_float: bool = False) -> Cleaned:
        """Parse in the reader's locale; cells that fail are tried in the spec's locale.

        "1.200" typed as text in a Vietnamese sheet means 1200: a reader rendering numbers itself
        never writes a trailing zero, so the thousands form goes to the spec's locale directly.
        """
        parsed = parse_numbers(
            values, self.locales[0], column, null_tokens=self.null_tokens, as_float=as_float
        )
        if len(self.locales) == 1:
            return parsed
        fallback = self.locales[1]
        failed = bool_array(np.isin(np.arange(len(values)), [i.row for i in parsed.issues]))
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

    def _pii(self, table: pa.Table) -> tuple[pa.Table, dict[str, dict[str, int]], set[str]]:
        """(table with PII masked or dropped, findings in the sample, the columns changed)."""
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
        text = [
            f.name for f in sample.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        report = scan_pii(sample.select(text).combine_chunks())  # one chunk per column: fewer calls
        changed: set[str] = set()
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
            changed.add(column)
        present = [c for c in self.dropped if c in table.column_names]
        return table.drop_columns(present), dict(found), changed
