"""Flag rows whose own code columns contradict the admin-unit codes the clean stage adds.

Agency files often carry their own ward or province code next to the name the enrichment resolves
(``ma`` beside ``ten``). When the two disagree, publishing both silently would leave readers with
two contradictory codes and no hint which is right, so every such row gets an ``admin_conflict``
text naming both values and their sources, plus an :class:`Issue` (a warning, not a reject).

A row's code column is found by the data, not by its name: a text or integer column whose values,
reduced to digits and zero-padded to the level's width, equal the added code in at least half of
the rows where both are present. Everything runs in ``pyarrow.compute``; Python only touches the
conflicting rows.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cleaning._admin_reference import GSO_SOURCE, VAU_SOURCE
from cleaning.admin_units import AdminUnitsResult
from cleaning.issues import Issue

__all__ = ["CODE_LEVELS", "ROW_SOURCE", "add_row_code_conflicts", "flag_row_code_conflicts"]

# (added column, digits of its codes, compared on post-reform rows only). A row resolved from
# pre-2025 names ("converted") may carry pre-2025 province and ward codes (Bình Dương 74 for what is
# now 79): different, not contradictory. Old district codes are pre-2025 codes on every row.
CODE_LEVELS: tuple[tuple[str, int, bool], ...] = (
    ("province_code", 2, True),
    ("ward_code", 5, True),
    ("old_district_code", 3, False),
)
CONFLICT_COLUMN = "admin_conflict"
ROW_SOURCE = "this row"
SEPARATOR = "; "
_MIN_SHARE = 0.5  # a column matching in fewer rows is something else (a count, a phone number...)
# Reducing free text to digits costs ~0.2 s per 1M-row column, so an even sample screens each
# column first; only a column matching in a quarter of the sampled rows is checked in full.
_SAMPLE = 2_000
_SAMPLE_SHARE = 0.25

Array: TypeAlias = pa.Array | pa.ChunkedArray


@functools.cache
def _official_codes(level: str) -> pa.Array:
    """Codes in the GSO list (vietnam-provinces) for the level; others came from vietnamadminunits."""
    from vietnam_provinces import Province, Ward

    if level == "ward_code":
        return pa.array(sorted({f"{int(w.code):05d}" for w in Ward.iter_all()}), pa.string())
    if level == "province_code":
        return pa.array(sorted({f"{int(p.code):02d}" for p in Province.iter_all()}), pa.string())
    return pa.array([], pa.string())  # pre-2025 districts are only in vietnamadminunits


def _flat(values: Array) -> pa.Array:
    """One array (a single chunk is taken as is: combining would copy it)."""
    if not isinstance(values, pa.ChunkedArray):
        return values
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


def _is_candidate(field: pa.Field) -> bool:
    kind = field.type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)


def _as_text(values: Array) -> pa.Array:
    return _flat(pc.cast(values, pa.string()))


def _digits(text: pa.Array) -> pa.Array:
    """Digits only, without leading zeros ("P.026794" -> "26794"); null when no digit is left.

    Leading zeros go so that "079", "79" and the integer 79 all pad to the same code.
    """
    if not pc.all(pc.ascii_is_decimal(text)).as_py():  # codes written as bare digits skip the regex
        text = pc.replace_substring_regex(text, r"\D+", "")
    digits = pc.utf8_ltrim(text, characters="0")
    return pc.if_else(pc.equal(digits, ""), pa.scalar(None, pa.string()), digits)


def _matches(digits: pa.Array, target: pa.Array, width: int) -> tuple[pa.Array, pa.Array, bool]:
    """(padded codes, rows where both are present, whether the column is this level's code)."""
    padded = pc.utf8_lpad(digits, width=width, padding="0")
    both = pc.and_(pc.is_valid(padded), pc.is_valid(target))
    compared = pc.sum(both).as_py() or 0
    same = pc.sum(pc.fill_null(pc.equal(padded, target), False)).as_py() or 0
    return padded, both, same >= 1 and same >= _MIN_SHARE * compared


def _screened(text: pa.Array, target: pa.Array, width: int) -> bool:
    """Whether an even sample of the rows with both values could make the column a code column."""
    rows = pc.indices_nonzero(pc.and_(pc.is_valid(text), pc.is_valid(target)))
    if len(rows) <= _SAMPLE:
        return len(rows) > 0  # small batches are checked in full directly
    picks = pc.take(rows, pa.array(np.linspace(0, len(rows) - 1, _SAMPLE).astype(np.int64)))
    padded = pc.utf8_lpad(_digits(pc.take(text, picks)), width=width, padding="0")
    same = pc.sum(pc.fill_null(pc.equal(padded, pc.take(target, picks)), False)).as_py() or 0
    return same >= _SAMPLE_SHARE * _SAMPLE


def _merge(first: pa.Array, second: pa.Array) -> pa.Array:
    """Row-wise ``first; second``, or whichever is not null."""
    joined = pc.binary_join_element_wise(first, second, SEPARATOR)  # null if either is null
    return _flat(pc.coalesce(joined, first, second))


def _row_texts(level: str, code: pa.Array, column: str, value: pa.Array) -> pa.Array:
    """``ward_code 26794 (vietnam-provinces) ≠ ma 26800 (this row)`` for each conflicting row."""
    official = pc.is_in(code, value_set=_official_codes(level))
    source = pc.if_else(official, pa.scalar(GSO_SOURCE), pa.scalar(VAU_SOURCE))
    pieces = [f"{level} ", code, " (", source, f") ≠ {column} ", value, f" ({ROW_SOURCE})"]
    return _flat(
        pc.binary_join_element_wise(*[pa.scalar(p) if isinstance(p, str) else p for p in pieces], "")
    )


def flag_row_code_conflicts(
    table: pa.Table, added: pa.Table, exclude: Collection[str] = ()
) -> tuple[pa.Array, list[Issue]]:
    """(merged ``admin_conflict`` column, one Issue per row whose own code contradicts the added one).

    ``table`` is the cleaned batch without the added columns, ``added`` what
    ``normalize_admin_units`` returned (its ``admin_conflict`` holds the reference disagreements,
    kept first), ``exclude`` columns never taken as codes (e.g. the admin-unit name columns).
    Issues name the row, the row's code column, its value, and both codes with their sources.
    """
    n = added.num_rows
    if table.num_rows != n:
        raise ValueError(f"table has {table.num_rows} rows, added has {n}")
    merged = (
        _flat(added.column(CONFLICT_COLUMN)).cast(pa.string())
        if CONFLICT_COLUMN in added.column_names
        else pa.nulls(n, pa.string())
    )
    skip = set(exclude)
    names = [f.name for f in table.schema if f.name not in skip and _is_candidate(f)]
    texts: dict[str, pa.Array] = {}  # the column as text, kept for every level
    digits: dict[str, pa.Array] = {}
    found: list[tuple[int, str, str | None, str]] = []
    current = (
        pc.fill_null(pc.equal(_flat(added.column("admin_status")), "current"), False)
        if "admin_status" in added.column_names
        else None
    )
    for level, width, current_only in CODE_LEVELS:
        if level not in added.column_names or added.column(level).null_count == n:
            continue
        target = _flat(added.column(level)).cast(pa.string())
        if current_only and current is not None:
            target = pc.if_else(current, target, pa.scalar(None, pa.string()))
        for name in names:
            if name not in texts:
                texts[name] = _as_text(table.column(name))
            if not _screened(texts[name], target, width):
                continue
            if name not in digits:
                digits[name] = _digits(texts[name])
            padded, both, is_code = _matches(digits[name], target, width)
            if not is_code:
                continue  # not this level's code: its values are something else
            differ = pc.and_(both, pc.not_equal(padded, target))
            rows = pc.indices_nonzero(differ)
            if len(rows) == 0:
                continue
            shown = pc.utf8_trim_whitespace(pc.take(texts[name], rows))
            reasons = _row_texts(level, pc.take(target, rows), name, shown)
            # scatter the texts back to their rows, after what earlier checks wrote there
            merged = _merge(merged, pc.replace_with_mask(pa.nulls(n, pa.string()), differ, reasons))
            values = pc.take(texts[name], rows).to_pylist()
            found += zip(rows.to_pylist(), [name] * len(rows), values, reasons.to_pylist(), strict=True)
    found.sort(key=lambda item: item[0])  # stable: within a row, the order of the checks
    return merged, [Issue(row, column, value, reason) for row, column, value, reason in found]


def add_row_code_conflicts(
    table: pa.Table, result: AdminUnitsResult, exclude: Collection[str] = ()
) -> AdminUnitsResult:
    """``result`` with the row-code conflicts merged into ``admin_conflict`` and added to its issues."""
    conflicts, issues = flag_row_code_conflicts(table, result.table, exclude)
    added = result.table
    if CONFLICT_COLUMN in added.column_names:
        added = added.set_column(added.column_names.index(CONFLICT_COLUMN), CONFLICT_COLUMN, conflicts)
    else:
        added = added.append_column(CONFLICT_COLUMN, conflicts)
    return AdminUnitsResult(added, [*result.issues, *issues])
