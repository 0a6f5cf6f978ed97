"""The footer of a CSV file, cut from the last rows the batcher holds back (internal to the reader).

The batcher keeps the last ``Tail.hold`` rows (``layout.TAIL_ROWS``, or the given footer_rows)
out of the batches it hands out, and the rejected rows met after them. At the end of the file
:meth:`Tail.trim` reads only those rows as text, finds where the footer starts
(``layout.footer_start``: a totals row, notes, place and date, signatures; ragged rows among them
count as footer) and cuts it off: the footer's rows, rejected or not, become ``SkippedRow``s with
their physical lines, the rest is handed out as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.formats import layout
from connectors.formats._common import truncate
from connectors.formats.base import RejectedRow, SkippedRow

Piece = tuple[pa.RecordBatch, int, np.ndarray | None]  # (rows, line of the first, lines or None)


@dataclass
class Tail:
    """Footer detection for one read: ``count`` given (footer_rows) or None (detected)."""

    count: int | None
    width: int  # columns of the table
    delimiter: str
    skipped: list[SkippedRow]  # where footer rows go (info.skipped)
    report: dict[str, Any]  # info.layout entry of the file: "footer_rows" is set

    @property
    def hold(self) -> int:
        """Rows the batcher keeps back until the end of the file."""
        return layout.TAIL_ROWS if self.count is None else self.count

    def trim(self, pieces: list[Piece], rejected: list[RejectedRow]) -> tuple[list[Piece], list[RejectedRow]]:
        """``pieces`` and ``rejected`` (the last ones, in file order) without the footer."""
        rows = sorted(self._last_rows(pieces) + self._rejected_rows(rejected), key=lambda row: row.pos)
        rows = rows[-self.hold :] if self.hold else []
        start = layout.footer_start(rows, self.width, self.count)
        self.report["footer_rows"] = len(rows) - start
        if start >= len(rows):
            return pieces, rejected
        raw = {r.line: r.raw for r in rejected}
        for row in rows[start:]:
            text = raw.get(row.pos) if row.rejected else self.delimiter.join(v or "" for v in row.cells)
            self.skipped.append(SkippedRow(row.pos, layout.footer_kind(row), truncate(text) or ""))
        cut = rows[start].pos
        return _before(pieces, cut), [r for r in rejected if r.line < cut]

    def _last_rows(self, pieces: list[Piece]) -> list[layout.Row]:
        """The last ``hold`` rows of ``pieces`` as text."""
        out: list[layout.Row] = []
        need = self.hold
        for rows, line, lines in reversed(pieces):
            if need <= 0:
                break
            n = rows.num_rows
            k = min(n, need)
            part = rows.slice(n - k, k)
            columns = [part.column(j).to_pylist() for j in range(part.num_columns)]
            at = lines[n - k :] if lines is not None else np.arange(line + n - k, line + n)
            out.extend(layout.Row(int(at[i]), [c[i] for c in columns]) for i in range(k))
            need -= k
        return out

    def _rejected_rows(self, rejected: list[RejectedRow]) -> list[layout.Row]:
        return [layout.Row(r.line, (r.raw or "").split(self.delimiter), rejected=True) for r in rejected]


def _before(pieces: list[Piece], cut: int) -> list[Piece]:
    """The rows of ``pieces`` on lines before ``cut``."""
    out: list[Piece] = []
    for rows, line, lines in pieces:
        if line >= cut:
            break
        at = lines if lines is not None else np.arange(line, line + rows.num_rows)
        keep = int(np.searchsorted(at, cut))
        if keep < rows.num_rows:
            out.append((rows.slice(0, keep), line, lines[:keep] if lines is not None else None))
            break
        out.append((rows, line, lines))
    return out
