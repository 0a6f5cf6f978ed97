"""Row values in Arrow buffers: string-column helpers, and the batcher assembling ReadBatches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import string_span
from citydata.kernels.libc import buffer_contains
from connectors.formats.base import ReadBatch, RejectedRow
from connectors.formats.csv.tail import Piece, Tail

MAX_PIECES = 32  # a batch of more row pieces than this is copied into one chunk per column
_COMBINING_LEADS = (b"\xcc", b"\xcd")  # UTF-8 lead bytes of U+0300..U+036F (combining marks)


# --------------------------------------------------------------------------------------------------
# Arrow helpers
# --------------------------------------------------------------------------------------------------


def _contains(array: pa.Array, needle: bytes) -> bool:
    """Does any value of a string array hold ``needle``? (in place: no copy, no GIL held)"""
    return buffer_contains(string_span(array)[0], needle)


def _int_values(array: pa.Array) -> np.ndarray:
    """An integer array without nulls as numpy, zero-copy (``to_numpy`` would import pandas)."""
    dtype = np.dtype(str(array.type))  # int32 (lengths, counts) or uint64 (indices)
    if len(array) == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize
    )


def _nfc(array: pa.Array) -> pa.Array:
    if not any(_contains(array, lead) for lead in _COMBINING_LEADS):
        return array
    if len(array) >= 64:
        encoded = pc.dictionary_encode(array)
        if len(encoded.dictionary) * 4 <= len(array):
            return pc.take(pc.utf8_normalize(encoded.dictionary, form="NFC"), encoded.indices)
    return pc.utf8_normalize(array, form="NFC")


def _row_text(batch: pa.RecordBatch, row: int, delimiter: str) -> str:
    return delimiter.join(str(batch.column(j)[row].as_py() or "") for j in range(batch.num_columns))


# --------------------------------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------------------------------


class _Batcher:
    """Collects row pieces into ReadBatches of ``batch_rows`` rows, with the line of every row.

    A piece is (rows, line of its first row, lines of all its rows or None when consecutive).
    With a ``tail``, the last ``tail.hold`` rows (and the rejected rows after them) are kept back
    until ``finish``, which cuts the footer off them.
    """

    def __init__(self, schema: pa.Schema, batch_rows: int, tail: Tail | None = None) -> None:
        self.schema = schema
        self.batch_rows = batch_rows
        self.tail = tail
        self.hold = tail.hold if tail is not None else 0
        self.pieces: list[Piece] = []
        self.rows = 0
        self.rejected: list[RejectedRow] = []
        self.emitted = False

    def add(self, rows: pa.RecordBatch, line: int, lines: np.ndarray | None = None) -> Iterator[ReadBatch]:
        if not rows.num_rows:
            return
        self.pieces.append((rows, line, lines))
        self.rows += rows.num_rows
        while self.rows >= self.batch_rows + self.hold:
            yield self._take(self.batch_rows)

    def reject(self, row: RejectedRow) -> Iterator[ReadBatch]:
        self.rejected.append(row)
        if len(self.rejected) >= self.batch_rows:  # bounded memory even when every row is bad
            yield self.flush(row.line + 1)

    def flush(self, line_if_empty: int) -> ReadBatch:
        return self._take(self.rows, line_if_empty)

    def finish(self, line_if_empty: int) -> Iterator[ReadBatch]:
        if self.tail is not None:
            self.pieces, self.rejected = self.tail.trim(self.pieces, self.rejected)
            self.rows = sum(rows.num_rows for rows, _, _ in self.pieces)
        while self.rows > self.batch_rows:  # rows held back for the footer check
            yield self._take(self.batch_rows)
        if self.rows or self.rejected or not self.emitted:
            yield self.flush(line_if_empty)

    def _take(self, count: int, line_if_empty: int = 0) -> ReadBatch:
        taken: list[Piece] = []
        need = count
        while need:
            rows, line, lines = self.pieces[0]
            if rows.num_rows <= need:
                taken.append(self.pieces.pop(0))
                need -= rows.num_rows
            else:
                head = lines[:need] if lines is not None else None
                taken.append((rows.slice(0, need), line, head))
                rest_line = int(lines[need]) if lines is not None else line + need
                rest = lines[need:] if lines is not None else None
                self.pieces[0] = (rows.slice(need), rest_line, rest)
                need = 0
        self.rows -= count
        first_line = taken[0][1] if taken else line_if_empty
        consecutive, expected = True, first_line
        for rows, line, lines in taken:
            if lines is not None or line != expected:
                consecutive = False
                break
            expected = line + rows.num_rows
        all_lines = None
        if not consecutive:
            all_lines = np.concatenate(
                [
                    lines if lines is not None else np.arange(line, line + rows.num_rows, dtype=np.int64)
                    for rows, line, lines in taken
                ]
            ).astype(np.int64)
        table = pa.Table.from_batches([rows for rows, _, _ in taken], schema=self.schema)
        if len(taken) > MAX_PIECES:  # many short runs between bad rows: one copy beats per-chunk work
            table = table.combine_chunks()
        rejected, self.rejected = self.rejected, []
        if self.hold and rejected and self.pieces:  # rows after the batch are held: so are their rejects
            held = self.pieces[0][1]
            self.rejected = [r for r in rejected if r.line >= held]
            rejected = [r for r in rejected if r.line < held]
        batch = ReadBatch(table=table, first_line=first_line, rejected=rejected, lines=all_lines)
        self.emitted = True
        return batch
