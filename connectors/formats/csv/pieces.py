"""Parallel parsing: a UTF-8 file cut into pieces at record boundaries, parsed on threads."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from connectors.base import RawObject
from connectors.formats.base import FormatError, FormatOptions, ReadBatch
from connectors.formats.csv.boundaries import last_boundary
from connectors.formats.csv.buffers import _Batcher
from connectors.formats.csv.head import Layout as _Layout
from connectors.formats.csv.parsing import MAX_BLOCK, _FileReader
from connectors.formats.csv.streams import _Encoding

PARSE_THREADS = min(os.cpu_count() or 1, 8)  # one core: the serial reader


@dataclass(frozen=True)
class _Piece:
    data: pa.Buffer | None  # None: no safe cut from here on, read the rest serially
    offset: int  # where it starts in the UTF-8 stream (as _Layout.data_offset)
    last: bool
    quoted: bool = True  # False: no quote character in it, so no line break inside a value


def _cut_pieces(
    raw: RawObject, encoding: _Encoding, layout: _Layout, size: int
) -> Generator[_Piece, None, None]:
    """The data records in pieces of about ``size`` bytes, each ending at a record boundary.

    Ends with a piece whose ``data`` is None where no boundary can be trusted (a stray quote, or
    no boundary within ``MAX_BLOCK`` bytes): the rest is for the serial reader, which reports it.
    Each piece is read straight into its own buffer (the file's bytes are UTF-8 already).
    """
    quote = ord(layout.quote) if layout.quote else None
    newline, delimiter = layout.newline[-1], ord(layout.delimiter)
    with raw.open() as fh:
        fh.seek(encoding.bom + layout.data_offset)
        offset, carry, want = layout.data_offset, b"", size
        while True:
            buf = bytearray(len(carry) + want)
            buf[: len(carry)] = carry
            filled, view = len(carry), memoryview(buf)
            while filled < len(buf) and (got := fh.readinto(view[filled:])):
                filled += got
            data = pa.py_buffer(buf).slice(0, filled)
            if filled < len(buf):  # the end of the file
                if filled:
                    yield _Piece(data, offset, last=True)
                return
            cut, trusted, quoted = last_boundary(buf, newline, quote, delimiter)
            if cut:
                yield _Piece(data.slice(0, cut), offset, last=False, quoted=quoted)
                offset, carry, want = offset + cut, bytes(view[cut:filled]), size
            elif trusted and filled <= MAX_BLOCK:
                carry, want = bytes(buf), filled  # one long record: look twice as far
            else:
                yield _Piece(None, offset, last=True)
                return


class _PieceReader:
    """A UTF-8 file parsed in pieces on ``PARSE_THREADS`` threads, batches handed out in order.

    pyarrow's streaming reader parses on one thread; its parallel ``read_csv`` needs the whole
    file in memory. Here each piece (cut at a record boundary, ``boundaries.py``) is read by its
    own serial ``_FileReader``, so bad rows get their numbers without a second pass, and memory
    stays bounded by the pieces in flight. A piece's rows and rejects arrive with lines counted
    from 1; the line where the piece starts is known once the pieces before it are done, and is
    added then. A piece that fails, or a part that cannot be cut safely, sends the rest of the
    file to the serial reader, which reports it exactly as if the whole file had been read so.
    """

    def __init__(
        self,
        raw: RawObject,
        encoding: _Encoding,
        layout: _Layout,
        names: list[str],
        options: FormatOptions,
        block_size: int,
        piece_bytes: int,
    ) -> None:
        self.raw, self.encoding, self.layout = raw, encoding, layout
        self.piece_bytes = piece_bytes
        schema = pa.schema([pa.field(n, pa.string()) for n in names])
        self.batcher = _Batcher(schema, options.batch_rows, layout.tail)
        # One pyarrow block per piece: fewer, larger chunks for the cleaning that follows.
        self.reader = functools.partial(
            _FileReader, raw, names=names, options=options, block_size=max(block_size, piece_bytes)
        )

    def batches(self) -> Iterator[ReadBatch]:
        raw, encoding, layout = self.raw, self.encoding, self.layout
        self.line = layout.data_line
        inflight: deque[tuple[_Piece, Future[tuple[list[ReadBatch], int]]]] = deque()
        pool = ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="citydata-csv-piece")
        pieces = _cut_pieces(raw, encoding, layout, self.piece_bytes)
        serial_from: _Piece | None = None
        try:
            for piece in pieces:
                if piece.data is None:  # no safe cut from here: the pieces before it first
                    serial_from = (yield from self._drain(inflight, keep=0)) or piece
                    break
                inflight.append((piece, pool.submit(self._parse, piece)))
                serial_from = yield from self._drain(inflight, keep=PARSE_THREADS)
                if serial_from is not None:
                    break
            else:
                serial_from = yield from self._drain(inflight, keep=0)
        finally:
            for _, future in inflight:
                future.cancel()
            pool.shutdown(wait=True)
            pieces.close()
        if serial_from is None:
            yield from self.batcher.finish(self.line)
            return
        rest = dataclasses.replace(layout, data_offset=serial_from.offset, data_line=self.line)
        yield from self.reader(encoding=encoding, layout=rest, batcher=self.batcher).batches()

    def _drain(
        self, inflight: deque[tuple[_Piece, Future[tuple[list[ReadBatch], int]]]], keep: int
    ) -> Generator[ReadBatch, None, _Piece | None]:
        """Hand out the oldest pieces until ``keep`` are left; a piece that failed is returned."""
        while len(inflight) > keep:
            piece, future = inflight.popleft()
            try:
                read, lines = future.result()
            except FormatError:
                return piece
            yield from self._replay(read, self.line - 1)
            self.line += lines
        return None

    def _parse(self, piece: _Piece) -> tuple[list[ReadBatch], int]:
        """(the piece's batches with lines from 1, the lines it spans)."""
        own = dataclasses.replace(self.layout, data_offset=0, data_line=1)
        reader = self.reader(encoding=dataclasses.replace(self.encoding, bom=0), layout=own, piece=piece)
        read = list(reader.batches())
        return read, reader.next_line - 1

    def _replay(self, read: list[ReadBatch], shift: int) -> Iterator[ReadBatch]:
        """A piece's rows and rejected rows into the batches, in file order, lines made absolute."""
        for batch in read:
            lines = batch.line_numbers() + shift
            rejects = [dataclasses.replace(r, line=r.line + shift) for r in batch.rejected]
            before = np.searchsorted(lines, [r.line for r in rejects])  # the row each one precedes
            k, row = 0, 0
            for rows in batch.table.to_batches():
                end = row + rows.num_rows
                while row < end or (k < len(rejects) and before[k] <= row):
                    stop = min(end, int(before[k])) if k < len(rejects) else end
                    if stop > row:
                        part = lines[row:stop]
                        gaps = bool((np.diff(part) != 1).any())
                        start = row - (end - rows.num_rows)
                        yield from self.batcher.add(
                            rows.slice(start, stop - row), int(part[0]), part if gaps else None
                        )
                        row = stop
                    if k < len(rejects) and before[k] <= row:
                        yield from self.batcher.reject(rejects[k])
                        k += 1
                    elif row >= end:
                        break
            for reject in rejects[k:]:
                yield from self.batcher.reject(reject)
