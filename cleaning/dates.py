"""Dates as Vietnamese agencies write them, to date32 (or timestamp[s] when any cell has a time).

Accepted: ``dd/mm/yyyy``, ``d/m/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``yyyy-mm-dd``, each with an
optional ``HH:MM[:SS]``; "ngày 05 tháng 3 năm 2024", "05 tháng 03, 2024"; month-only "tháng 3/2024"
and "03/2024" give the first day of the month. Day-first is the default; day and month are never
swapped: with ``day_first=True`` "03/25/2024" is an issue, not 25 March. Two-digit years are
rejected. Calendar validity is checked (31/02 is an issue).

The common fixed-width forms (``dd/mm/yyyy``, ``yyyy-mm-dd``) are decoded straight from the Arrow
data buffer with numpy; other cells go through RE2 patterns (``pyarrow.compute``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import bool_array, string_span, valid_mask
from cleaning.issues import Issue, issues_for_mask
from cleaning.text import DEFAULT_NULL_TOKENS, Cleaned, null_token_set

__all__ = ["infer_day_first", "parse_dates"]

_TIME = r"(?:[ t,]+(?P<H>\d{1,2})[:h](?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
_PATTERNS = (
    # numeric, first/second field order decided by day_first
    rf"^(?P<a>\d{{1,2}})\s*[/.\-]\s*(?P<b>\d{{1,2}})\s*[/.\-]\s*(?P<y>\d{{4}}){_TIME}$",
    # ISO-like, year first (always y-m-d)
    rf"^(?P<y>\d{{4}})[\-/.](?P<m>\d{{1,2}})[\-/.](?P<d>\d{{1,2}}){_TIME}(?:z|[+\-]\d{{2}}:?\d{{2}})?$",
    # Vietnamese words: "ngày 05 tháng 3 năm 2024", "05 tháng 03, 2024", "TP.HCM, ngày 5 tháng 3 năm 2024"
    r"^(?:.*?ngày\s*)?(?P<d>\d{1,2})\s*(?:tháng|th\.?)\s*(?P<m>\d{1,2})\s*(?:năm|,|/)?\s*(?P<y>\d{4})$",
    # month and year only: "tháng 3/2024", "tháng 3 năm 2024", "03/2024"
    r"^(?:tháng\s*)?(?P<m>\d{1,2})\s*(?:[/\-]|năm)\s*(?P<y>\d{4})$",
)
_DMY_DIGITS = sum(1 << 8 * j for j in (0, 1, 3, 4, 6, 7))  # dd/mm/yyyy, bytes 0-7
_YMD_DIGITS = sum(1 << 8 * j for j in (0, 1, 2, 3, 5, 6))  # yyyy-mm-dd, bytes 0-7
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

# status codes per cell
_EMPTY, _OK, _BAD_MONTH, _INVALID, _UNRECOGNISED = 0, 1, 2, 3, 4


def _civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970-01-01, status) for integer y/m/d arrays (H. Hinnant's days_from_civil)."""
    y, m, d = (np.asarray(a, dtype=np.int32) for a in (y, m, d))
    month_ok = (m >= 1) & (m <= 12)
    mm = np.where(month_ok, m, 1)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    dim = _DAYS_IN_MONTH[mm] + ((mm == 2) & leap)
    ok = month_ok & (d >= 1) & (d <= dim) & (y >= 1)
    yy = y - (mm <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * ((mm + 9) % 12) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    status = np.where(ok, _OK, np.where(month_ok, _INVALID, _BAD_MONTH)).astype(np.int8)
    return days.astype(np.int64), status


def _civil_table(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_civil`` through a table of month starts for the years present (a few gathers per cell)."""
    y0, y1 = int(y.min()), int(y.max())
    if y0 < 1 or y1 - y0 > 400:  # odd years: the arithmetic form handles every case
        return _civil(y, m, d)
    years = np.repeat(np.arange(y0, y1 + 1, dtype=np.int32), 14)
    months = np.tile(np.arange(14, dtype=np.int32), y1 - y0 + 1)  # 0 and 13: never valid
    first, _ = _civil(years, np.clip(months, 1, 12), np.ones_like(years))
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    length = np.where((months >= 1) & (months <= 12), _DAYS_IN_MONTH[np.clip(months, 0, 12)], 0)
    length = length + ((months == 2) & leap)
    cell = (y - y0).astype(np.int64) * 14 + np.minimum(m, 13)
    days = first[cell] + d - 1
    month_ok = (m >= 1) & (m <= 12)
    ok = (d >= 1) & (d <= length[cell])
    status = np.where(ok, _OK, np.where(month_ok, _INVALID, _BAD_MONTH)).astype(np.int8)
    return days.astype(np.int64), status


def _fixed_width(chunk: pa.Array, day_first: bool) -> tuple[np.ndarray, np.ndarray]:
    """numpy fast path for 'dd/mm/yyyy' ('-' or '.' too) and 'yyyy-mm-dd': (days, status)."""
    n = len(chunk)
    days = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    if n == 0:
        return days, status
    data, offsets = string_span(chunk)
    raw = np.frombuffer(data, dtype=np.uint8)
    lengths = offsets[1:] - offsets[:-1]
    candidates = lengths == 10
    if chunk.null_count:
        candidates &= valid_mask(chunk)
    rows: np.ndarray
    if candidates.all() and raw.size == 10 * n:
        rows, block = np.arange(n), raw.reshape(n, 10)  # every cell 10 bytes: a zero-copy view
    else:
        rows = np.flatnonzero(candidates)
        if rows.size == 0:
            return days, status
        block = raw[offsets[rows][:, None] + np.arange(10)]  # byte j of every candidate cell
    v = block - np.uint8(48)  # digits become 0..9, anything else wraps above 9
    # Whether each of the 10 bytes is a digit (0 or 1), read as one 8-byte and one 2-byte word
    # per cell: the digit positions of a form are then checked with one mask each.
    dig = np.ascontiguousarray(v <= 9).view(np.uint8)
    head: np.ndarray = np.ndarray((len(dig),), "<u8", dig, 0, (10,))  # bytes 0-7, unaligned view
    tail: np.ndarray = np.ndarray((len(dig),), "<u2", dig, 8, (10,))  # bytes 8-9
    s2, s5 = block[:, 2], block[:, 5]
    sep = ((s2 == 47) | (s2 == 45) | (s2 == 46)) & ((s5 == 47) | (s5 == 45) | (s5 == 46))  # / - .
    year_tail = tail == 0x0101  # bytes 8 and 9: digits in both forms
    dmy = ((head & _DMY_DIGITS) == _DMY_DIGITS) & year_tail & sep
    ymd = ((head & _YMD_DIGITS) == _YMD_DIGITS) & year_tail & (block[:, 4] == 45) & (block[:, 7] == 45)
    hit = dmy | ymd
    if not hit.any():
        return days, status
    if not hit.all():
        v, dmy, rows = v[hit], dmy[hit], rows[hit]
    v = v.astype(np.int32)
    p01, p34, p56, p89 = (v[:, j] * 10 + v[:, j + 1] for j in (0, 3, 5, 8))  # two-digit fields
    d = np.where(dmy, p01 if day_first else p34, p89)
    m = np.where(dmy, p34 if day_first else p01, p56)
    y = np.where(dmy, v[:, 6] * 1000 + v[:, 7] * 100 + p89, p01 * 100 + v[:, 2] * 10 + v[:, 3])
    days[rows], status[rows] = _civil_table(y, m, d)
    return days, status


def _np_int(values: pa.ChunkedArray) -> np.ndarray:
    """Digits (or ''/null) to int64 numpy, missing as -1."""
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    ints = pc.fill_null(pc.cast(values, pa.int64()), -1)
    return np.asarray(ints.to_numpy(), dtype=np.int64)


def _general(
    values: pa.ChunkedArray, todo: np.ndarray, day_first: bool, null_tokens: Sequence[str]
) -> tuple[np.ndarray, ...]:
    """RE2 path for cells the fast path did not take: (seconds, status, has_time).

    These cells are trimmed and NFC-normalised here; null tokens ("N/A", "-"...) become null.
    """
    empty = pa.scalar(None, pa.string())
    rest = pc.if_else(bool_array(todo), values, empty)
    rest = pc.utf8_lower(pc.utf8_normalize(pc.utf8_trim_whitespace(rest), "NFC"))
    blank = np.asarray(pc.fill_null(pc.is_in(rest, value_set=null_token_set(null_tokens)), False).to_numpy())
    todo = todo & ~blank
    comps: dict[str, np.ndarray] = {k: np.full(len(todo), -1, dtype=np.int64) for k in "dmyHMS"}
    left = todo.copy()
    for i, pattern in enumerate(_PATTERNS):
        if not left.any():
            break
        found = pc.extract_regex(pc.if_else(bool_array(left), rest, empty), pattern)
        hit = np.asarray(pc.is_valid(found).to_numpy(zero_copy_only=False), dtype=bool)
        if not hit.any():
            continue
        for j in range(found.type.num_fields):
            name = found.type.field(j).name
            key = name if name not in ("a", "b") else ("d" if (name == "a") == day_first else "m")
            comps[key] = np.where(hit, _np_int(pc.struct_field(found, name)), comps[key])
        if i == 3:
            comps["d"] = np.where(hit, 1, comps["d"])
        left &= ~hit
    matched = todo & ~left
    days, status = _civil(comps["y"], comps["m"], comps["d"])
    h, mi, s = (np.where(comps[k] < 0, 0, comps[k]) for k in "HMS")
    time_ok = (h <= 23) & (mi <= 59) & (s <= 59)
    status = np.where(matched, np.where((status == _OK) & ~time_ok, _INVALID, status), _UNRECOGNISED)
    status = np.where(todo, status, _EMPTY).astype(np.int8)
    secs = days * 86400 + h * 3600 + mi * 60 + s
    has_time = (status == _OK) & (comps["H"] >= 0)
    return secs, status, has_time


def parse_dates(
    values: pa.Array | pa.ChunkedArray,
    column: str = "",
    day_first: bool = True,
    null_tokens: Sequence[str] = DEFAULT_NULL_TOKENS,
) -> Cleaned:
    """Parse a string column of dates; see the module docstring for the accepted forms.

    Returns date32, or timestamp[s] if any valid cell carried a time (date-only cells get 00:00).
    Issues: "unrecognised date format", "month out of range (read as dd/mm, not swapped)",
    "invalid calendar date". Non-string input is returned unchanged.
    """
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return Cleaned(values, [])
    chunked = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    chunked = chunked.cast(pa.string())
    parts = [_fixed_width(c, day_first) for c in chunked.chunks]
    n = len(chunked)
    days = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    status = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int8)
    secs = days * 86400
    has_time = np.zeros(n, dtype=bool)
    present = np.asarray(pc.is_valid(chunked).to_numpy(), dtype=bool) if n else np.zeros(0, bool)
    todo = present & (status == _EMPTY)
    if todo.any():
        g_secs, g_status, g_time = _general(chunked, todo, day_first, null_tokens)
        secs = np.where(todo, g_secs, secs)
        status = np.where(todo, g_status, status)
        has_time = g_time
    ok = status == _OK
    out: pa.Array
    if has_time.any():
        out = pa.array(secs, pa.int64(), mask=~ok).cast(pa.timestamp("s"))
    else:
        out = pa.array((secs // 86400).astype(np.int32), pa.int32(), mask=~ok).cast(pa.date32())
    order = "dd/mm" if day_first else "mm/dd"
    reasons = {
        _UNRECOGNISED: "unrecognised date format",
        _BAD_MONTH: f"month out of range (read as {order}, not swapped)",
        _INVALID: "invalid calendar date",
    }
    issues: list[Issue] = []
    for code, reason in reasons.items():
        mask = status == code
        if mask.any():
            issues += issues_for_mask(chunked, bool_array(mask), column, reason)
    issues.sort(key=lambda i: i.row)
    result: pa.Array | pa.ChunkedArray = (
        pa.chunked_array([out]) if isinstance(values, pa.ChunkedArray) else out
    )
    return Cleaned(result, issues)


def infer_day_first(values: pa.Array | pa.ChunkedArray, sample: int = 100_000) -> bool | None:
    """Evidence from numeric a/b/yyyy cells: True (a field > 12 is first), False (second), else None.

    None means no evidence or contradicting evidence: keep the Vietnamese default (day first).
    """
    head = values.drop_null().slice(0, sample)
    if len(head) == 0:
        return None
    found = pc.extract_regex(pc.utf8_trim_whitespace(head), _PATTERNS[0])
    first = _np_int(pa.chunked_array([pc.struct_field(found, "a")]))
    second = _np_int(pa.chunked_array([pc.struct_field(found, "b")]))
    first_big, second_big = bool((first > 12).any()), bool((second > 12).any())
    if first_big == second_big:
        return None
    return first_big
