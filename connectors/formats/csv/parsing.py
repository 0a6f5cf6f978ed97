"""One read of a CSV file's data records by pyarrow: rows, rejected rows with their lines.

A pass parses the UTF-8 stream with ``pyarrow.csv.open_csv``; rows with a wrong field count come
through pyarrow's invalid-row handler and are rejected with their physical line. A pass restarts
(skipping the rows already handed out) with a larger block, serially, or through a decoder when
pyarrow cannot go on (see ``_FileReader._recover``).
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import RawObject
from connectors.formats._common import truncate
from connectors.formats.base import FormatError, FormatOptions, ReadBatch, RejectedRow
from connectors.formats.csv.buffers import _Batcher, _contains, _int_values, _nfc, _row_text
from connectors.formats.csv.head import MARKER as _MARKER
from connectors.formats.csv.head import Layout as _Layout
from connectors.formats.csv.streams import (
    _UNDECODABLE,
    _UNDECODABLE_BYTES,
    _BufferStream,
    _Encoding,
    _Gate,
    _PieceSource,
    _Utf8Stream,
)

if TYPE_CHECKING:
    from connectors.formats.csv.pieces import _Piece

READ_AHEAD_BLOCKS = 4  # blocks pyarrow may read ahead of the consumer
MAX_BLOCK = 64 * 2**20  # blocks grow up to this for huge records, then FormatError

_UNCLOSED = "a quoted field is still open at the end of the file (truncated file?)"


@dataclass
class _Invalid:
    number: int  # record number counted by pyarrow from the first data record (1-based)
    expected: int
    actual: int
    text: str  # already truncated
    height: int  # physical lines of the record
    truncated_file: bool
    undecodable: bool


def _quiet_invalid_row_errors() -> None:
    """Silence pyarrow's "Exception ignored" report when a bad row's text is not UTF-8.

    pyarrow decodes the row text before calling the invalid-row handler; on invalid UTF-8 that
    fails inside pyarrow (reported through ``sys.unraisablehook``) and the read stops with an
    ArrowInvalid, which this reader handles by reading again through a decoder. Other unraisable
    exceptions go to the previous hook.
    """
    previous = sys.unraisablehook
    if getattr(previous, "_citydata_csv", False):
        return

    def hook(unraisable: Any) -> None:
        target = getattr(unraisable.object, "__func__", None)
        if target is _FileReader._invalid_row and isinstance(unraisable.exc_value, UnicodeDecodeError):
            return
        previous(unraisable)

    hook._citydata_csv = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


class _Restart(Exception):
    pass


class _FileReader:
    """One read of one file: passes over the data (a pass restarts after a recoverable failure)."""

    def __init__(
        self,
        raw: RawObject,
        encoding: _Encoding,
        layout: _Layout,
        names: list[str],
        options: FormatOptions,
        block_size: int,
        batcher: _Batcher | None = None,
        piece: _Piece | None = None,
    ) -> None:
        """``piece``: read only that part of the file, serially, with lines counted from 1 and
        every row in one batch (see ``_PieceReader``); else the whole file into ``batcher``."""
        self.raw = raw
        self.encoding = encoding
        self.layout = layout
        self.names = names
        self.schema = pa.schema([pa.field(n, pa.string()) for n in names])
        if batcher is None:  # a piece is batched whole; the file's batcher holds its tail back
            batcher = _Batcher(
                self.schema, sys.maxsize if piece else options.batch_rows, None if piece else layout.tail
            )
        self.batcher = batcher
        self.block_size = block_size
        self.piece = piece
        self.transcode = encoding.codec != "utf-8"
        self.threaded = piece is None  # until a bad row needs its number: then serial (see _recover)
        self.resume = 1  # first record number not yet handed out
        self.sentinel: str | None = _MARKER + layout.delimiter * (len(names) - 1) + "\n"
        if piece is not None and not piece.last:
            self.sentinel = None  # the file goes on after this piece
        _quiet_invalid_row_errors()

    # --- passes ----------------------------------------------------------------------------
    def batches(self) -> Iterator[ReadBatch]:
        while True:
            try:
                yield from self._pass()
                break
            except _Restart:
                continue
        yield from self.batcher.finish(self.next_line)

    def _open(self) -> _Utf8Stream | _BufferStream:
        if self.piece is not None and self.piece.data is not None:
            data = self.piece.data
            if not self.transcode:
                if self.sentinel is not None:  # the last piece: one copy, to append the sentinel
                    text = data.to_pybytes()
                    newline = b"" if text[-1:] in (b"\n", b"\r") else b"\n"
                    data = pa.py_buffer(text + newline + self.sentinel.encode())
                return _BufferStream(data)
            stream = _Utf8Stream(_PieceSource(self.raw.name, data), self.encoding, self.transcode)
        else:
            stream = _Utf8Stream(self.raw, self.encoding, self.transcode)
            stream.skip(self.layout.data_offset)
        if self.sentinel is not None:
            stream.end_with(self.sentinel)
        return stream

    def _pass(self) -> Iterator[ReadBatch]:
        self.record = 1  # record number of the next record (pyarrow's numbering)
        self.next_line = self.layout.data_line
        self.pending: deque[_Invalid] = deque()
        self.pending_number = False
        stream = self._open()
        self.stream = stream
        # A piece is in memory already: pyarrow may read it as fast as it likes.
        gate = stream.gate = _Gate(READ_AHEAD_BLOCKS if self.piece is None else sys.maxsize)
        quote: str | bool = self.layout.quote if self.layout.quote else False
        try:
            gate.waiting(True)
            reader = pacsv.open_csv(
                stream.file if isinstance(stream, _BufferStream) else stream,
                read_options=pacsv.ReadOptions(
                    use_threads=self.threaded,
                    block_size=self.block_size,
                    column_names=self.names,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.layout.delimiter,
                    quote_char=quote,
                    double_quote=True,
                    newlines_in_values=True,
                    ignore_empty_lines=False,  # blank lines count as records: exact line numbers
                    invalid_row_handler=self._invalid_row,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in self.names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            gate.waiting(False)
            while True:
                gate.waiting(True)
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                finally:
                    gate.waiting(False)
                yield from self._consume(batch)
        except pa.ArrowInvalid as exc:
            self._recover(exc)
        finally:
            gate.close()
            stream.close()
        while self.pending:
            yield from self._take_invalid()

    def _recover(self, exc: pa.ArrowInvalid) -> None:
        """Grow the block or switch to decoding, then raise _Restart; else FormatError."""
        self.resume = max(self.resume, self.record)
        if self.threaded and self.pending_number:
            self.threaded = False  # a bad row: read on serially, which numbers it
            raise _Restart from exc
        message = str(exc)
        where = self.next_line
        if "straddling" in message or "straddles" in message:
            if self.block_size < MAX_BLOCK:
                self.block_size = min(self.block_size * 4, MAX_BLOCK)
                raise _Restart from exc
            raise FormatError(
                f"{self.raw.name}: a record after line {where - 1} is larger than the "
                f"{MAX_BLOCK // 2**20} MB limit (a huge cell, or a quote that is never closed)"
            ) from exc
        if not self.transcode:  # e.g. invalid UTF-8: read again through a decoder
            self.transcode = True
            raise _Restart from exc
        raise FormatError(f"{self.raw.name}: unreadable CSV after line {where - 1}: {message}") from exc

    # --- rows -----------------------------------------------------------------------------
    def _invalid_row(self, row: Any) -> str:
        if self.stream.gate is not None:
            self.stream.gate.activity += 1
        if self.threaded:  # pyarrow numbers rows only when serial: stop this pass (see _recover)
            self.pending_number = True
            return "error"
        text = row.text or ""
        marker = text.find(_MARKER)
        if marker >= 0:
            text = text[:marker].rstrip("\r\n")
        nl = self.layout.newline.decode()
        self.pending.append(
            _Invalid(
                number=row.number if row.number is not None else self.record,
                expected=row.expected_columns,
                actual=row.actual_columns,
                text=truncate(text.replace(_UNDECODABLE, "\ufffd")) or "",
                height=1 + text.count(nl),
                truncated_file=marker >= 0,
                undecodable=_UNDECODABLE in text,
            )
        )
        return "skip"

    def _take_invalid(self) -> Iterator[ReadBatch]:
        bad = self.pending.popleft()
        line = self.next_line
        self.next_line += bad.height
        self.record = max(self.record, bad.number) + 1
        if bad.number >= self.resume:
            reason = f"expected {bad.expected} fields, found {bad.actual}"
            if bad.truncated_file:
                reason = f"{_UNCLOSED}; {reason}"
            if bad.undecodable:
                reason = f"{reason}; undecodable bytes for {self.encoding.label}"
            yield from self.batcher.reject(RejectedRow(line=line, reason=reason, raw=bad.text))

    def _consume(self, batch: pa.RecordBatch) -> Iterator[ReadBatch]:
        n = batch.num_rows
        flagged: dict[int, tuple[str, str]] = {}
        if n:
            last = [batch.column(j)[n - 1].as_py() for j in range(batch.num_columns)]
            if last[0] == _MARKER:
                batch, n = batch.slice(0, n - 1), n - 1  # the sentinel: end of the data
            elif any(_MARKER in (v or "") for v in last):
                text = self.layout.delimiter.join(v or "" for v in last)
                text = text[: text.find(_MARKER)].rstrip("\r\n")
                flagged[n - 1] = (_UNCLOSED, text)
        i = 0
        while True:
            while self.pending and self.pending[0].number <= self.record:
                yield from self._take_invalid()
            if i >= n:
                break
            run = n - i
            if self.pending:
                run = min(run, self.pending[0].number - self.record)
            yield from self._run(batch, i, run, flagged)
            i += run

    def _run(
        self, batch: pa.RecordBatch, start: int, count: int, flagged: dict[int, tuple[str, str]]
    ) -> Iterator[ReadBatch]:
        """Rows start..start+count of ``batch``: consecutive records, no rejected one among them."""
        rows = batch.slice(start, count)
        first_record, line = self.record, self.next_line
        self.record += count
        columns = list(rows.columns)
        if self.encoding.nfc and self.transcode:
            columns = [_nfc(c) for c in columns]
            rows = pa.RecordBatch.from_arrays(columns, schema=self.schema)

        heights: np.ndarray | None = None
        drop = np.zeros(count, dtype=bool)
        dropping = False
        reasons: dict[int, tuple[str, str]] = {}
        newline = self.layout.newline
        quoted = self.piece is None or self.piece.quoted
        for column in columns if quoted else ():  # a line break inside a value needs quotes
            if _contains(column, newline):
                extra = _int_values(pc.count_substring(column, newline.decode()))
                heights = (heights if heights is not None else np.ones(count, dtype=np.int64)) + extra
        if pc.min(pc.binary_length(columns[0])).as_py() == 0:
            lengths = sum(_int_values(pc.binary_length(column)).astype(np.int64) for column in columns)
            blank = np.asarray(lengths) == 0
            if blank.any():
                drop |= blank
                dropping = True
        if self.stream.undecodable:
            for j, column in enumerate(columns):
                if _contains(column, _UNDECODABLE_BYTES):
                    hits = _int_values(pc.indices_nonzero(pc.match_substring(column, _UNDECODABLE)))
                    for k in hits:
                        reasons.setdefault(
                            int(k),
                            (f"undecodable bytes for {self.encoding.label} in column {self.names[j]!r}", ""),
                        )
        for k, why in flagged.items():
            if start <= k < start + count:
                reasons[k - start] = why
        skip = self.resume - first_record
        if skip > 0:
            drop[: min(skip, count)] = True
            dropping = True
        if heights is None and not dropping and not reasons:  # the usual case: one piece
            self.next_line += count
            yield from self.batcher.add(rows, line)
            return

        heights = heights if heights is not None else np.ones(count, dtype=np.int64)
        lines = line + np.cumsum(heights) - heights
        self.next_line = line + int(heights.sum())
        for k in sorted(reasons):
            drop[k] = True
            if first_record + k >= self.resume:
                reason, text = reasons[k]
                text = text or _row_text(rows, k, self.layout.delimiter).replace(_UNDECODABLE, "\ufffd")
                yield from self.batcher.reject(
                    RejectedRow(line=int(lines[k]), reason=reason, raw=truncate(text))
                )
        kept = np.flatnonzero(~drop)
        if not kept.size:
            return
        # Pieces of adjacent rows (zero-copy slices), each with the line of every row.
        cuts = np.flatnonzero(np.diff(kept) != 1) + 1
        for piece in np.split(kept, cuts):
            piece_lines = lines[piece]
            gaps = piece_lines.size > 1 and bool((np.diff(piece_lines) != 1).any())
            yield from self.batcher.add(
                rows.slice(int(piece[0]), len(piece)), int(piece_lines[0]), piece_lines if gaps else None
            )
