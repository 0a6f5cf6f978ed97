"""The CSV / TSV reader: the sample, the head, then the data by the serial or the piece reader.

Every behaviour is described in the package docstring (``connectors/formats/csv/__init__.py``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

from citydata.kernels.libc import keep_freed_memory
from connectors.base import RawObject
from connectors.formats._common import unique_names
from connectors.formats.base import FormatError, FormatOptions, FormatReader, ReadBatch, ReadInfo
from connectors.formats.csv.head import NeedMore, head_layout
from connectors.formats.csv.parsing import _FileReader
from connectors.formats.csv.pieces import PARSE_THREADS, _PieceReader
from connectors.formats.csv.sniff import SAMPLE_BYTES, _check_binary, _check_text, _choose_encoding
from connectors.formats.csv.streams import _Utf8Stream
from connectors.formats.csv.tail import Tail

__all__ = ["CsvReader"]

HEADER_SCAN_LIMIT = 16 * 2**20  # the header (and the 100 records examined for it) within this many bytes
MIN_BLOCK = 2**20  # pyarrow block size bounds (automatic choice)
MAX_AUTO_BLOCK = 4 * 2**20
PIECE_BYTES = 8 * 2**20  # a UTF-8 file of two pieces or more is parsed in pieces on threads


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
    """CSV / TSV / delimited text (see the package docstring for every behaviour)."""

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
