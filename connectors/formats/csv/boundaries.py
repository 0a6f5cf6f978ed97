"""Where a CSV buffer can be cut between records, so its pieces can be parsed on several threads.

A newline ends a record unless it is inside a quoted value. Inside means an odd number of quote
characters before it, which holds while every quote is where RFC 4180 puts one: an opening quote
at the start of a field (after a delimiter, a line break, or another quote of an escaped pair), a
closing quote at its end. A quote anywhere else (``12" screen``, a stray quote in a name) is taken
literally by the parser, so counting can no longer be trusted: the cut is then made before that
quote, or not at all, and the caller reads on serially. In CR-only files a ``\\r`` followed by
``\\n`` is never a cut point.
"""

from __future__ import annotations

import numpy as np

_LF, _CR = 0x0A, 0x0D


def last_boundary(
    data: bytes | bytearray, newline: int, quote: int | None, delimiter: int
) -> tuple[int, bool, bool]:
    """(bytes of ``data`` up to the end of its last complete record, 0 if none; True when every
    quote in ``data`` is well placed; True when those bytes hold a quote at all).
    ``data`` must start at the start of a record."""
    if quote is None or data.find(quote) < 0:  # no quote at all (memchr): every line break counts
        end = data.rfind(newline)
        while newline == _CR and end >= 0 and (end + 1 == len(data) or data[end + 1] == _LF):
            end = data.rfind(newline, 0, end)
        return end + 1, True, False
    buf = np.frombuffer(data, dtype=np.uint8)
    size = buf.size
    ends = np.flatnonzero(buf == newline)
    if newline == _CR and ends.size:
        after = buf[np.minimum(ends + 1, size - 1)]
        ends = ends[(ends + 1 < size) & (after != _LF)]  # a CRLF is one break; at the end: unknown
    quotes = np.flatnonzero(buf == quote)
    trusted = True
    prev = buf[np.maximum(quotes - 1, 0)]
    nxt = buf[np.minimum(quotes + 1, size - 1)]

    def bounds(byte: np.ndarray) -> np.ndarray:
        return (byte == delimiter) | (byte == _LF) | (byte == _CR) | (byte == quote)

    opening = np.arange(quotes.size) % 2 == 0  # outside a value before it: it opens one
    placed = np.where(opening, (quotes == 0) | bounds(prev), (quotes == size - 1) | bounds(nxt))
    stray = np.flatnonzero(~placed)
    if stray.size:
        trusted = False
        ends = ends[ends < quotes[stray[0]]]
    ends = ends[(np.searchsorted(quotes, ends) % 2) == 0]
    cut = int(ends[-1]) + 1 if ends.size else 0
    return cut, trusted, bool(quotes.size) and int(quotes[0]) < cut
