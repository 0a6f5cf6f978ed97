"""Sheet layout shared by the XLSX and XLS readers: titles, header, data rows, footer, batches.

Per sheet, from rows ``(Excel row number, cell texts, kinds)``:

* **Titles and header**: ``options.skip_rows`` rows are skipped when given, else the rows above
  the header are detected (``layout.detect_head`` on the first ``HEAD_ROWS`` non-empty rows, with
  the sheet's merged ranges); ``options.header_rows`` rows form the header when given, else the
  header's height is detected (merged ranges starting in a header row extend it to their last
  row) and a row of column numbers right under it ("1 2 3", "(1) (2)") is skipped. Cells merged
  inside the header block are filled from the merge's top-left value and the lines of a column are
  joined with " - " ("Tọa độ trung tâm - Vĩ độ"; a repeat from a vertical merge is not repeated).
* **Footer**: the last ``TAIL_ROWS`` non-empty rows are held back; at the end of the sheet the
  footer found there (``layout.footer_start``: totals row, notes, place and date, signatures) or
  the given ``options.footer_rows`` last rows are not data.
* Skipped rows (titles, column numbers, footer) go to ``info.skipped`` with their Excel row
  numbers, neither data nor rejected; ``info.layout[sheet]`` records what was used and what was
  detected.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from openpyxl.utils import get_column_letter

from connectors.formats import layout
from connectors.formats._common import BatchBuilder, clean_label, join_header_lines, truncate, unique_names
from connectors.formats.base import FormatError, FormatOptions, ReadBatch, ReadInfo, SkippedRow

MAX_COLUMNS = 16_384  # Excel's limit (XFD)

# (Excel row number, cell texts from column A, their kinds: None when every cell is TEXT)
Row = tuple[int, Sequence[str | None], Sequence[int] | None]
Merge = tuple[int, int, int, int]  # (first row, first column, last row, last column), 1-based
# A data row waiting for the footer check: (row, reason it is rejected or None)
_Pending = tuple[Row, str | None]


def _blank(value: str | None) -> bool:
    return not value or value.isspace()


def _empty(values: Sequence[str | None]) -> bool:
    return all(_blank(v) for v in values)


def _text(values: Sequence[str | None]) -> str:
    """A row as one line (cells tab-separated), as rejected and skipped rows show it."""
    return "\t".join(v or "" for v in values).strip("\t")


def _head(rows: Iterator[Row], options: FormatOptions, info: ReadInfo, sheet: str) -> list[Row]:
    """The first non-empty rows after the given skip_rows (those, if not empty, are titles)."""
    skip = options.skip_rows or 0
    limit = max(layout.HEAD_ROWS, options.batch_rows if options.header_rows == 0 else 0)
    head: list[Row] = []
    for row in rows:
        if _empty(row[1]):
            continue
        if row[0] <= skip:
            info.skipped.append(SkippedRow(row[0], "title", truncate(_text(row[1])) or "", sheet))
            continue
        head.append(row)
        if len(head) >= limit:
            break
    return head


def sheet_batches(
    rows: Iterator[Row],
    merges: Callable[[], list[Merge]],
    options: FormatOptions,
    sheet: str,
    info: ReadInfo,
) -> Iterator[ReadBatch]:
    """Header, then batches of one sheet; yields nothing when the sheet has no non-empty row."""
    head = _head(rows, options, info, sheet)
    merged = merges() if head and options.header_rows != 0 else []
    plan = layout.detect_head(
        [layout.Row(line, values, kinds) for line, values, kinds in head],
        merged,
        skip_given=options.skip_rows is not None,
        header_rows=options.header_rows,
    )
    if plan is None:
        return
    by_line = {row[0]: row for row in head}
    for line in plan.titles:
        info.skipped.append(SkippedRow(line, "title", truncate(_text(by_line[line][1])) or "", sheet))
    if plan.column_numbers is not None:
        text = _text(by_line[plan.column_numbers][1])
        info.skipped.append(SkippedRow(plan.column_numbers, "column_numbers", truncate(text) or "", sheet))

    data_rows = [row for row in head if row[0] >= plan.data_start]
    if plan.bottom >= plan.top:
        block = [by_line[r][1] if r in by_line else () for r in range(plan.top, plan.bottom + 1)]
        labels, first_col = header_labels(block, plan.top, merged)
    else:
        labels, first_col = [""] * max(_content_width(values) for _, values, _ in data_rows), 1
    info.header_labels = labels
    report = _report(plan, options)
    report["first_column"] = first_col  # where the table starts (the fidelity check reads it)
    info.layout[sheet] = report
    data = itertools.chain(data_rows, rows)
    yield from _data_batches(data, (labels, first_col), plan.data_start, options, sheet, info, report)


def _report(plan: layout.Head, options: FormatOptions) -> dict[str, Any]:
    """``info.layout`` for one sheet: what was used, and which of it was detected."""
    given = options.skip_rows is not None
    return {
        "skip_rows": options.skip_rows if given else plan.top - 1,
        "header_rows": plan.bottom - plan.top + 1,
        "header_lines": list(range(plan.top, plan.bottom + 1)),
        "column_numbers_line": plan.column_numbers,
        "footer_rows": 0,
        "detected": [f for f in ("skip_rows", "header_rows", "footer_rows") if getattr(options, f) is None],
    }


def _data_batches(
    data: Iterator[Row],
    header: tuple[list[str], int],
    data_start: int,
    options: FormatOptions,
    sheet: str,
    info: ReadInfo,
    report: dict[str, Any],
) -> Iterator[ReadBatch]:
    """The table's rows in batches; the last rows are held back until the footer is known.

    ``header``: (labels, first table column, 1-based); ``data_start``: the first line after the header.
    """
    labels, first_col = header
    names = unique_names(labels, lambda i: f"column_{first_col + i}")
    lo, hi = first_col - 1, first_col - 1 + len(labels)  # slice of the row's cells in the table
    span = f"{get_column_letter(lo + 1)}:{get_column_letter(hi)}"
    builder = BatchBuilder(names, options.batch_rows, sheet)
    hold = layout.TAIL_ROWS if options.footer_rows is None else options.footer_rows
    tail: deque[_Pending] = deque()

    def emit(pending: _Pending) -> list[ReadBatch]:
        (line, values, kinds), reason = pending
        if reason is not None:
            return builder.reject(line, reason, _text(values))
        cells = list(values[lo:hi])
        cells.extend([None] * (hi - lo - len(cells)))
        if kinds is None:
            return builder.add(line, cells)
        row_kinds = list(kinds[lo:hi])
        row_kinds.extend([0] * (hi - lo - len(row_kinds)))
        return builder.add(line, cells, row_kinds)

    for row in data:
        values = row[1]
        if _empty(values):
            continue
        outside = [i for i, v in enumerate(values) if (i < lo or i >= hi) and not _blank(v)]
        reason = None
        if outside:
            where = ", ".join(get_column_letter(i + 1) for i in outside[:5])
            reason = f"value in column {where}, outside the table ({span})"
        tail.append((row, reason))
        if len(tail) > hold:
            yield from emit(tail.popleft())
    last = [layout.Row(line, values, kinds, reason is not None) for (line, values, kinds), reason in tail]
    start = layout.footer_start(last, hi - lo, options.footer_rows)
    for pending in itertools.islice(tail, start):
        yield from emit(pending)
    for skipped in last[start:]:
        text = truncate(_text(skipped.cells)) or ""
        info.skipped.append(SkippedRow(skipped.pos, layout.footer_kind(skipped), text, sheet))
    report["footer_rows"] = len(last) - start
    yield from builder.finish(data_start)


def _content_width(values: Sequence[str | None]) -> int:
    for i in range(len(values) - 1, -1, -1):
        if not _blank(values[i]):
            return i + 1
    return 0


def header_labels(block: list[Sequence[str | None]], top: int, merges: list[Merge]) -> tuple[list[str], int]:
    """(labels of the table's columns, first table column): header lines joined per column."""
    bottom = top + len(block) - 1
    parts = [[clean_label(v) if v else "" for v in row] for row in block]
    inside = [m for m in merges if top <= m[0] <= bottom and m[1] <= MAX_COLUMNS]
    width = max([len(row) for row in parts] + [min(m[3], MAX_COLUMNS) for m in inside if _at(parts, m, top)])
    for row in parts:
        row.extend([""] * (width - len(row)))
    for r1, c1, r2, c2 in inside:
        value = _at(parts, (r1, c1, r2, c2), top)
        if value:
            for r in range(r1, min(r2, bottom) + 1):
                for c in range(c1, min(c2, width) + 1):
                    parts[r - top][c - 1] = value
    labels = join_header_lines(parts, width)
    used = [c for c, label in enumerate(labels) if label]
    if not used:  # a header of blank rows (header_rows given): every column unlabelled
        return labels, 1
    return labels[used[0] : used[-1] + 1], used[0] + 1


def _at(parts: list[list[str]], merge: Merge, top: int) -> str:
    row = parts[merge[0] - top]
    return row[merge[1] - 1] if merge[1] - 1 < len(row) else ""


def select_sheets(titles: list[str], wanted: str | int | None, file_name: str) -> list[int]:
    """Indexes of the sheets to read: the one named or numbered by ``wanted``, or every sheet."""
    if wanted is None:
        return list(range(len(titles)))
    if isinstance(wanted, int):
        if 0 <= wanted < len(titles):
            return [wanted]
        raise FormatError(f"{file_name}: no sheet index {wanted} (the workbook has {len(titles)} sheets)")
    if wanted in titles:
        return [titles.index(wanted)]
    folded = [i for i, t in enumerate(titles) if t.strip().casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded
    raise FormatError(f"{file_name}: no sheet named {wanted!r} (sheets: {', '.join(map(repr, titles))})")


def read_sheets(
    file_name: str,
    titles: list[str],
    sheet_rows: Callable[[int], tuple[Iterator[Row], Callable[[], list[Merge]]]],
    options: FormatOptions,
    info: ReadInfo,
) -> Iterator[ReadBatch]:
    """Batches of every selected sheet in turn; FormatError when none has data."""
    found = False
    for index in select_sheets(titles, options.sheet, file_name):
        rows, merges = sheet_rows(index)
        for batch in sheet_batches(rows, merges, options, titles[index], info):
            found = True
            yield batch
    if not found:
        after = f" after skipping {options.skip_rows} rows" if options.skip_rows else ""
        if options.sheet is None:
            raise FormatError(f"{file_name}: no sheet has data{after}")
        raise FormatError(f"{file_name}: sheet {options.sheet!r} has no data{after}")
