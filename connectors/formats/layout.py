"""Where the table is in a report-shaped sheet or CSV: titles, header rows, column numbers, footer.

Agencies send reports, not tables: title rows above ("ỦY BAN NHÂN DÂN ...", "DANH SÁCH ..."), a
header of one to three rows with merged cells, sometimes a row of column numbers ("1 2 3",
"(1) (2)", "A B 1 2"), and after the data a footer (a totals row, "Ghi chú: ...", the place and
date, signature blocks). Pure functions on cell texts (no I/O): a reader hands over the first
``HEAD_ROWS`` rows (:func:`detect_head`) and, at the end, its last ``TAIL_ROWS`` rows
(:func:`footer_start`).

* **Header**: the first row of labels only (text that is not a number, years aside, no native
  number or date) that is not title-like and whose header block labels most (60%) of the table's
  columns. The block grows down while merged ranges starting in it reach further (XLSX), or while
  the next row only labels columns under a label that spans several columns (a blank right of it:
  what a merge leaves in a CSV export), leaving the single-column labels above blank. A plain
  table gives exactly one header row at the first row; a row of data is never taken for a header.
* **Titles**: the rows above the header: one cell, two cells far apart, a sentence far wider than a
  label, a known title line (national motto, "Số: ...", "Đơn vị tính: ...") or a few labels
  narrower than the table. Data (numbers, dates) met before any header means there were no titles:
  the first row is the header, as without detection. Tables of one column are not examined.
* **Footer**: from a marker row (first non-empty cell "Tổng cộng", "Ghi chú:", "Nguồn:", "Người lập
  biểu", "KT. GIÁM ĐỐC", "(Ký, ghi rõ họ tên)", "..., ngày 05 tháng 7 năm 2025"...) to the end,
  when every row after it is footer-like: a marker, a sparse text row (signers' names), a row the
  reader rejected (wrong field count) or blank. Any data row after a marker keeps it as data.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

HEAD_ROWS = 100  # rows examined for titles and header
TAIL_ROWS = 30  # rows examined for a footer
MAX_DETECTED_HEADER = 4  # header rows found without merges (merges may reach 10)
MAX_HEADER = 10
HEADER_COVERAGE = 0.6  # share of the table's columns the header block must label
TITLE_CHARS = 80  # a cell longer than this, in a row of few cells, is a sentence, not a label

Merge = tuple[int, int, int, int]  # (first row, first column, last row, last column), 1-based

# native kinds (CellKind values) that mark a cell as data: NUMBER, BOOLEAN, DATE, DATETIME
_DATA_KINDS = frozenset({2, 3, 4, 5})
_NUMBER = re.compile(r"[-+−]?\(?[-+]?\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?\)?\s*%?|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
_YEAR = re.compile(r"(?:19|20)\d\d")
_COLUMN_NUMBER = re.compile(r"[(\[]?(\d{1,3}|[A-Z])[)\]]?(?:\s*[-=+*/x×:]\s*[(\[]?(?:\d{1,3}|[A-Z])[)\]]?)*")
_DATE_LINE = re.compile(r"ngay\s*(?:\d{1,2}|[.…_\s]+)\s*thang\s*(?:\d{1,2}|[.…_\s]+)\s*nam")
_TITLE = re.compile(
    r"cong hoa xa hoi chu nghia|doc lap\s*-\s*tu do\s*-\s*hanh phuc|^(?:uy ban nhan dan|ubnd)\b"
    r"|^so\s*:|^(?:don vi(?: tinh| bao cao| nhan bao cao)?|dvt|ky bao cao|bieu so)\s*:"
    r"|^bieu (?:mau )?so\b|^\(?(?:ban hanh )?kem theo\b"
)
_TOTAL = re.compile(r"(?:tong cong|tong so|cong chung|cong|tong)\s*[:.]?\s*(?:\(.*\))?")
_NOTE = re.compile(
    r"[*\-\s]*(?:ghi chu|nguon(?: so lieu)?|luu y|chu thich|noi nhan|xac nhan)\b\s*(?::|$)"
    r"|(?:nguoi (?:lap|ky|kiem tra|duyet|tong hop)|thu truong|lanh dao don vi|ke toan truong)\b"
    r"|(?:kt|tm|tl|ktl|ttl)\s*\.\s*\S|q\s*\.\s*(?:giam doc|chu tich|truong|thu truong|hieu truong)"
    r"|\(?\s*ky(?: ten)?\s*[,)]|\(\s*ky\b"
    r"|(?:pho )?(?:giam doc|chu tich|truong phong|truong ban)$"
)


@dataclass(frozen=True)
class Row:
    """One row as read: ``pos`` is the Excel row number or the CSV record index."""

    pos: int
    cells: Sequence[str | None]
    kinds: Sequence[int] | None = None  # CellKind per cell; None: all text
    rejected: bool = False  # the reader refused it (wrong field count, value outside the table)


@dataclass(frozen=True)
class Head:
    """What is above the data; positions as in ``Row.pos``."""

    top: int  # first header row (the first data row when there is no header)
    bottom: int  # last header row (top - 1 without header)
    column_numbers: int | None  # the row of column numbers under the header, skipped
    titles: tuple[int, ...]  # non-empty rows above the header

    @property
    def data_start(self) -> int:
        """Position of the first row after the header (and column numbers)."""
        return (self.column_numbers if self.column_numbers is not None else self.bottom) + 1


# --- cells -----------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents, spaces collapsed: "TỔNG  CỘNG" -> "tong cong"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).lower().split())


def _filled(row: Row) -> list[int]:
    """Column indexes (0-based) of the row's non-blank cells."""
    return [i for i, v in enumerate(row.cells) if v and not v.isspace()]


def _kind(row: Row, col: int) -> int:
    return row.kinds[col] if row.kinds is not None and col < len(row.kinds) else 0


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text.strip()) is not None


def _is_label(row: Row, col: int) -> bool:
    """A header label: text that is not a number (a year is), not a native number or date."""
    text = (row.cells[col] or "").strip()
    if _YEAR.fullmatch(text):
        return True
    return _kind(row, col) not in _DATA_KINDS and not _is_number(text)


def _labels_only(row: Row, cols: list[int]) -> bool:
    return bool(cols) and all(_is_label(row, c) for c in cols)


def first_text(row: Row) -> str:
    """The first non-empty cell, folded (what footer markers are matched against)."""
    for value in row.cells:
        if value and not value.isspace():
            return fold(value)
    return ""


# --- head -----------------------------------------------------------------------------------------


def table_span(rows: Sequence[Row]) -> tuple[int, int]:
    """(first, last) column of the table: the most common right edge of rows with two cells or more."""
    edges: list[tuple[int, int]] = []
    for row in rows:
        cols = _filled(row)
        if len(cols) >= 2:
            edges.append((cols[0], cols[-1]))
    if not edges:
        cols = [c for row in rows for c in _filled(row)]
        return (min(cols), max(cols)) if cols else (0, 0)
    counts = Counter(last for _, last in edges)
    last = max(counts, key=lambda c: (counts[c], c))
    first = min(f for f, _ in edges if f <= last)
    return first, last


def _title_like(row: Row, width: int) -> bool:
    """One cell, two cells far apart in a wide table, a sentence far wider than a label (few
    cells), or a known title line."""
    cols = _filled(row)
    if len(cols) == 1 or any(_is_title_text(row.cells[c] or "") for c in cols):
        return True
    if len(cols) <= 3 and max(len(row.cells[c] or "") for c in cols) > TITLE_CHARS:
        return True
    return len(cols) == 2 and cols[1] - cols[0] > 1 and width >= 4


def _is_title_text(text: str) -> bool:
    folded = fold(text)
    return _TITLE.search(folded) is not None or _DATE_LINE.search(folded) is not None


class _Spans:
    """Columns of a header block still open for labels below (under a label spanning several)."""

    def __init__(self, top: Row, span: tuple[int, int]) -> None:
        self.open: list[tuple[int, int]] = []
        self.used: set[int] = set()
        self._split([span], top)

    def _split(self, parents: list[tuple[int, int]], row: Row) -> None:
        cols = _filled(row)
        self.used.update(cols)
        opened: list[tuple[int, int]] = []
        for a, b in parents:
            inside = [c for c in cols if a <= c <= b]
            if not inside:
                opened.append((a, b))
                continue
            if inside[0] > a:  # blank columns left of the first label stay open
                opened.append((a, inside[0] - 1))
            for k, c in enumerate(inside):
                end = inside[k + 1] - 1 if k + 1 < len(inside) else b
                if end > c:  # a label with blanks right of it: a merged parent
                    opened.append((c, end))
        self.open = opened

    def continues(self, row: Row) -> bool:
        """Does ``row`` label only columns under open parents, at least one never labelled yet?"""
        cols = _filled(row)
        if not self.open or not _labels_only(row, cols):
            return False
        if not all(any(a <= c <= b for a, b in self.open) for c in cols):
            return False
        return any(c not in self.used for c in cols)

    def add(self, row: Row) -> None:
        self._split(self.open, row)


def _merge_reach(merges: Sequence[Merge], top: int, bottom: int) -> int:
    """The last row reached by a merged range starting in rows top..bottom (at most MAX_HEADER rows)."""
    reach = bottom
    for r1, _, r2, _ in merges:
        if top <= r1 <= bottom and r2 > reach:
            reach = r2
    return min(reach, top + MAX_HEADER - 1)


def header_block(
    rows: Sequence[Row], i: int, merges: Sequence[Merge], span: tuple[int, int]
) -> tuple[int, int]:
    """(last header row, columns labelled) of the header starting at ``rows[i]``."""
    top = rows[i]
    spans = _Spans(top, (min(span[0], *_filled(top)), max(span[1], *_filled(top))))
    bottom, reach = top.pos, _merge_reach(merges, top.pos, top.pos)
    for row in rows[i + 1 :]:
        if row.pos <= reach and _labels_only(row, _filled(row)):  # a merge from the header reaches it
            spans.add(row)
        elif row.pos - top.pos < MAX_DETECTED_HEADER and len(_filled(top)) > 1 and spans.continues(row):
            spans.add(row)
        else:
            reach = min(reach, row.pos - 1)  # a merge reaching into the data does not take it
            break
        bottom = row.pos
        reach = _merge_reach(merges, top.pos, bottom)
    return max(bottom, reach), len(spans.used)


def find_header(rows: Sequence[Row], merges: Sequence[Merge] = (), labels: bool = True) -> int:
    """Index in ``rows`` (non-empty rows) of the first header row; ``labels=False``: of the first
    row of the table (no header), i.e. after the titles."""
    first, last = table_span(rows[:HEAD_ROWS])
    width = last - first + 1
    if width <= 1:
        return 0
    for i, row in enumerate(rows[:HEAD_ROWS]):
        cols = _filled(row)
        if not _labels_only(row, cols):
            # numbers or dates: without a header, the table starts here; met before any header,
            # the rows above were no titles: the first row is the header, as without detection
            return 0 if labels else i
        if _title_like(row, width) and not (labels and _parent_labels(rows, i, merges, (first, last))):
            continue
        if not labels:
            return i  # a wide row of text: the first row of a table without header
        _, covered = header_block(rows, i, merges, (first, last))
        if covered >= HEADER_COVERAGE * width:
            return i  # else a few labels, narrower than the table: a title line
    return 0


def _parent_labels(rows: Sequence[Row], i: int, merges: Sequence[Merge], span: tuple[int, int]) -> bool:
    """Two labels far apart that head a multi-row header ("Chỉ tiêu" over four columns, then
    "Tên đơn vị"): the rows below label the gap, so this is the header's first line, not a title."""
    cols = _filled(rows[i])
    if len(cols) != 2:
        return False
    bottom, covered = header_block(rows, i, merges, span)
    return bottom > rows[i].pos and covered >= HEADER_COVERAGE * (span[1] - span[0] + 1)


def is_column_numbers(row: Row, width: int, bare: bool = True) -> bool:
    """Column numbers under a header: "1 2 3", "(1) (2) (3)=(1)+(2)", "A B C 1 2".

    ``bare``: plain "1 2 3" counts (from 1, over every column); else only with parentheses,
    formulas or letters.
    """
    cols = _filled(row)
    if len(cols) < 2 or len(cols) < width / 2:
        return False
    letters: list[int] = []
    numbers: list[int] = []
    plain = True
    for c in cols:
        text = (row.cells[c] or "").strip()
        match = _COLUMN_NUMBER.fullmatch(text)
        if match is None:
            return False
        lead = match.group(1)
        if lead.isdigit():
            numbers.append(int(lead))
            plain = plain and text == lead
        elif numbers:  # letters come before numbers ("A B C 1 2")
            return False
        else:
            letters.append(ord(lead))
    consecutive = all(b == a + 1 for seq in (letters, numbers) for a, b in itertools.pairwise(seq))
    if not consecutive or (letters and (letters[0] != ord("A") or len(letters) < 2)):
        return False  # letters are "A B C ...", at least two
    if plain and not letters:  # bare "1 2 3": from 1 over every column, under a report's header
        return bare and numbers[0] == 1 and len(numbers) >= max(width, 3)
    return True


def detect_head(
    rows: Sequence[Row],
    merges: Sequence[Merge] = (),
    skip_given: bool = False,
    header_rows: int | None = None,
) -> Head | None:
    """Titles, header and column numbers of a table whose first rows are ``rows`` (None: all blank).

    ``skip_given``: the rows were cut after the given skip_rows, so the header starts at the first
    non-empty one; ``header_rows``: given (no detection of the header's height nor column numbers).
    """
    filled = [row for row in rows if _filled(row)]
    if not filled:
        return None
    index = 0 if skip_given else find_header(filled, merges, labels=header_rows != 0)
    top = filled[index].pos
    titles = tuple(row.pos for row in filled if row.pos < top)
    if header_rows is not None:
        return Head(top, top + header_rows - 1, None, titles)
    span = table_span(filled[:HEAD_ROWS])
    bottom, _ = header_block(filled, index, merges, span)
    after = [row for row in filled if row.pos > bottom][:2]
    # a plain table's first row may well be 1, 2, 3: bare numbers only under a report's header;
    # and column numbers head data: a lone row after the header ("A;B;1") is the data itself
    bare = bool(titles) or bottom > top
    numbers = len(after) == 2 and is_column_numbers(after[0], span[1] - span[0] + 1, bare)
    return Head(top, bottom, after[0].pos if numbers else None, titles)


# --- footer ---------------------------------------------------------------------------------------


def is_total(row: Row) -> bool:
    """A totals row: the first non-empty cell is "Tổng cộng", "Tổng số", "Cộng" or "Tổng"."""
    return _TOTAL.fullmatch(first_text(row)) is not None


def is_footer_marker(row: Row) -> bool:
    """A totals row, a note ("Ghi chú:", "Nguồn:"), a place and date, or a signature line."""
    text = first_text(row)
    if not text:
        return False
    # the place and date may hold the delimiter ("TP. Hồ Chí Minh, ngày ..."): the whole row is read
    whole = fold(" ".join(v for v in row.cells if v and not v.isspace()))
    return bool(_TOTAL.fullmatch(text) or _NOTE.match(text) or _DATE_LINE.search(whole))


def _footer_like(row: Row, width: int) -> bool:
    """Blank, rejected, or a sparse row of text (signers' names, note lines): not a data row."""
    cols = _filled(row)
    if not cols or row.rejected:
        return True
    if len(cols) > max(2, -(-width // 3)):
        return False
    return not any(_kind(row, c) in _DATA_KINDS or _is_number(row.cells[c] or "") for c in cols)


def footer_start(rows: Sequence[Row], width: int, count: int | None = None) -> int:
    """Index in ``rows`` (the table's last rows, in order) where the footer starts; len(rows): none.

    ``count``: the footer is exactly the last ``count`` non-empty rows (given, not detected).
    """
    if count is not None:
        filled = [i for i, row in enumerate(rows) if _filled(row) or row.rejected]
        return filled[-count] if 0 < count <= len(filled) else (0 if count else len(rows))
    start = len(rows)
    for i in range(len(rows) - 1, max(-1, len(rows) - TAIL_ROWS - 1), -1):
        row = rows[i]
        footer_like = _footer_like(row, width)
        # a note or signature is a sparse row; "Ghi chú | 12 | 34" full of numbers is data
        if is_footer_marker(row) and (footer_like or is_total(row)):
            start = i
        elif not footer_like:
            break
    return start


def footer_kind(row: Row) -> str:
    """``total`` for a totals row, else ``footer``."""
    return "total" if is_total(row) else "footer"
