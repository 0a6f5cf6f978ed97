"""The head of a CSV file: dialect, titles, header and column numbers (internal to the CSV reader).

Read with the stdlib csv module from a sample of the file's UTF-8 stream; the data after it is
parsed by pyarrow (``parsing.py``). The first ``layout.HEAD_ROWS`` records give, when the options do
not, how many title records to skip and how many header records there are, and whether a row of
column numbers follows the header (``layout.detect_head``). A given ``skip_rows`` / ``header_rows``
is used as is. Title and column-number records become ``SkippedRow``s with their physical lines.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.formats import layout as table_layout
from connectors.formats._common import clean_label, join_header_lines, truncate
from connectors.formats.base import FormatError, FormatOptions, SkippedRow
from connectors.formats.csv.tail import Tail

DELIMITERS = (",", ";", "\t", "|")
SNIFF_RECORDS = 50
MARKER = "\x1a\x1b\x1ccitydata\x1c\x1b\x1a"  # sentinel record appended after the data
LINE = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+\Z")

Record = tuple[list[str], int, int]  # (fields, index of its first line, index of the line after it)


@dataclass
class Layout:
    delimiter: str
    quote: str | None
    labels: list[str]
    data_offset: int  # bytes of the UTF-8 stream before the first data record
    data_line: int  # physical line of the first data record
    newline: bytes  # what ends a physical line inside values (b"\n", or b"\r" for CR-only files)
    bytes_per_line: float
    header_rows: int = 1
    skipped: list[SkippedRow] = field(default_factory=list)  # titles, column numbers
    report: dict[str, Any] = field(default_factory=dict)  # for info.layout
    tail: Tail | None = None  # footer detection at the end of the read


class NeedMore(Exception):
    """The sample ends before the header does: read more."""


def records(lines: Sequence[str], delimiter: str, quote: str | None) -> Iterator[Record]:
    """(fields, index of its first line, index of the line after it) for the records of ``lines``."""
    pos = 0

    def feed() -> Iterator[str]:
        nonlocal pos
        while pos < len(lines):
            pos += 1
            yield lines[pos - 1]

    reader = csv.reader(
        feed(),
        delimiter=delimiter,
        quotechar=quote or '"',
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        doublequote=True,
        strict=False,
    )
    start = 0
    for fields in reader:
        yield fields, start, pos
        start = pos


def blank(fields: Sequence[str]) -> bool:
    return not any(f.strip() for f in fields)


def sniff_quote(text: str) -> str:
    if '"' in text:
        return '"'
    single = re.findall(r"(?:^|[,;\t|])'[^'\r\n]*'(?=[,;\t|]|\r?\n|\r|$)", text, re.MULTILINE)
    return "'" if len(single) >= 2 else '"'


def sniff_delimiter(lines: Sequence[str], quote: str | None) -> str:
    """The delimiter whose most common field count (> 1) holds the most of the first records.

    The titles and notes of a report are one field whatever the delimiter: the table's count is the
    most common of the others. Ties go to more fields, then to ';' (Excel's list separator where ','
    is the decimal point, as in Vietnamese: a ',' inside "1,5" or "1,000" splits just as often).
    """
    best, best_score = ",", (0.0, 0, 0, 0)
    for delimiter in DELIMITERS:
        counts: list[int] = []
        try:
            for fields, _, _ in records(lines, delimiter, quote):
                if not blank(fields):
                    counts.append(len(fields))
                    if len(counts) >= SNIFF_RECORDS:
                        break
        except csv.Error:  # e.g. a field over the csv module's size limit: judge on what was read
            pass
        split = [c for c in counts if c > 1]
        if not split:
            continue
        width, seen = Counter(split).most_common(1)[0]
        score = (seen / len(counts), seen, width, int(delimiter == ";"))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def header_labels(rows: list[list[str]]) -> list[str]:
    """One label per column from one or more header lines (blank merged cells inherit from the left)."""
    width = max(len(row) for row in rows)
    parts = [[clean_label(v) for v in row] + [""] * (width - len(row)) for row in rows]
    for r in range(len(parts) - 1):
        row = parts[r]
        for c in range(1, width):
            if row[c] or not row[c - 1]:
                continue
            same_parent = r == 0 or parts[r - 1][c] == parts[r - 1][c - 1]
            labelled_below = any(parts[k][c] for k in range(r + 1, len(parts)))
            if same_parent and labelled_below:
                row[c] = row[c - 1]
    labels = join_header_lines(parts, width)
    return labels


def _dialect(lines: list[str], options: FormatOptions, tab: bool, name: str) -> tuple[str, str | None]:
    """(delimiter, quote): given, or sniffed from the sample."""
    text = "".join(lines[:2000])
    quote = (options.quotechar or None) if options.quotechar is not None else sniff_quote(text)
    if options.delimiter is not None:
        delimiter = options.delimiter
    elif tab:
        delimiter = "\t"
    else:
        skip = options.skip_rows or 0
        delimiter = sniff_delimiter(lines[skip : skip + 200], quote)
    if len(delimiter) != 1 or delimiter in "\r\n" + MARKER or delimiter.isalnum() or delimiter == quote:
        raise FormatError(
            f"{name}: invalid delimiter {delimiter!r} (one character, not a letter, digit, quote or newline)"
        )
    if quote is not None and (len(quote) != 1 or quote in "\r\n" + MARKER):
        raise FormatError(f"{name}: invalid quote character {quote!r}")
    return delimiter, quote


def _head_records(
    lines: list[str], delimiter: str, quote: str | None, eof: bool, limit: int
) -> tuple[list[Record], bool, csv.Error | None]:
    """(the first complete records, up to ``limit``; whether they are all the head needs; csv error)."""
    out: list[Record] = []
    try:
        for record in records(lines, delimiter, quote):
            if record[2] >= len(lines) and not eof:
                return out, False, None  # the record may go on past the sample
            out.append(record)
            if len(out) >= limit:
                return out, True, None
    except csv.Error as exc:
        return out, True, exc
    return out, True, None


def head_layout(head: bytes, eof: bool, final: bool, options: FormatOptions, tab: bool, name: str) -> Layout:
    """Dialect, titles and header from the first bytes of the UTF-8 stream.

    NeedMore if the sample does not suffice (``final``: it cannot grow; detect on what it holds).
    """
    raw_lines = LINE.findall(head)
    if not eof and raw_lines:
        raw_lines.pop()  # may be incomplete
    lines = [line.decode("utf-8", "replace") for line in raw_lines]
    text = "".join(lines[:2000])
    newline = b"\r" if "\r" in text and "\n" not in text else b"\n"
    delimiter, quote = _dialect(lines, options, tab, name)

    skip = options.skip_rows
    detecting = skip is None or options.header_rows is None
    limit = (skip or 0) + table_layout.HEAD_ROWS
    head_records, complete, error = _head_records(lines, delimiter, quote, eof, limit)
    if detecting and not (complete or final):
        raise NeedMore

    def missing(what: str) -> FormatError | NeedMore:
        if error is not None:
            return FormatError(f"{name}: unreadable header: {error}")
        return FormatError(f"{name}: {what}") if complete else NeedMore()

    if skip is not None and len(head_records) < skip:
        raise missing(f"no header: the file has only {len(head_records)} line(s), skip_rows is {skip}")
    rows = [table_layout.Row(k, r[0]) for k, r in enumerate(head_records) if k >= (skip or 0)]
    plan = table_layout.detect_head(rows, skip_given=skip is not None, header_rows=options.header_rows)
    if plan is None:
        raise missing("no header: nothing but blank lines after the skipped lines")
    if plan.data_start > len(head_records):
        had = len(head_records) - plan.top
        raise missing(f"no header: expected {options.header_rows} header lines, the file has {had}")

    layout = Layout(delimiter, quote, [], 0, 1, newline, 8.0, header_rows=plan.bottom - plan.top + 1)
    numbers = plan.column_numbers
    given = [k for k in range(skip or 0) if not blank(head_records[k][0])]
    skipped = [(k, "title") for k in (*given, *plan.titles)]
    skipped += [] if numbers is None else [(numbers, "column_numbers")]
    for k, kind in skipped:
        _, start, end = head_records[k]
        text = "".join(lines[start:end]).rstrip("\r\n")
        layout.skipped.append(SkippedRow(start + 1, kind, truncate(text) or ""))
    if layout.header_rows:
        layout.labels = header_labels([head_records[k][0] for k in range(plan.top, plan.bottom + 1)])
    else:
        widths = [len(r[0]) for r in head_records[plan.top : plan.top + 100] if not blank(r[0])]
        counts = Counter(widths).most_common()
        layout.labels = [""] * max(counts, key=lambda kv: (kv[1], kv[0]))[0]
    data_start = head_records[plan.data_start - 1][2] if plan.data_start else 0
    layout.data_offset = sum(len(line) for line in raw_lines[:data_start])
    layout.data_line = data_start + 1
    rest = raw_lines[data_start:]
    layout.bytes_per_line = max(sum(len(line) for line in rest) / len(rest) if rest else 200.0, 8.0)
    layout.report = {
        "skip_rows": skip if skip is not None else plan.top,
        "header_rows": layout.header_rows,
        "header_lines": [head_records[k][1] + 1 for k in range(plan.top, plan.bottom + 1)],
        "column_numbers_line": None if numbers is None else head_records[numbers][1] + 1,
        "footer_rows": 0,
        "detected": [f for f in ("skip_rows", "header_rows", "footer_rows") if getattr(options, f) is None],
    }
    return layout
