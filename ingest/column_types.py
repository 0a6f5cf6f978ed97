"""Column types: decided once on the first batch, then every batch converted to them.

A value the source typed is never re-read as text: a cell of kind ``CellKind.NUMBER`` (a numeric
Excel cell, a JSON number, a SQL number) is cast from its exact plain rendering, whatever the
locale; only cells that arrived as text are parsed with a locale ("1.234,5" in ``vi``). Codes stay
text (``cleaning.identifiers``). Strings the source declared (JSON strings, SQL text) are never
taken for numbers unless the spec says so; dates may be recognised in them (JSON has no date type).

The locale of text numbers is the spec's ``schema.locale`` when given; otherwise each column's own
cells decide ("1,5" is Vietnamese only, "10.5464" English only), then the dataset's majority, then
``vi``. ``ColumnPlan.locale_source`` records which (spec, column, dataset, default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.spec.model import ColumnHint, ColumnType
from cleaning import parse_dates, parse_numbers
from cleaning.columns import logical_type
from cleaning.identifiers import (
    LEADING_ZERO,
    is_code_name,
    is_quantity_name,
    leading_zero_samples,
    looks_like_codes,
)
from cleaning.issues import Issue, issues_for_mask
from cleaning.numbers import Locale, locale_evidence
from cleaning.text import Cleaned, null_token_set
from connectors.formats.base import CellKind

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
}
_TRUE = {"true", "1", "x", "có", "co", "yes", "y", "đúng", "dung", "t"}
_FALSE = {"false", "0", "không", "khong", "no", "n", "sai", "f"}
INFER_MIN_VALID = 0.98  # share of non-null values that must parse before a column is typed
INFER_SAMPLE = 2_000
_INFER_PROBE = 200
_DATE_KINDS = (CellKind.DATE, CellKind.DATETIME)
LocaleSource = Literal["spec", "column", "dataset", "default"]


class LeadingZeroError(ValueError):
    """The spec types a column of codes as a number, which would drop their leading zeros."""


@dataclass
class ColumnPlan:
    name: str  # cleaned snake_case name
    label: str  # original header, for the data dictionary
    type: ColumnType = "string"
    hint: ColumnHint | None = None
    inferred: bool = False
    identifier: bool = False  # a column of codes: kept as text
    locale: Locale | None = None  # how its text numbers are read (number columns only)
    locale_source: LocaleSource | None = None


@dataclass(frozen=True)
class TypingRules:
    locale: Locale | None  # the spec's schema.locale (None: detected)
    day_first: bool
    null_tokens: tuple[str, ...]


def kind_array(kinds: pa.Array | None, length: int) -> np.ndarray:
    """The kind of every cell as numpy int8 (all TEXT when the reader gave none)."""
    if kinds is None:
        return np.zeros(length, dtype=np.int8)
    return np.asarray(kinds.to_numpy(zero_copy_only=False), dtype=np.int8)


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _sample(values: pa.ChunkedArray, kinds: pa.Array | None, size: int) -> tuple[pa.Array, np.ndarray]:
    """The first ``size`` non-null cells and their kinds."""
    rows = pc.indices_nonzero(pc.is_valid(values)).slice(0, size)
    picked = _flat(pc.take(values, rows))
    if kinds is None:
        return picked, np.zeros(len(picked), dtype=np.int8)
    return picked, kind_array(pc.take(kinds, rows), len(picked))


def _mask(mask: np.ndarray) -> pa.Array:
    return pa.array(mask, pa.bool_())


def _digit_share(values: pa.Array) -> float:
    return float(pc.mean(pc.cast(pc.match_substring_regex(values, "[0-9]"), pa.float64())).as_py() or 0.0)


# --- inference --------------------------------------------------------------------------------------


def infer_plans(
    plans: list[ColumnPlan], table: pa.Table, kinds: dict[str, pa.Array], rules: TypingRules
) -> None:
    """Types of the unhinted columns and the text locale of every number column, from the first batch."""
    evidence: dict[str, tuple[int, int]] = {}
    samples: dict[str, tuple[pa.Array, np.ndarray]] = {}
    for plan in plans:
        values = table.column(plan.name)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            if plan.hint is None:  # typed by the source; codes stay text all the same
                plan.identifier = is_code_name(plan.name, plan.label)
                plan.type = "string" if plan.identifier else cast(ColumnType, logical_type(values.type))
                plan.inferred = not plan.identifier
            continue
        sample, sample_kinds = samples[plan.name] = _sample(values, kinds.get(plan.name), INFER_SAMPLE)
        if plan.hint is None:
            _infer(plan, sample, sample_kinds, rules)
        if plan.type in ("integer", "number") and rules.locale is None:
            textish = (sample_kinds == CellKind.TEXT) | (sample_kinds == CellKind.STRING)
            evidence[plan.name] = locale_evidence(pc.filter(sample, _mask(textish)), rules.null_tokens)
    total_vi = sum(v for v, _ in evidence.values())
    total_en = sum(e for _, e in evidence.values())
    dataset: Locale | None = "vi" if total_vi > total_en else "en" if total_en > total_vi else None
    for plan in plans:
        if plan.type not in ("integer", "number"):
            continue
        if rules.locale is not None:
            plan.locale, plan.locale_source = rules.locale, "spec"
        else:
            vi, en = evidence.get(plan.name, (0, 0))
            if vi != en:
                plan.locale, plan.locale_source = ("vi" if vi > en else "en"), "column"
            elif dataset is not None:
                plan.locale, plan.locale_source = dataset, "dataset"
            else:
                plan.locale, plan.locale_source = "vi", "default"
        if plan.inferred and plan.name in samples:  # whole numbers or not: read in the chosen locale
            sample, sample_kinds = samples[plan.name]
            parsed = parse_number_cells(pa.chunked_array([sample]), pa.array(sample_kinds, pa.int8()),
                                        plan.locale, plan.name, rules.null_tokens)  # fmt: skip
            plan.type = "integer" if pa.types.is_integer(parsed.values.type) else "number"


def _infer(plan: ColumnPlan, sample: pa.Array, kinds: np.ndarray, rules: TypingRules) -> None:
    if len(sample) == 0:
        return
    textish = (kinds == CellKind.TEXT) | (kinds == CellKind.STRING)
    tokens = pc.is_in(pc.utf8_trim_whitespace(sample), value_set=null_token_set(rules.null_tokens))
    counted = ~(np.asarray(pc.fill_null(tokens, False).to_numpy(zero_copy_only=False), dtype=bool) & textish)
    # empty cells and null tokens ("", "-") are no values: they cannot make codes look like numbers
    texts = pc.filter(sample, _mask(textish & counted))
    quantity = is_quantity_name(plan.name, plan.label)  # unique 12-digit amounts are amounts, not codes
    if is_code_name(plan.name, plan.label) or looks_like_codes(texts, fixed_width=not quantity):
        plan.identifier = True
        return
    allowed = (1 - INFER_MIN_VALID) * int(counted.sum())
    if int(((kinds == CellKind.BOOLEAN) & counted).sum()) >= counted.sum() - allowed and counted.any():
        plan.type, plan.inferred = "boolean", True
        return
    natives = int((kinds == CellKind.NUMBER).sum())
    declared_strings = int((kinds == CellKind.STRING).sum())
    # Strings the source declared are text on purpose: no number inference from them alone.
    if natives or not declared_strings:
        number_type = _number_type(sample, kinds, textish, counted, allowed, natives)
        if number_type is not None:
            plan.type, plan.inferred = number_type, True
            return
    dates = _date_type(sample, kinds, textish, counted, allowed, rules)
    if dates is not None:
        plan.type, plan.inferred = dates, True


def _number_type(
    sample: pa.Array,
    kinds: np.ndarray,
    textish: np.ndarray,
    counted: np.ndarray,
    allowed: float,
    natives: int,
) -> ColumnType | None:
    text = pc.filter(sample, _mask(textish & counted))
    if not natives and (len(text) == 0 or _digit_share(text) < INFER_MIN_VALID):
        return None  # every number has a digit: free text is not parsed at all
    failed_text = 0
    if len(text):
        # Cells readable in either locale count here; the column's locale is decided afterwards.
        probe = text.slice(0, _INFER_PROBE)
        if _unparsed(probe) > allowed:
            return None
        failed_text = _unparsed(text)
    other = int((~textish & (kinds != CellKind.NUMBER) & counted).sum())
    if failed_text + other > allowed:
        return None
    return "number"  # integer or not is settled once the column's locale is known


def _unparsed(text: pa.Array) -> int:
    vi = parse_numbers(text, "vi", as_float=True).values
    en = parse_numbers(text, "en", as_float=True).values
    return int(pc.sum(pc.cast(pc.and_(pc.is_null(vi), pc.is_null(en)), pa.int64())).as_py() or 0)


def _date_type(
    sample: pa.Array,
    kinds: np.ndarray,
    textish: np.ndarray,
    counted: np.ndarray,
    allowed: float,
    rules: TypingRules,
) -> ColumnType | None:
    native = int((np.isin(kinds, _DATE_KINDS) & counted).sum())
    text = pc.filter(sample, _mask(textish & counted))
    if not native and (len(text) == 0 or _digit_share(text) < INFER_MIN_VALID):
        return None
    failures = int((~textish & ~np.isin(kinds, _DATE_KINDS) & counted).sum())
    timestamp = bool((kinds == CellKind.DATETIME).any())
    if len(text) and failures <= allowed:
        day_first, tokens = rules.day_first, rules.null_tokens
        if len(parse_dates(text.slice(0, _INFER_PROBE), "", day_first, null_tokens=tokens).issues) > allowed:
            return None
        parsed = parse_dates(text, "", day_first, null_tokens=tokens)
        failures += len(parsed.issues)
        timestamp = timestamp or pa.types.is_timestamp(parsed.values.type)
    if failures > allowed:
        return None
    return "datetime" if timestamp else "date"


# --- conversion -------------------------------------------------------------------------------------


def parse_number_cells(
    values: pa.ChunkedArray,
    kinds: pa.Array | None,
    locale: Locale,
    column: str,
    null_tokens: tuple[str, ...],
    as_float: bool = False,
) -> Cleaned:
    """Numbers of one batch: native cells cast from their exact text, text cells parsed in ``locale``."""
    native = None if kinds is None else pc.equal(kinds, pa.scalar(int(CellKind.NUMBER), pa.int8()))
    if native is None or not pc.any(native).as_py():
        return parse_numbers(values, locale, column, null_tokens=null_tokens, as_float=as_float)
    flat = _flat(values)
    null = pa.scalar(None, pa.string())
    text = parse_numbers(
        pc.if_else(native, null, flat), locale, column, null_tokens=null_tokens, as_float=True
    )
    native_text = pc.if_else(native, flat, null)
    if not as_float and not pc.any(pc.match_substring_regex(native_text, r"[.eEnN]")).as_py():
        try:  # integers cast straight to int64: exact beyond 2**53
            whole = pc.cast(native_text, pa.int64())
            if pc.all(pc.fill_null(pc.equal(pc.floor(text.values), text.values), True)).as_py() is not False:
                merged = pc.coalesce(whole, pc.cast(text.values, pa.int64()))
                return Cleaned(merged, text.issues)
        except (pa.ArrowInvalid, OverflowError):
            pass  # beyond int64: kept as a floating-point number below
    merged = pc.coalesce(pc.cast(native_text, pa.float64()), pc.cast(text.values, pa.float64()))
    return Cleaned(merged, text.issues)


def leading_zero_error(plan: ColumnPlan, values: pa.ChunkedArray, kinds: pa.Array | None) -> str | None:
    """Why the spec's number type would lose leading zeros in this batch, or None."""
    if plan.type not in ("integer", "number") or plan.hint is None or plan.hint.type == "string":
        return None
    text = values
    if kinds is not None:
        text = pc.if_else(pc.equal(kinds, pa.scalar(int(CellKind.NUMBER), pa.int8())), None, _flat(values))
    samples = leading_zero_samples(text)
    if not samples:
        return None
    shown = ", ".join(repr(s) for s in samples)
    return (
        f"schema.columns.{plan.name}.type: {plan.hint.type} would drop the leading zeros of codes such as "
        f"{shown} in column {plan.label!r}; codes are identifiers: declare the column as string (the "
        "default) or remove its type"
    )


def convert_column(
    values: pa.ChunkedArray, kinds: pa.Array | None, plan: ColumnPlan, rules: TypingRules
) -> tuple[pa.ChunkedArray, list[Issue]]:
    """One batch's column to the plan's type; failing cells become null with an issue."""
    kind = plan.type
    issues: list[Issue] = []
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        out: Any = values.cast(ARROW_TYPES[kind], safe=False)  # typed by the source (Parquet)
    elif kind in ("integer", "number"):
        parsed = parse_number_cells(values, kinds, plan.locale or "vi", plan.name, rules.null_tokens,
                                    as_float=kind == "number")  # fmt: skip
        out, issues = parsed.values, list(parsed.issues)
        if plan.inferred and leading_zero_samples(values, 1):  # a later batch holding a code: reject
            # the row rather than drop its zero
            zeros = pc.match_substring_regex(pc.utf8_trim_whitespace(values), LEADING_ZERO)
            issues += issues_for_mask(
                values, zeros, plan.name, "a code with a leading zero in a number column"
            )
            out = pc.if_else(pc.fill_null(zeros, False), pa.scalar(None, out.type), out)
        if kind == "integer" and pa.types.is_floating(out.type):
            fractional = pc.fill_null(pc.not_equal(pc.floor(out), out), False)
            issues += issues_for_mask(values, fractional, plan.name, "not a whole number")
            out = pc.if_else(fractional, pa.scalar(None, out.type), out)
        out = out.cast(ARROW_TYPES[kind], safe=False)
    elif kind in ("date", "datetime"):
        parsed = parse_dates(values, plan.name, rules.day_first, null_tokens=rules.null_tokens)
        out, issues = parsed.values.cast(ARROW_TYPES[kind], safe=False), list(parsed.issues)
    else:  # boolean
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(values))
        is_true = pc.is_in(lowered, pa.array(sorted(_TRUE)))
        is_false = pc.is_in(lowered, pa.array(sorted(_FALSE)))
        out = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
        tokens = pc.is_in(pc.utf8_trim_whitespace(values), value_set=null_token_set(rules.null_tokens))
        unknown = pc.and_(pc.is_valid(values), pc.invert(pc.or_(pc.or_(is_true, is_false), tokens)))
        issues = issues_for_mask(values, unknown, plan.name, "not a yes/no value")
    if plan.hint is not None:
        issues += range_issues(out, plan)
    chunked = out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])
    return chunked, issues


def range_issues(values: pa.Array | pa.ChunkedArray, plan: ColumnPlan) -> list[Issue]:
    """Cells outside the spec's min / max / allowed values."""
    hint = plan.hint
    assert hint is not None
    issues: list[Issue] = []
    numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
    checks = []
    if hint.min is not None and numeric:
        checks.append((pc.less(values, hint.min), f"below the minimum {hint.min:g}"))
    if hint.max is not None and numeric:
        checks.append((pc.greater(values, hint.max), f"above the maximum {hint.max:g}"))
    if hint.values is not None:
        allowed = pa.array(hint.values).cast(values.type, safe=False)
        checks.append((pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, allowed))), "not allowed"))
    for mask, reason in checks:
        for idx in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            issues.append(Issue(idx, plan.name, str(values[idx].as_py()), reason))
    return issues
