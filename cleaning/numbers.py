"""Locale-aware numbers: ``vi`` ("1.234.567,89", "12,5%", "1.234,5 đ") and ``en`` ("1,234,567.89").

Result type is int64 when every parsed value is integral, else float64. Cells that do not parse
become null with an :class:`~cleaning.issues.Issue`; nothing is guessed: in ``vi`` "1.5" is not
1.5 (a dot separates thousands, groups have 3 digits), it is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import bool_array, scatter, string_span
from cleaning._number_scan import scan_strict
from cleaning.issues import issues_for_mask
from cleaning.text import DEFAULT_NULL_TOKENS, Cleaned, null_token_set

__all__ = ["Locale", "locale_evidence", "parse_numbers"]

Locale = Literal["vi", "en"]

_SEP = {"vi": (".", ","), "en": (",", ".")}  # (thousands, decimal)
# currency / unit affixes accepted around a number (matched case-insensitively)
_AFFIX = r"(?:vnđ|vnd|đồng|dong|đ|₫|usd|\$|%)"


def _lenient(locale: Locale) -> str:
    """Number with affixes, spaces or NBSP as thousands separators, or accounting negatives "(1.234)"."""
    thousands, decimal = (r"[. \x{00A0}]", ",") if locale == "vi" else (r"[, \x{00A0}]", r"\.")
    num = rf"[+-]?\s*(?:\d{{1,3}}(?:{thousands}\d{{3}})+|\d+)(?:{decimal}\d+)?"
    return rf"(?i)^(?:{_AFFIX}\s*)?(?P<num>{num}|\({num}\))\s*(?:{_AFFIX})?$"


def _has_decimal(plain: pa.ChunkedArray) -> bool:
    """Does any cell of the plain "1234.5" strings have a decimal point? (byte scan, numpy)"""
    return any(bool((np.frombuffer(string_span(c)[0], dtype=np.uint8) == 0x2E).any()) for c in plain.chunks)


def _parse(
    values: pa.ChunkedArray, locale: Locale, null_tokens: Sequence[str]
) -> tuple[pa.ChunkedArray, pa.ChunkedArray, pa.ChunkedArray]:
    """(plain "1234.5" strings or null, failed mask, percent mask); whole-column kernel calls.

    Cells off the strict fast path are trimmed, NFC-normalised and checked for null tokens here,
    so number columns need no separate text pass.
    """
    present = pc.is_valid(values)
    scans = [scan_strict(c, *_SEP[locale]) for c in values.chunks]
    ok = pa.chunked_array([bool_array(mask) for mask, _ in scans], pa.bool_())
    plain = pa.chunked_array([strings for _, strings in scans], pa.string())
    todo = pc.and_(present, pc.invert(ok))
    percent = pc.and_(todo, False)
    blank = percent
    if pc.any(todo).as_py():
        sub = pc.utf8_normalize(pc.utf8_trim_whitespace(pc.filter(values, todo)), "NFC")
        blank = pc.fill_null(scatter(todo, pc.is_in(sub, value_set=null_token_set(null_tokens))), False)
        extracted = pc.struct_field(pc.extract_regex(sub, _lenient(locale)), "num")
        negative = pc.starts_with(extracted, "(")
        cleaned = pc.replace_substring_regex(extracted, r"[()\s\x{00A0}]", "")
        cleaned = pc.if_else(negative, pc.binary_join_element_wise("-", cleaned, ""), cleaned)
        cleaned = pc.replace_substring(cleaned, "--", "")
        thousands, decimal = _SEP[locale]
        cleaned = pc.replace_substring(pc.replace_substring(cleaned, thousands, ""), decimal, ".")
        plain = pc.coalesce(plain, scatter(todo, cleaned.cast(pa.string())))
        percent = pc.fill_null(scatter(todo, pc.ends_with(sub, "%")), False)
    failed = pc.and_(pc.and_(present, pc.is_null(plain)), pc.invert(blank))
    return plain, failed, percent


def parse_numbers(
    values: pa.Array | pa.ChunkedArray,
    locale: Locale = "vi",
    column: str = "",
    percent_as_fraction: bool = False,
    null_tokens: Sequence[str] = DEFAULT_NULL_TOKENS,
    as_float: bool = False,
) -> Cleaned:
    """Parse a string column of numbers written in ``locale``; int64 if all integral else float64
    (always float64 with ``as_float``, which skips looking for fractions).

    "12,5%" gives 12.5 (or 0.125 with ``percent_as_fraction``). Cells are trimmed and
    ``null_tokens`` ("N/A", "-"...) become null without an issue. Non-string numeric input is
    returned as is. Failures: null plus an issue "not a number (locale vi)".
    """
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return Cleaned(values, [])
    chunked = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    chunked = chunked.cast(pa.string())
    plain, failed, percent = _parse(chunked, locale, null_tokens)
    issues = issues_for_mask(chunked, failed, column, f"not a number (locale {locale})")
    has_pct = percent_as_fraction and pc.any(percent).as_py()
    out: pa.ChunkedArray
    if as_float:
        out = pc.cast(plain, pa.float64())
        if has_pct:
            out = pc.if_else(percent, pc.divide(out, 100.0), out)
    elif not has_pct and not _has_decimal(plain):
        try:
            out = pc.cast(plain, pa.int64())
        except (pa.ArrowInvalid, OverflowError):  # beyond int64: keep as float
            out = pc.cast(plain, pa.float64())
    else:
        out = pc.cast(plain, pa.float64())
        if has_pct:
            out = pc.if_else(percent, pc.divide(out, 100.0), out)
        finite = pc.and_(pc.is_finite(out), pc.less_equal(pc.abs(out), 2.0**53))
        if pc.all(
            pc.and_(pc.fill_null(finite, True), pc.fill_null(pc.equal(pc.floor(out), out), True))
        ).as_py():
            out = pc.cast(out, pa.int64())
    result: pa.Array | pa.ChunkedArray = out if isinstance(values, pa.ChunkedArray) else out.combine_chunks()
    return Cleaned(result, issues)


def locale_evidence(
    values: pa.Array | pa.ChunkedArray, null_tokens: Sequence[str] = DEFAULT_NULL_TOKENS
) -> tuple[int, int]:
    """(cells that are numbers only in ``vi``, cells that are numbers only in ``en``).

    "1,5", "1.234,5", "1.234.567" are Vietnamese only; "1.5", "10.5464", "1,234.5" English only.
    "1.234" and "1,234" read in both (as different numbers) and "1234" as the same number: neither
    tells the locale, so they count for neither.
    """
    chunked = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    if len(chunked) == 0 or not (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)):
        return 0, 0
    chunked = chunked.cast(pa.string())
    present = pc.is_valid(chunked)
    ok = {}
    for locale in ("vi", "en"):
        plain, _, _ = _parse(chunked, locale, null_tokens)
        ok[locale] = pc.and_(present, pc.is_valid(plain))
    vi_only = pc.sum(pc.cast(pc.and_(ok["vi"], pc.invert(ok["en"])), pa.int64())).as_py() or 0
    en_only = pc.sum(pc.cast(pc.and_(ok["en"], pc.invert(ok["vi"])), pa.int64())).as_py() or 0
    return int(vi_only), int(en_only)
