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
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import string_span
from citydata.kernels.libc import buffer_contains, keep_freed_memory
from citydata.spec.model import DatasetSpec
from cleaning import (
    Issue,
    apply_pii,
    normalize_admin_units,
    normalize_strings,
    scan_pii,
    snake_case,
    snake_case_columns,
)
from cleaning.admin_conflicts import add_row_code_conflicts
from cleaning.admin_units import ADMIN_COLUMNS, admin_dictionary
from cleaning.text import DEFAULT_NULL_TOKENS, is_formula_injection
from connectors.formats.base import ReadBatch
from ingest.column_types import (
    ColumnPlan,
    LeadingZeroError,
    TypingRules,
    convert_column,
    infer_plans,
    leading_zero_error,
)

_PII_SAMPLE = 20_000


class SchemaMismatchError(ValueError):
    """The file's columns do not fit the spec (a required column is missing)."""


@dataclass
class BatchOutput:
    good: pa.Table
    rejected: pa.Table  # the rows as read (strings) + _line + _reasons
    warnings: list[Issue] = field(default_factory=list)
    pii: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> kind -> cells in the sample
    good_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # source line per row


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
    def __init__(self, spec: DatasetSpec, header_labels: list[str]) -> None:
        self.spec = spec
        keep_freed_memory()
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
        self.rules = TypingRules(spec.schema_.locale, spec.schema_.day_first, tuple(self.null_tokens))
        self.schema: pa.Schema | None = None  # fixed by the first batch
        self.dropped: set[str] = set()  # PII columns dropped (decided on the first batch)
        self.masked: set[str] = set()  # PII columns masked in some batch

    # --- the data dictionary ----------------------------------------------------------
    def dictionary(self) -> list[dict[str, Any]]:
        """The source's columns, then the ones cleaning added (admin units), Vietnamese-labelled."""
        own = [
            {
                "name": p.name,
                "label": (p.hint.label if p.hint and p.hint.label else p.label),
                "type": p.type,
                "inferred": p.inferred,
                "description": p.hint.description if p.hint else None,
                "nullable": p.hint.nullable if p.hint else True,
                "source_label": p.label,  # the header as the file has it (the fidelity check reads it)
                "source_index": i,  # the column's position in the reader's table
                "pii": "masked" if p.name in self.masked else None,
                "identifier": p.identifier,
                "locale": p.locale,
                "locale_source": p.locale_source,
            }
            for i, p in enumerate(self.columns)
        ]
        names = {p.name for p in self.columns}
        added = [f.name for f in self.schema or [] if f.name not in names]
        for name in added:
            if described := admin_dictionary(name):
                own.append({"name": name, "label": described[0], "type": "string", "inferred": False,
                            "description": described[1], "nullable": True, "derived": "admin_units",
                            "source_label": None, "source_index": None})  # fmt: skip
        return own

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
                args = (batch.table, batch.first_line, batch.lines, batch.kinds)
                if self.schema is None:
                    yield batch, self.clean(*args)
                    continue
                pending.append((batch, _BATCHES.submit(self.clean, *args)))
                while len(pending) > ahead:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()

    def clean(
        self,
        batch: pa.Table,
        first_line: int,
        lines: np.ndarray | None = None,
        kinds: dict[str, pa.Array] | None = None,
    ) -> BatchOutput:
        """Clean one batch; row ``i`` is on file line ``lines[i]`` (default ``first_line + i``);
        ``kinds`` are the reader's cell kinds by original column name (absent: every cell is text).

        Raises LeadingZeroError when the spec types a column of codes as a number.
        """

        def line_of(row: int) -> int:
            return int(lines[row]) if lines is not None else first_line + row

        by_name = {
            p.name: (kinds or {}).get(old) for p, old in zip(self.columns, batch.column_names, strict=True)
        }
        raw = batch.rename_columns([p.name for p in self.columns])
        if self.schema is None:
            infer_plans(self.columns, raw, {k: v for k, v in by_name.items() if v is not None}, self.rules)
        for plan in self.columns:
            problem = leading_zero_error(plan, raw.column(plan.name), by_name[plan.name])
            if problem:
                raise LeadingZeroError(problem)
        # Columns are independent and Arrow kernels release the GIL: both cores work.
        results = list(
            _POOL.map(lambda p: self._column(raw.column(p.name), by_name[p.name], p), self.columns)
        )
        rejects = [i for r in results for i in r.rejects]
        warnings = [i for r in results for i in r.warnings]
        table = pa.table([r.values for r in results], names=[p.name for p in self.columns])
        table, admin_warnings = self._admin_units(table)
        warnings += admin_warnings
        table, pii, masked = self._pii(table)
        self.masked |= masked
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
        all_lines = (
            lines if lines is not None else np.arange(first_line, first_line + len(table), dtype=np.int64)
        )
        good_lines = np.delete(np.asarray(all_lines, dtype=np.int64), bad_rows)
        return BatchOutput(good, rejected, warnings, pii, good_lines)

    def _column(self, values: pa.ChunkedArray, kinds: pa.Array | None, plan: ColumnPlan) -> _Column:
        """One column of a batch: NUL bytes, then text cleaning or typing, then required values."""
        values, warnings = _strip_nul(values, plan.name)
        if plan.type == "string" and not pa.types.is_string(values.type):
            values = values.cast(pa.string())  # a typed column the spec or its name says is text
        if plan.type == "string":
            # Typed columns are trimmed and null-token-checked by their own parsers.
            cleaned = normalize_strings(values, plan.name, self.null_tokens)
            column = cleaned.values
            warnings += cleaned.issues
            rejects: list[Issue] = []
        else:
            column, rejects = convert_column(values, kinds, plan, self.rules)
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
        # rows whose own code column (e.g. `ma`) contradicts the added codes: admin_conflict + warnings
        result = add_row_code_conflicts(table, result, exclude=levels.values())
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
