"""The strict number form found and rewritten with numpy over an Arrow string array's buffers.

A cell is in the strict form of a locale with thousands separator T and decimal separator D when it
matches ``^[+-]?(?:\\d{1,3}(?:T\\d{3})+|\\d+)(?:D\\d+)?$`` (``cleaning.numbers._strict``, the
specification; a unit test compares the two on random cells). Such cells are rewritten as plain
``-1234.5`` strings, which Arrow's cast parses.

Fast path, for the usual clean column: each cell's separators are looked for only where a
well-formed number has them (D scanning back over the fraction digits, T every fourth byte before
D), then the chunk's separator totals prove there is no other separator anywhere. A chunk whose
totals differ (a malformed cell holds a separator elsewhere) is decided by the RE2 regex instead.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import string_span, translate_strings, valid_mask


@functools.lru_cache(maxsize=4)
def strict_pattern(thousands: str, decimal: str) -> str:
    t, d = (r"\." if c == "." else c for c in (thousands, decimal))
    return rf"^[+-]?(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)(?:{d}\d+)?$"


def scan_strict(values: pa.Array, thousands: str, decimal: str) -> tuple[np.ndarray, pa.Array]:
    """(mask of the cells in the strict form, those cells as plain strings and null elsewhere)."""
    found = _fast_scan(values, ord(thousands), ord(decimal))
    if found is not None:
        return found
    ok = pc.fill_null(pc.match_substring_regex(values, strict_pattern(thousands, decimal)), False)
    mask = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    by = b"." if decimal != "." else b""
    plain = translate_strings(values, thousands.encode(), decimal.encode() if by else b"", by)
    return mask, _with_validity(plain, mask)


def _with_validity(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """``values`` with exactly the cells of ``mask`` valid (a string array without an offset)."""
    count = int(np.count_nonzero(mask))
    bitmap = None if count == len(values) else pa.py_buffer(np.packbits(mask, bitorder="little"))
    buffers = values.buffers()
    return pa.Array.from_buffers(
        pa.string(), len(values), [bitmap, buffers[1], buffers[2]], len(values) - count
    )


def _fast_scan(values: pa.Array, thousands: int, decimal: int) -> tuple[np.ndarray, pa.Array] | None:
    """The result from positional checks only, or None when the chunk's separator totals say
    some separator sits where no well-formed number has one."""
    n = len(values)
    data, offsets = string_span(values)
    raw = np.frombuffer(data, dtype=np.uint8)
    if n == 0 or raw.size == 0:
        return np.zeros(n, dtype=bool), pa.nulls(n, pa.string())
    starts, ends = offsets[:-1].astype(np.int64), offsets[1:].astype(np.int64)
    is_t, is_d = raw == thousands, raw == decimal
    digit = (raw - np.uint8(0x30)) < 10
    last = raw.size - 1
    first = raw[np.minimum(starts, last)]
    signed = (ends > starts) & ((first == 0x2B) | (first == 0x2D))
    body = starts + signed  # first byte after the sign
    ok = body < ends
    if values.null_count:
        ok &= valid_mask(values)
    stray = np.flatnonzero(~(digit | is_t | is_d))  # neither digit nor separator: a sign at most
    if stray.size:
        cell = np.searchsorted(ends, stray, side="right")
        ok[cell[~(signed[cell] & (stray == starts[cell]))]] = False

    # D: scanning back from the end over digits; int_end is where the integer part ends.
    d_total = int(np.count_nonzero(is_d))
    int_end = ends.copy() if d_total else ends
    has_d = np.zeros(n, dtype=bool)
    active = np.flatnonzero(ok) if d_total else ends[:0]
    if active.size:  # usually every fraction has one length: try the first one for all cells
        first_d = int(np.flatnonzero(is_d)[0])
        back = int(ends[np.searchsorted(ends, first_d, side="right")]) - first_d
        pos = ends - back
        has_d = ok & (pos >= starts) & is_d[np.maximum(pos, 0)]
        if int(np.count_nonzero(has_d)) == d_total:
            int_end[has_d] = pos[has_d]
            active = ends[:0]
        else:
            has_d[:] = False
    back = 1
    while active.size:
        pos = ends[active] - back
        inside = pos >= starts[active]
        active, pos = active[inside], pos[inside]
        byte = raw[pos]
        hit = byte == decimal
        int_end[active[hit]] = pos[hit]
        has_d[active[hit]] = True
        active = active[(byte - np.uint8(0x30)) < 10]
        back += 1
    if int(np.count_nonzero(has_d)) != d_total:
        return None

    # T: a cell whose integer part has L bytes holds k = (L - 1) // 4 separators, each 4 bytes apart.
    length = int_end - body
    groups = np.maximum(length - 1, 0) // 4
    t_seen = int(np.count_nonzero(is_t))
    grouped = np.zeros(n, dtype=bool)
    active = np.flatnonzero(ok & (groups > 0)) if t_seen else ends[:0]
    k = 1
    while active.size:
        active = active[is_t[int_end[active] - 4 * k]]
        done = groups[active] == k
        grouped[active[done]] = True
        active = active[~done]
        k += 1
    t_count = np.where(grouped, groups, 0)
    t_total = int(t_count.sum())
    if t_total != t_seen:
        return None
    ok &= length >= 1
    ok &= ~grouped | (length - 4 * groups <= 3)  # the leading group: 1 to 3 digits
    ok &= ~has_d | (ends - int_end >= 2)  # at least one digit after D

    # Plain strings: T bytes removed, D written as ".".
    removed = np.zeros(n + 1, dtype=np.int64)  # T bytes removed before each cell
    if t_total:
        np.cumsum(t_count, out=removed[1:])
        kept = raw[~is_t]
    else:
        kept = raw
    cells_d = np.flatnonzero(has_d)
    if decimal != 0x2E and cells_d.size:
        kept = kept.copy() if kept is raw else kept
        # every T of a cell is before its D: it moves back by the cell's count and all before it
        kept[int_end[cells_d] - removed[cells_d + 1]] = 0x2E
    new_offsets = offsets - removed
    plain = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(new_offsets.astype(np.int32)), pa.py_buffer(kept)]
    )
    return ok, _with_validity(plain, ok)
