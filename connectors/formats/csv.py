"""CSV / TSV files to all-string Arrow batches, streamed with ``pyarrow.csv`` (bounded memory).

Pipeline: a sample of the first bytes gives the encoding, the dialect and the header (parsed here,
in Python); the rest of the file is parsed by pyarrow's streaming reader (``open_csv``), every column
read as a string (typing happens later, in cleaning).

* **Encoding**: a BOM (UTF-8/16/32) wins; else ``options.encoding``; else
  :func:`citydata.kernels.encoding.detect_encoding` on the first 64 KiB (UTF-8, UTF-16 without BOM,
  Windows-1258, Windows-1252, TCVN3, VNI, other code pages). pyarrow parses UTF-8 only, so any other
  encoding is transcoded chunk by chunk (1 MiB at a time, never the whole file) in a file-like
  object that pyarrow reads from. ``pyarrow.csv.ReadOptions(encoding=...)`` does the same through
  Python codecs, but would not let us count undecodable bytes or recompose tone marks quickly.
  Windows-1258 and TCVN3 write tone marks as combining characters: values holding U+0300..U+036F
  are recomposed to NFC with Arrow's ``utf8_normalize`` (on the distinct values when a column
  repeats them). UTF-8 input is passed to pyarrow untouched (the hot path); NFC of decomposed
  UTF-8 text is left to cleaning. ``info.encoding`` gets a name Python can decode the file with:
  ``utf-8``, ``utf-8-sig`` (BOM), ``utf-16`` (BOM), ``utf-16-le``, ``windows-1258``,
  ``windows-1252``, ``tcvn3``, ``vni``...
* **Undecodable bytes**: a UTF-8 file with an invalid byte is re-read (from where the error was
  met) through a decoder; bytes that the encoding cannot decode turn their row into a
  ``RejectedRow`` ("undecodable bytes ...").
* **Dialect**: ``options.delimiter`` / ``options.quotechar`` (``""`` turns quoting off); a
  ``.tsv`` file or ``options.name == "tsv"`` means tab; otherwise the delimiter among
  ``, ; TAB |`` giving the most consistent field count (> 1) over the first 50 records, and ``"``
  as quote (``'`` when the sample quotes fields that way and has no ``"``). Quotes are escaped by
  doubling them (``""``); backslash escapes are not supported.
* **Header** (``csv_head.py``): ``options.skip_rows`` records (title lines) are skipped, then blank
  lines, then ``options.header_rows`` records form the header. Either option, when absent, is
  detected from the first 100 records (``layout.py``: title records above the header, a header of
  one to three records where merged cells left blanks), and a record of column numbers under a
  detected header ("1;2;3", "(1);(2)") is skipped. With several header lines, a blank cell in an
  upper line (a cell merged across columns in Excel) takes the label on its left, within the span
  of the line above, when a lower line labels that column; the lines of a column are joined with
  " - " (a repeat is not repeated), as the XLSX reader does. Labels are NFC with whitespace collapsed
  (``info.header_labels``); column names are the labels made unique ("Tên", "Tên_2"), an
  unlabelled column is ``column_<n>``. ``header_rows=0``: ``column_1``..``column_N``, N being the
  most common field count of the first 100 records. A file with a header and no data gives one
  zero-row batch. Empty file, binary content, no header: ``FormatError`` naming the file.
* **Bad rows**: a row with too many or too few fields becomes
  ``RejectedRow(line, "expected N fields, found M", raw)``, never padded or cut; a last record cut
  inside a quoted field (truncated file) is rejected with a reason saying so (detected with a
  sentinel record appended after the end of the data). Blank lines (and rows whose every field is
  empty) are skipped.
* **Footer** (``csv_tail.py``): the batcher holds the last 30 rows back (and the rows rejected
  after them); at the end of the file a footer found there (a totals row, "Ghi chú:", the place and
  date, signature blocks, ragged ones included, with nothing but such rows after it), or the given
  ``footer_rows`` last rows, is cut off: neither data nor rejected. Titles, the column-number row
  and the footer go to ``info.skipped`` with their physical lines; ``info.layout[""]`` records what
  was used and what was detected.
* **Line numbers** are physical lines of the file (1-based, as an editor shows them), also with
  quoted values spanning several lines: a record's height is 1 + the line breaks inside its
  values. When a batch's rows are not on consecutive lines (a rejected row, a skipped blank line
  or a multi-line record in between), ``ReadBatch.lines`` holds the line of every row; otherwise
  row ``i`` is on line ``first_line + i``. Either way ``ReadBatch.line_numbers()`` is exact, and
  batches stay full however broken the file. CR-only line endings (classic Mac) are counted as
  line breaks too.
* **Huge records**: pyarrow needs a record to fit in about one block. The block grows (x4, up to
  64 MiB) and the file is re-read from the start, skipping what was already yielded; a record still
  too large (a 100 MB+ cell, or a quote never closed) raises ``FormatError`` naming the line after
  which it starts.
* **Batches**: ``options.batch_rows`` rows per batch (fewer at the end); a batch's
  table may hold several chunks (one per pyarrow block, zero-copy). Rejected rows ride on the batch
  being built when they are met. With ``prefetch`` (default) the single-pass reader reads the next
  batch on a thread while the caller works on the current one (pieces are parsed ahead anyway).
* **Speed**: pyarrow's streaming reader parses on one thread. A UTF-8 file of two pieces or more
  (``PIECE_BYTES``, 8 MiB) is therefore cut into pieces at record boundaries
  (``csv_boundaries``) and the pieces are parsed, one block each, on ``PARSE_THREADS`` threads,
  serially within a piece so bad rows get their numbers at once. Rows, rejects and lines come out
  exactly as one pass gives them (a unit test compares the two on files cut everywhere). Where no
  cut can be trusted (a quote in the middle of a field, a record over ``MAX_BLOCK``) the rest of
  the file goes to the single-pass reader. In that reader the first pass parses blocks on
  pyarrow's threads; only serial parsing reports the number of a bad row, so at the first row
  with a wrong field count the pass stops and the file is read again serially, skipping the rows
  already handed out (like a block growth above).
* **Memory**: pieces in flight (``PARSE_THREADS`` + 1), or pyarrow blocks of 1-4 MiB with
  pyarrow's read-ahead (32 blocks, not configurable) held back to 4 blocks by the stream it reads
  from; measured peak RSS for a 2 GB file read and cleaned (``benchmarks.ingest_throughput
  --big-gb 2``): about 600 MB.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import io
import os
import queue
import re
import sys
import threading
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from citydata.kernels.buffers import string_span
from citydata.kernels.encoding import IncrementalDecoder as NfcDecoder
from citydata.kernels.encoding import detect_encoding
from citydata.kernels.libc import buffer_contains, keep_freed_memory
from connectors.base import RawObject
from connectors.formats._common import truncate, unique_names
from connectors.formats.base import (
    FormatError,
    FormatOptions,
    FormatReader,
    ReadBatch,
    ReadInfo,
    RejectedRow,
)
from connectors.formats.csv_boundaries import last_boundary
from connectors.formats.csv_head import MARKER as _MARKER
from connectors.formats.csv_head import Layout as _Layout
from connectors.formats.csv_head import NeedMore, head_layout
from connectors.formats.csv_tail import Piece, Tail

__all__ = ["CsvReader"]

SAMPLE_BYTES = 64 * 1024  # encoding detection and dialect sniffing
HEADER_SCAN_LIMIT = 16 * 2**20  # the header (and the 100 records examined for it) within this many bytes
DECODE_CHUNK = 2**20  # raw bytes decoded at a time when transcoding
ASCII_SCAN_LIMIT = 64 * 2**20  # an all-ASCII sample: look this far for the first non-ASCII line
MIN_BLOCK = 2**20  # pyarrow block size bounds (automatic choice)
MAX_AUTO_BLOCK = 4 * 2**20
MAX_PIECES = 32  # a batch of more row pieces than this is copied into one chunk per column
READ_AHEAD_BLOCKS = 4  # blocks pyarrow may read ahead of the consumer
MAX_BLOCK = 64 * 2**20  # blocks grow up to this for huge records, then FormatError
PIECE_BYTES = 8 * 2**20  # a UTF-8 file of two pieces or more is parsed in pieces on threads
PARSE_THREADS = min(os.cpu_count() or 1, 8)  # one core: the serial reader

_UNCLOSED = "a quoted field is still open at the end of the file (truncated file?)"
_UNDECODABLE = "\uffff"  # noncharacter standing for bytes the encoding cannot decode
_UNDECODABLE_BYTES = _UNDECODABLE.encode()
_COMBINING_LEADS = (b"\xcc", b"\xcd")  # UTF-8 lead bytes of U+0300..U+036F (combining marks)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (XLSX, ODS or DOCX?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 file (legacy XLS or DOC?)"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_LABELS = {"cp1258": "windows-1258", "cp1258-nfc": "windows-1258", "cp1252": "windows-1252"}


# --------------------------------------------------------------------------------------------------
# Decoding to a UTF-8 byte stream
# --------------------------------------------------------------------------------------------------

_current = threading.local()


def _count_undecodable(exc: UnicodeError) -> tuple[str, int]:
    stream = getattr(_current, "stream", None)
    if stream is not None:
        stream.undecodable += 1
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _UNDECODABLE, exc.end


codecs.register_error("citydata.csv-undecodable", _count_undecodable)


class _CharmapDecoder(codecs.IncrementalDecoder):
    """A stateless single-byte decoder from a 256-character table (fast, C speed)."""

    def __init__(self, table: str, errors: str = "strict") -> None:
        super().__init__(errors)
        self.table = table

    def decode(self, input: Any, final: bool = False) -> str:
        return codecs.charmap_decode(input, self.errors, self.table)[0]


@functools.cache
def _tcvn3_table() -> str:
    return "".join(codecs.decode(bytes([b]), "tcvn3") for b in range(256))


@dataclass(frozen=True)
class _Encoding:
    codec: str  # Python codec name; "utf-8" means the bytes go to pyarrow as they are
    bom: int  # bytes of BOM to skip
    label: str  # for info.encoding
    nfc: bool  # recompose combining marks in the values (decoders that leave them decomposed)

    def decoder(self) -> codecs.IncrementalDecoder:
        errors = "citydata.csv-undecodable"
        if self.codec in ("cp1258", "cp1258-nfc"):
            return codecs.getincrementaldecoder("cp1258")(errors)
        if self.codec == "tcvn3":
            table = _tcvn3_table()
            if len(table) == 256:
                return _CharmapDecoder(table, errors)
        if self.codec in ("tcvn3", "vni"):
            return NfcDecoder(self.codec, errors)
        return codecs.getincrementaldecoder(self.codec)(errors)


class _Gate:
    """Back-pressure for pyarrow's read-ahead, which is not configurable from Python.

    pyarrow's streaming CSV reader reads up to 32 blocks ahead on an I/O thread (about 40 x the
    block size of memory). Reads of our stream pass this gate: the I/O thread may be at most
    ``ahead`` blocks ahead of the batches handed out. When the consumer is waiting inside pyarrow
    and nothing has moved for ``stall`` seconds (pyarrow needs more blocks than expected for its
    next batch, e.g. blocks of rejected rows only), one more read is let through: never a deadlock.
    Past ``3 x ahead`` blocks such a read waits ``10 x stall``: on a busy machine a slow parse
    looks like a stall, and memory must stay bounded.
    """

    def __init__(self, ahead: int, stall: float = 0.2) -> None:
        self._cond = threading.Condition()
        self._ahead = ahead
        self._stall = stall
        self._far = 3 * ahead
        self._reads = 0
        self._consumed = 0
        self._waiting = False
        self._closed = False
        self.activity = 0  # bumped by the invalid-row handler: pyarrow is parsing, not stalled

    def before_read(self) -> None:
        with self._cond:
            waited, seen = 0.0, self.activity
            while not self._closed and self._reads >= self._consumed + self._ahead:
                if not self._waiting:
                    self._cond.wait()
                    waited, seen = 0.0, self.activity
                    continue
                self._cond.wait(0.01)
                waited += 0.01
                stall = self._stall if self._reads < self._consumed + self._far else 10 * self._stall
                if self._waiting and (self.activity != seen or waited >= stall):
                    break  # pyarrow is busy (rejecting rows) or stalled: let one read through
            self._reads += 1

    def waiting(self, waiting: bool) -> None:
        with self._cond:
            self._waiting = waiting
            if not waiting:
                self._consumed += 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _Utf8Stream(io.RawIOBase):
    """The file as UTF-8 bytes from ``start`` on (after BOM), then the sentinel record.

    ``read`` is called by pyarrow (from its I/O thread); at most one decoded chunk is buffered.
    """

    gate: _Gate | None = None

    def __init__(self, raw: RawObject | _PieceSource, encoding: _Encoding, transcode: bool) -> None:
        super().__init__()
        self._fh = raw.open()
        if encoding.bom:
            self._fh.seek(encoding.bom)
        self._decoder = encoding.decoder() if transcode else None
        self._buf = bytearray()
        self._eof = False
        self._suffix: bytes | None = None
        self._last = b"\n"
        self.undecodable = 0

    def readable(self) -> bool:
        return True

    def end_with(self, record: str) -> None:
        self._suffix = record.encode()

    def skip(self, count: int) -> None:
        if self._decoder is None and not self._buf and count > 0 and self._fh.seekable():
            self._fh.seek(count, io.SEEK_CUR)  # the bytes as they are: no need to read them
            return
        while count > 0:
            got = len(self.read(min(count, DECODE_CHUNK)))
            if not got:
                return
            count -= got

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 62
        if self.gate is not None:
            self.gate.before_read()
        if not self._buf and self._decoder is None and not self._eof:
            data = self._fh.read(size)
            if data:
                self._last = data[-1:]
                return bytes(data)
            self._finish()
        while len(self._buf) < size and not self._eof:
            self._fill()
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _fill(self) -> None:
        chunk = self._fh.read(DECODE_CHUNK)
        if self._decoder is None:
            if chunk:
                self._buf += chunk
                self._last = chunk[-1:]
            else:
                self._finish()
            return
        _current.stream = self
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        finally:
            _current.stream = None
        if text:
            data = text.encode("utf-8", "surrogatepass")
            self._buf += data
            self._last = data[-1:]
        if not chunk:
            self._finish()

    def _finish(self) -> None:
        self._eof = True
        if self._suffix is not None:
            if self._last not in (b"\n", b"\r"):
                self._buf += b"\n"
            self._buf += self._suffix

    def close(self) -> None:
        self._fh.close()
        super().close()


# --------------------------------------------------------------------------------------------------
# Sample: encoding, binary check, dialect, header
# --------------------------------------------------------------------------------------------------


def _first_non_ascii(raw: RawObject, limit: int) -> bytes | None:
    """A sample starting at the line holding the first non-ASCII byte within ``limit`` bytes."""
    with raw.open() as fh:
        offset, tail = 0, b""
        while offset < limit:
            chunk = fh.read(DECODE_CHUNK)
            if not chunk:
                return None
            if not chunk.isascii():
                data = tail + chunk
                at = _NON_ASCII.search(data).start()  # type: ignore[union-attr]
                line = data.rfind(b"\n", 0, at) + 1
                window = data[line:]
                if len(window) < SAMPLE_BYTES + 4:
                    window += fh.read(SAMPLE_BYTES + 4 - len(window))
                return window[: SAMPLE_BYTES + 4]
            tail = chunk[chunk.rfind(b"\n") + 1 :][-SAMPLE_BYTES:]
            offset += len(chunk)
    return None


def _choose_encoding(head: bytes, declared: str | None, raw: RawObject) -> _Encoding:
    name = raw.name
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return _Encoding(codec, len(bom), label, codec != "utf-8")
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise FormatError(f"{name}: unknown encoding {declared!r} (format.encoding)") from None
        if codec in ("utf-8-sig", "utf_8_sig"):
            codec = "utf-8"
    else:
        codec = detect_encoding(head)[0]
        if codec == "utf-8" and head.isascii() and len(head) > SAMPLE_BYTES:
            # an ASCII start (codes, numbers) says nothing: judge on the first non-ASCII line
            later = _first_non_ascii(raw, ASCII_SCAN_LIMIT)
            if later is not None:
                codec = detect_encoding(later)[0]
    return _Encoding(codec, 0, _LABELS.get(codec, codec), codec != "utf-8")


def _check_binary(head: bytes, encoding: _Encoding, name: str) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise FormatError(f"{name}: not a CSV text file: the content is {what}")
    if not encoding.codec.startswith(("utf-16", "utf-32")):
        nuls = head.count(0)
        if nuls > max(2, len(head) // 1000):
            raise FormatError(
                f"{name}: not a CSV text file: binary content ({nuls} NUL bytes in the first "
                f"{len(head):,} bytes)"
            )


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


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Parallel parsing: pieces cut at record boundaries
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    data: pa.Buffer | None  # None: no safe cut from here on, read the rest serially
    offset: int  # where it starts in the UTF-8 stream (as _Layout.data_offset)
    last: bool
    quoted: bool = True  # False: no quote character in it, so no line break inside a value


class _PieceSource:
    """A piece's bytes, read like the file they come from (same name in messages)."""

    def __init__(self, name: str, data: pa.Buffer) -> None:
        self.name = name
        self.data = data

    def open(self) -> io.BytesIO:
        return io.BytesIO(memoryview(self.data))


class _BufferStream:
    """A piece as pyarrow reads it without Python: in place, without the GIL."""

    def __init__(self, data: pa.Buffer) -> None:
        self.file = pa.BufferReader(data)
        self.gate: _Gate | None = None
        self.undecodable = 0

    def close(self) -> None:
        self.file.close()


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
    file in memory. Here each piece (cut at a record boundary, ``csv_boundaries``) is read by its
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


def _prefetched(batches: Iterator[ReadBatch]) -> Iterator[ReadBatch]:
    """``batches`` produced one batch ahead on a thread: reading overlaps the consumer's work.

    pyarrow parses without the GIL, so on a multi-core machine the next batch is read while the
    caller cleans the current one. Errors are re-raised in the caller; closing this generator
    stops the thread (after the batch it is reading) and closes ``batches``.
    """
    slot: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for batch in batches:
                if not put(("batch", batch)):
                    return
            put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(("error", exc))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=run, name="citydata-csv-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = slot.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


class CsvReader(FormatReader):
    """CSV / TSV / delimited text (see the module docstring for every behaviour)."""

    name: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".txt")
    media_types: ClassVar[tuple[str, ...]] = ("text/csv", "text/tab-separated-values", "application/csv")

    def __init__(
        self, block_size: int | None = None, prefetch: bool = True, piece_bytes: int | None = None
    ) -> None:
        """``block_size``: pyarrow's block in bytes (None: from ``batch_rows``, 1-4 MiB);
        ``prefetch``: read the next batch on a thread while the caller works on the current one;
        ``piece_bytes``: UTF-8 files of two pieces or more are parsed in pieces of this size on
        several threads (None: ``PIECE_BYTES``; 0: never)."""
        self.block_size = block_size
        self.prefetch = prefetch
        self.piece_bytes = piece_bytes

    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        with raw.open() as fh:
            head = fh.read(SAMPLE_BYTES + 4)
        if not head:
            raise FormatError(f"{raw.name}: empty file")
        encoding = _choose_encoding(head, options.encoding, raw)
        _check_binary(head, encoding, raw.name)
        tab = options.name == "tsv" or raw.name.lower().endswith(".tsv")

        stream = _Utf8Stream(raw, encoding, encoding.codec != "utf-8")
        try:
            sample, eof, size = b"", False, SAMPLE_BYTES
            while True:
                while len(sample) < size and not eof:
                    chunk = stream.read(size - len(sample))
                    sample += chunk
                    eof = not chunk
                if size == SAMPLE_BYTES:  # the first read: is this text at all?
                    _check_text(sample, encoding, raw.name)
                try:
                    layout = head_layout(sample, eof, size >= HEADER_SCAN_LIMIT, options, tab, raw.name)
                    break
                except NeedMore:
                    if size >= HEADER_SCAN_LIMIT:
                        raise FormatError(
                            f"{raw.name}: no complete header in the first {HEADER_SCAN_LIMIT // 2**20} MB "
                            "(skip_rows too large, or an unclosed quote in the header?)"
                        ) from None
                    size *= 4
        finally:
            stream.close()

        names = unique_names(layout.labels, lambda i: f"column_{i + 1}")
        info.encoding = encoding.label
        info.delimiter = layout.delimiter
        info.header_labels = list(layout.labels) if layout.header_rows else list(names)
        info.skipped.extend(layout.skipped)
        info.layout[""] = layout.report
        if options.footer_rows != 0:
            layout.tail = Tail(options.footer_rows, len(names), layout.delimiter, info.skipped, layout.report)
        block = self.block_size or int(
            min(MAX_AUTO_BLOCK, max(MIN_BLOCK, layout.bytes_per_line * options.batch_rows * 1.1))
        )
        size = raw.size or (len(raw.data) if raw.data is not None else 0)
        if not size and raw.path is not None:
            size = raw.path.stat().st_size
        pieces = self.piece_bytes if self.piece_bytes is not None else PIECE_BYTES
        keep_freed_memory()  # pieces and batches are large, short-lived buffers
        if encoding.codec == "utf-8" and pieces and size >= 2 * pieces and PARSE_THREADS > 1:
            # Parsed ahead on the piece threads already: no prefetch thread, one batch less held.
            yield from _PieceReader(raw, encoding, layout, names, options, block, pieces).batches()
            return
        batches = _FileReader(raw, encoding, layout, names, options, block).batches()
        yield from _prefetched(batches) if self.prefetch else batches


def _check_text(sample: bytes, encoding: _Encoding, name: str) -> None:
    text = sample.decode("utf-8", "replace")
    if not text.strip().strip("\ufeff"):
        raise FormatError(f"{name}: empty file (only blank lines)")
    controls = len(_CONTROL.findall(text)) + text.count(_UNDECODABLE)
    if controls > max(8, len(text) // 100):
        raise FormatError(
            f"{name}: not a CSV text file: {controls} control characters in the first "
            f"{len(sample):,} bytes (binary content, or not {encoding.label} text)"
        )
