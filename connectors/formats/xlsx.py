"""Excel workbooks to all-string Arrow tables: XLSX/XLSM with openpyxl, legacy XLS with xlrd.

Every cell becomes a string so cleaning can type it: numbers plain (``1234.5``, no thousands
separator, "." as decimal point, rounded to Excel's 15 significant digits so ``0.1+0.2`` is ``0.3``),
dates ISO (``2024-03-01``; ``2024-03-01T08:30:00`` when the cell's format shows a time or the value
has one), times ``08:30:00``, booleans ``TRUE``/``FALSE``, error cells as shown (``#DIV/0!``).
Formulas are never evaluated: the value Excel cached when it last saved the file is read (empty if
the file was never calculated). Text that merely looks like a formula (``=HYPERLINK(...)``) is data
and kept as is.

Layout (per sheet):

* ``skip_rows`` physical rows (titles) are skipped, then any empty rows; the next ``header_rows``
  rows are the header. Cells merged across columns or rows inside the header block are filled from
  the merge's top-left value, and the header lines of a column are joined with " - " (a repeat of
  the line above, from a vertical merge, is not repeated): row 1 "Dân số" merged over two columns,
  row 2 "Nam" / "Nữ" gives "Dân số - Nam", "Dân số - Nữ". Labels are NFC with whitespace collapsed;
  ``info.header_labels`` holds them; column names are the labels made unique ("Tên", "Tên_2"), an
  unlabelled column inside the table is ``column_<n>`` (n = its 1-based Excel column number).
* The table spans the labelled columns; a data row with a value left or right of that span is
  rejected (``RejectedRow``, the real Excel row number) rather than silently dropped. With
  ``header_rows=0`` the columns are ``column_1``..``column_N``, N taken from the widest of the first
  ``batch_rows`` rows.
* Fully empty rows are skipped; line numbers are the real Excel row numbers. A batch holds
  consecutive rows only (``first_line + i`` is the row of table row ``i``).
* ``options.sheet`` picks a sheet by name (exact, else case-insensitive) or 0-based index among the
  worksheets; None reads every worksheet with data (hidden ones too; chart sheets have no cells).
  Every batch and rejected row carries its sheet name; ``info.header_labels`` is set when a sheet's
  header is read, so during multi-sheet reading it describes the sheet of the current batch.

Memory: XLSX is streamed in openpyxl's read-only mode (merged ranges, which that mode does not
expose, are found by a streaming scan of the sheet XML, only for the header). Before openpyxl sees
the archive it is checked for zip bombs (total uncompressed size, per-member compression ratio,
member count) and for XML DTDs / entity declarations; openpyxl parses the rest with defusedxml /
non-resolving lxml. zipfile never inflates a member past its declared size (CRC error), so the
declared sizes checked here bound what is decompressed. XLS files (BIFF, at most 65,536 rows) are
loaded whole by xlrd. A zip given as .xls is read as XLSX and an OLE2 file given as .xlsx as XLS.
"""

from __future__ import annotations

import codecs
import functools
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import xlrd
from openpyxl.utils import get_column_letter

from connectors.base import RawObject
from connectors.formats._common import BatchBuilder, clean_label, unique_names
from connectors.formats.base import FormatError, FormatOptions, FormatReader, ReadBatch, ReadInfo

__all__ = ["XlsReader", "XlsxReader", "render_number"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNCOMPRESSED = 2**30  # 1 GiB of XML in total
MAX_RATIO = 100  # uncompressed / compressed, per member ...
RATIO_MIN_BYTES = 2**20  # ... once the member inflates past 1 MiB (small parts may compress well)
MAX_MEMBERS = 10_000
MAX_PROLOG = 2**20  # bytes of an XML part scanned for a DTD before its root element
MAX_COLUMNS = 16_384  # Excel's limit (XFD)

Row = tuple[int, Sequence[str | None]]  # (Excel row number, cell texts from column A)
Merge = tuple[int, int, int, int]  # (first row, first column, last row, last column), 1-based


# --- cell values as text -------------------------------------------------------------------------


def render_number(value: float | int) -> str:
    """Plain decimal text, no exponent, at most 15 significant digits (what Excel stores and shows)."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = format(Decimal(format(value, ".15g")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_QUOTED = re.compile(r'"[^"]*"|\\.|_.|\*.')  # literal text, escaped chars, padding/fill chars
_BRACKET = re.compile(r"\[([^\]]*)\]")


@functools.lru_cache(maxsize=1024)
def format_has_time(number_format: str | None) -> bool:
    """Whether an Excel number format shows a time of day (h or s; [h]/[mm]/[ss] elapsed time)."""
    if not number_format:
        return False
    text = _QUOTED.sub("", number_format)
    if any(re.fullmatch(r"[hms]+", part, re.IGNORECASE) for part in _BRACKET.findall(text)):
        return True
    text = _BRACKET.sub("", text).lower()
    return "h" in text or "s" in text


def render_datetime(value: datetime, shows_time: bool) -> str:
    if not shows_time and value.time() == time(0):
        return value.date().isoformat()
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def render_time(value: time) -> str:
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def render_timedelta(value: timedelta) -> str:
    """Elapsed time as Excel shows [h]:mm:ss, e.g. ``26:30:00``."""
    total = round(value.total_seconds(), 3)
    sign, total = ("-", -total) if total < 0 else ("", total)
    minutes, seconds = divmod(total, 60)
    hours, minutes = divmod(int(minutes), 60)
    whole = int(seconds)
    frac = f"{seconds - whole:.3f}"[1:] if seconds != whole else ""
    return f"{sign}{hours}:{minutes:02d}:{whole:02d}{frac}"


def _cell_text(value: Any, number_format: str | None = None) -> str | None:
    """A cell value as text; ``number_format`` matters only for datetimes (date vs date-time)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return render_datetime(value, format_has_time(number_format))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return render_time(value)
    if isinstance(value, timedelta):
        return render_timedelta(value)
    if isinstance(value, int | float):
        return render_number(value)
    return str(value)


def _blank(value: str | None) -> bool:
    return not value or value.isspace()


# --- sheet layout (shared by XLSX and XLS) ---------------------------------------------------------


def _sheet_batches(
    rows: Iterator[Row],
    merges: Callable[[], list[Merge]],
    options: FormatOptions,
    sheet: str,
    info: ReadInfo,
) -> Iterator[ReadBatch]:
    """Header, then batches of one sheet; yields nothing when the sheet has no non-empty row."""
    first: Row | None = None
    for row in rows:
        if row[0] > options.skip_rows and not all(_blank(v) for v in row[1]):
            first = row
            break
    if first is None:
        return

    if options.header_rows:
        top, bottom = first[0], first[0] + options.header_rows - 1
        block: dict[int, Sequence[str | None]] = {first[0]: first[1]}
        lookahead: list[Row] = []
        for row in rows:
            if row[0] > bottom:
                lookahead.append(row)
                break
            block[row[0]] = row[1]
        labels, first_col = _header_labels([block.get(r, ()) for r in range(top, bottom + 1)], top, merges())
        data: Iterator[Row] = itertools.chain(lookahead, rows)
        data_start = bottom + 1
    else:
        buffered = [first]
        for row in rows:
            if not all(_blank(v) for v in row[1]):
                buffered.append(row)
                if len(buffered) >= options.batch_rows:
                    break
        width = max(_content_width(values) for _, values in buffered)
        labels, first_col = [""] * width, 1
        data, data_start = itertools.chain(buffered, rows), first[0]

    info.header_labels = labels
    names = unique_names(labels, lambda i: f"column_{first_col + i}")
    lo, hi = first_col - 1, first_col - 1 + len(labels)  # slice of the row's cells in the table
    span = f"{get_column_letter(lo + 1)}:{get_column_letter(hi)}"
    builder = BatchBuilder(names, options.batch_rows, sheet)
    for line, values in data:
        if all(_blank(v) for v in values):
            continue
        outside = [i for i, v in enumerate(values) if (i < lo or i >= hi) and not _blank(v)]
        if outside:
            where = ", ".join(get_column_letter(i + 1) for i in outside[:5])
            text = "\t".join(v or "" for v in values).strip("\t")
            yield from builder.reject(line, f"value in column {where}, outside the table ({span})", text)
            continue
        cells = list(values[lo:hi])
        cells.extend([None] * (hi - lo - len(cells)))
        yield from builder.add(line, cells)
    yield from builder.finish(data_start)


def _content_width(values: Sequence[str | None]) -> int:
    for i in range(len(values) - 1, -1, -1):
        if not _blank(values[i]):
            return i + 1
    return 0


def _header_labels(block: list[Sequence[str | None]], top: int, merges: list[Merge]) -> tuple[list[str], int]:
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
    labels: list[str] = []
    for c in range(width):
        column: list[str] = []
        for row in parts:
            if row[c] and (not column or column[-1] != row[c]):
                column.append(row[c])
        labels.append(" - ".join(column))
    used = [c for c, label in enumerate(labels) if label]
    return labels[used[0] : used[-1] + 1], used[0] + 1


def _at(parts: list[list[str]], merge: Merge, top: int) -> str:
    row = parts[merge[0] - top]
    return row[merge[1] - 1] if merge[1] - 1 < len(row) else ""


def _select_sheets(titles: list[str], wanted: str | int | None, file_name: str) -> list[int]:
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


def _read_sheets(
    file_name: str,
    titles: list[str],
    sheet_rows: Callable[[int], tuple[Iterator[Row], Callable[[], list[Merge]]]],
    options: FormatOptions,
    info: ReadInfo,
) -> Iterator[ReadBatch]:
    found = False
    for index in _select_sheets(titles, options.sheet, file_name):
        rows, merges = sheet_rows(index)
        for batch in _sheet_batches(rows, merges, options, titles[index], info):
            found = True
            yield batch
    if not found:
        after = f" after skipping {options.skip_rows} rows" if options.skip_rows else ""
        if options.sheet is None:
            raise FormatError(f"{file_name}: no sheet has data{after}")
        raise FormatError(f"{file_name}: sheet {options.sheet!r} has no data{after}")


def _guard(rows: Iterator[Row], where: str) -> Iterator[Row]:
    """Library errors while streaming a sheet (corrupt XML, bad CRC) become FormatError."""
    try:
        yield from rows
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{where}: unreadable ({type(exc).__name__}: {exc})") from exc


# --- XLSX --------------------------------------------------------------------------------------------


class XlsxReader(FormatReader):
    number_locale = "en"
    name = "xlsx"
    extensions = (".xlsx", ".xlsm")
    media_types = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
    )

    def __init__(
        self,
        max_uncompressed: int = MAX_UNCOMPRESSED,
        max_ratio: float = MAX_RATIO,
        ratio_min_bytes: int = RATIO_MIN_BYTES,
        max_members: int = MAX_MEMBERS,
    ) -> None:
        self.max_uncompressed = max_uncompressed
        self.max_ratio = max_ratio
        self.ratio_min_bytes = ratio_min_bytes
        self.max_members = max_members

    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        with raw.open() as fh:
            if fh.read(len(OLE2_MAGIC)) == OLE2_MAGIC:  # legacy .xls (or an encrypted workbook)
                yield from XlsReader().read(raw, options, info)
                return
            fh.seek(0)
            self.check_archive(fh, raw.name)
            fh.seek(0)
            try:
                workbook = openpyxl.load_workbook(
                    fh, read_only=True, data_only=True, keep_vba=False, keep_links=False
                )
            except Exception as exc:
                raise FormatError(
                    f"{raw.name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})"
                ) from exc
            try:
                sheets = workbook.worksheets
                titles = [ws.title for ws in sheets]

                def sheet_rows(index: int) -> tuple[Iterator[Row], Callable[[], list[Merge]]]:
                    ws = sheets[index]
                    part = getattr(ws, "_worksheet_path", None)
                    rows = _guard(_xlsx_rows(ws), f"{raw.name} (sheet {ws.title!r})")
                    return rows, lambda: _scan_merges(raw, part) if part else []

                yield from _read_sheets(raw.name, titles, sheet_rows, options, info)
            finally:
                workbook.close()

    def check_archive(self, fh: Any, file_name: str) -> None:
        """Refuse what is not a zip, zip bombs, and XML parts declaring a DTD (entity expansion)."""
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise FormatError(f"{file_name}: not an XLSX file (not a valid zip archive: {exc})") from None
        with archive:
            members = archive.infolist()
            if len(members) > self.max_members:
                raise FormatError(f"{file_name}: {len(members)} archive members (limit {self.max_members})")
            total = 0
            for member in members:
                total += member.file_size
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > self.ratio_min_bytes and ratio > self.max_ratio:
                    raise FormatError(
                        f"{file_name}: possible zip bomb: {member.filename} expands {ratio:,.0f} times "
                        f"to {member.file_size:,} bytes (limit {self.max_ratio:g} times)"
                    )
            if total > self.max_uncompressed:
                raise FormatError(
                    f"{file_name}: possible zip bomb: {total:,} bytes uncompressed "
                    f"(limit {self.max_uncompressed:,})"
                )
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names:
                raise FormatError(f"{file_name}: not an XLSX file (a zip without [Content_Types].xml)")
            for member in members:
                if member.filename.lower().endswith((".xml", ".rels", ".vml")):
                    _check_prolog(archive, member, file_name)


_ROOT_START = re.compile(r"<[A-Za-z_]")


def _check_prolog(archive: zipfile.ZipFile, member: zipfile.ZipInfo, file_name: str) -> None:
    """Reject a part with a DOCTYPE / ENTITY declaration (only legal before the root element)."""
    head = b""
    try:
        with archive.open(member) as part:
            while len(head) < MAX_PROLOG:
                chunk = part.read(4096)
                head += chunk
                text = _decode_head(head)
                root = _ROOT_START.search(text)
                prolog = text[: root.start()] if root else text
                if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
                    raise FormatError(
                        f"{file_name}: {member.filename} declares a DTD, which XLSX never needs "
                        "(possible XML entity attack)"
                    )
                if root or not chunk:
                    return
    except FormatError:
        raise
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"{file_name}: cannot read {member.filename} ({exc})") from None
    raise FormatError(f"{file_name}: {member.filename} has no root element in its first {MAX_PROLOG:,} bytes")


def _decode_head(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data[: len(data) // 2 * 2].decode("utf-16", "ignore")
    return data.decode("utf-8", "ignore")


def _xlsx_rows(ws: Any) -> Iterator[Row]:
    ws.reset_dimensions()  # trust the cells, not the (often wrong) <dimension> element
    for line, cells in enumerate(ws.iter_rows(min_row=1, min_col=1), start=1):
        yield (
            line,
            [
                _cell_text(cell.value, cell.number_format if isinstance(cell.value, datetime) else None)
                for cell in cells
            ],
        )


_MERGE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([A-Za-z]+\d+)(?::([A-Za-z]+\d+))?[\"']"
)
_REF = re.compile(r"([A-Za-z]+)(\d+)")


def _scan_merges(raw: RawObject, part: str) -> list[Merge]:
    """Merged ranges of one sheet by a streaming scan of its XML (read-only mode does not read them).

    <mergeCells> follows <sheetData>, so the whole part is inflated once; only tags are matched
    (a "<" inside text is always escaped), memory stays at one chunk.
    """
    found: list[Merge] = []
    try:
        with raw.open() as fh, zipfile.ZipFile(fh) as archive, archive.open(part) as xml:
            carry = b""
            while True:
                chunk = xml.read(2**20)
                data = carry + chunk
                cut = data.rfind(b"<") if chunk else len(data)
                cut = len(data) if cut < 0 else cut
                if b"mergeCell" in data[:cut]:
                    for m in _MERGE.finditer(data, 0, cut):
                        found.append(_merge(m.group(1), m.group(2) or m.group(1)))
                carry = data[cut:] if len(data) - cut < 65536 else b""
                if not chunk:
                    return found
    except (zipfile.BadZipFile, KeyError, RuntimeError, OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"{raw.name}: cannot read {part} ({exc})") from None


def _merge(start: bytes, end: bytes) -> Merge:
    (c1, r1), (c2, r2) = (_cell_ref(start), _cell_ref(end))
    return (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))


def _cell_ref(ref: bytes) -> tuple[int, int]:
    m = _REF.fullmatch(ref.decode("ascii"))
    assert m is not None
    column = 0
    for ch in m.group(1).upper():
        column = column * 26 + ord(ch) - 64
    return column, int(m.group(2))


# --- XLS ---------------------------------------------------------------------------------------------


class XlsReader(FormatReader):
    number_locale = "en"
    name = "xls"
    extensions = (".xls",)
    media_types = ("application/vnd.ms-excel",)

    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        with raw.open() as fh:
            head = fh.read(512)
        if head.startswith(b"PK\x03\x04"):  # an XLSX named .xls: common in agency downloads
            yield from XlsxReader().read(raw, options, info)
            return
        if not head.startswith(OLE2_MAGIC):
            raise FormatError(f"{raw.name}: not an XLS file (no OLE2 signature{_sniff(head)})")
        book = _open_xls(raw)
        try:
            titles = book.sheet_names()

            def sheet_rows(index: int) -> tuple[Iterator[Row], Callable[[], list[Merge]]]:
                sheet = book.sheet_by_index(index)
                merges = [(r1 + 1, c1 + 1, r2, c2) for r1, r2, c1, c2 in sheet.merged_cells]
                rows = _guard(_xls_rows(book, sheet), f"{raw.name} (sheet {sheet.name!r})")
                return rows, lambda: merges

            yield from _read_sheets(raw.name, titles, sheet_rows, options, info)
        finally:
            book.release_resources()


def _sniff(head: bytes) -> str:
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in text:
        return "; it is an HTML page saved as .xls"
    if text.startswith(b"<?xml"):
        return "; it is XML (Excel 2003 XML spreadsheet?)"
    if head and b"\x00" not in head:
        return "; it looks like a text file (CSV/TSV saved as .xls?)"
    return ""


def _open_xls(raw: RawObject) -> Any:
    source: dict[str, Any] = (
        {"file_contents": raw.data} if raw.data is not None else {"filename": str(raw.path)}
    )
    try:  # formatting_info gives merged cells and number formats; a few odd files only open without
        return xlrd.open_workbook(**source, formatting_info=True, on_demand=True, logfile=io.StringIO())
    except Exception:  # noqa: BLE001, S110 - retried below without formatting; that error is reported
        pass
    try:
        return xlrd.open_workbook(**source, formatting_info=False, on_demand=True, logfile=io.StringIO())
    except Exception as exc:
        if "encrypted" in str(exc).lower() or "EncryptionInfo".encode("utf-16-le") in raw.read_bytes():
            raise FormatError(
                f"{raw.name}: the workbook is password-protected (encrypted); an unprotected copy is needed"
            ) from exc
        raise FormatError(f"{raw.name}: not a readable XLS workbook ({type(exc).__name__}: {exc})") from exc


def _xls_rows(book: Any, sheet: Any) -> Iterator[Row]:
    try:
        for r in range(sheet.nrows):
            yield r + 1, [_xls_text(book, cell) for cell in sheet.row(r)]
    finally:
        book.unload_sheet(sheet.number)


def _xls_text(book: Any, cell: Any) -> str | None:
    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return str(value)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(value, "#ERROR"))
    if kind == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(value, book.datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return render_number(value)
        if 0 <= value < 1:
            return render_time(moment.time())
        return render_datetime(moment, format_has_time(_xls_format(book, cell)) or value % 1 != 0)
    return render_number(value)


def _xls_format(book: Any, cell: Any) -> str | None:
    try:
        return str(book.format_map[book.xf_list[cell.xf_index].format_key].format_str)
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
