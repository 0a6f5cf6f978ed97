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
* **Header** (``head.py``): ``options.skip_rows`` records (title lines) are skipped, then blank
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
* **Footer** (``tail.py``): the batcher holds the last 30 rows back (and the rows rejected
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
  (``boundaries.py``) and the pieces are parsed, one block each, on ``PARSE_THREADS`` threads,
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

Modules, in the order of a read:

* ``reader.py``: ``CsvReader``: the sample, the head, then the serial or the piece reader.
* ``sniff.py``: the encoding of the sample, and whether the file is text at all.
* ``streams.py``: what pyarrow reads: the file as UTF-8 bytes (transcoded chunk by chunk), or a
  piece in memory; the back-pressure gate on pyarrow's read-ahead.
* ``head.py``: dialect, titles, header and column numbers; ``tail.py``: the footer.
* ``parsing.py``: one read of the data by pyarrow: bad rows, line numbers, restarts.
* ``buffers.py``: Arrow value helpers and the batcher that assembles ``ReadBatch``es.
* ``pieces.py``: the file cut at record boundaries (``boundaries.py``), pieces parsed on threads.
"""

from __future__ import annotations

from connectors.formats.csv.reader import CsvReader

__all__ = ["CsvReader"]
