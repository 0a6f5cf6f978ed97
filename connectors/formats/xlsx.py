"""Excel workbooks to Arrow batches of cell texts and kinds: XLSX/XLSM with openpyxl (here), XLS with
xlrd (`xls.py`).

Every cell becomes a string, with its kind (``CellKind``) telling cleaning how it arrived: numbers
plain and exact (``1234.5``, no thousands separator, "." as decimal point, the shortest text that
reads back as the very same double: ``10.969`` is 10.969 whatever the spec's locale), dates ISO
(``2024-03-01``; ``2024-03-01T08:30:00`` when the cell's format shows a time or the value has one),
booleans ``TRUE``/``FALSE``; times ``08:30:00`` and error cells as shown (``#DIV/0!``) are kept as
text of kind ``OTHER``. Only text cells (``CellKind.TEXT``) are ever parsed with a locale. A whole
number in a cell formatted with zeros only (``00000``: a code shown with its leading zeros) is the
text Excel shows, ``01234``, of kind ``STRING``.
Formulas are never evaluated: the value Excel cached when it last saved the file is read (empty if
the file was never calculated). Text that merely looks like a formula (``=HYPERLINK(...)``) is data
and kept as is.

Layout (per sheet; the code is in ``sheet.py``, shared with XLS):

* Titles and header: ``skip_rows`` physical rows (titles) are skipped, then any empty rows; the next
  ``header_rows`` rows are the header. Either option, when absent, is detected from the first 100
  non-empty rows and the sheet's merged ranges (``layout.py``: title rows above the header, a header
  of one to three rows, merged ranges starting in it extending it down), and a row of column
  numbers under a detected header ("1 2 3", "(1) (2)") is skipped. Cells merged across columns or
  rows inside the header block are filled from
  the merge's top-left value, and the header lines of a column are joined with " - " (a repeat of
  the line above, from a vertical merge, is not repeated): row 1 "Dân số" merged over two columns,
  row 2 "Nam" / "Nữ" gives "Dân số - Nam", "Dân số - Nữ". Labels are NFC with whitespace collapsed;
  ``info.header_labels`` holds them; column names are the labels made unique ("Tên", "Tên_2"), an
  unlabelled column inside the table is ``column_<n>`` (n = its 1-based Excel column number).
* The table spans the labelled columns; a data row with a value left or right of that span is
  rejected (``RejectedRow``, the real Excel row number) rather than silently dropped. With
  ``header_rows=0`` the columns are ``column_1``..``column_N``, N taken from the widest of the first
  ``batch_rows`` rows.
* Footer: the last 30 non-empty rows are held back; a footer found there (a totals row, "Ghi chú:",
  the place and date, signature blocks, with nothing but such rows after it), or the given
  ``footer_rows`` last rows, is neither data nor rejected (a signature outside the table's columns
  included). Titles, the column-number row and the footer go to ``info.skipped`` with their Excel
  row numbers; ``info.layout[sheet]`` records what was used and what was detected.
* Fully empty rows are skipped; line numbers are the real Excel row numbers. A batch holds
  consecutive rows only (``first_line + i`` is the row of table row ``i``).
* ``options.sheet`` picks a sheet by name (exact, else case-insensitive) or 0-based index among the
  worksheets; None reads every worksheet with data (hidden ones too; chart sheets have no cells).
  Every batch and rejected row carries its sheet name; ``info.header_labels`` is set when a sheet's
  header is read, so during multi-sheet reading it describes the sheet of the current batch.

Memory: XLSX is streamed in openpyxl's read-only mode (merged ranges, which that mode does not
expose, are found by a streaming scan of the sheet XML, for the header). Before openpyxl sees
the archive it is checked for zip bombs (total uncompressed size, per-member compression ratio,
member count) and for XML DTDs / entity declarations; openpyxl parses the rest with defusedxml /
non-resolving lxml. zipfile never inflates a member past its declared size (CRC error), so the
declared sizes checked here bound what is decompressed. XLS files (BIFF, at most 65,536 rows) are
loaded whole by xlrd. A zip given as .xls is read as XLSX and an OLE2 file given as .xlsx as XLS.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import openpyxl

from connectors.base import RawObject
from connectors.formats._excel_cells import render_number, row_of, xlsx_cell
from connectors.formats.base import FormatError, FormatOptions, FormatReader, ReadBatch, ReadInfo
from connectors.formats.sheet import Merge, Row, read_sheets

__all__ = ["XlsxReader", "render_number"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNCOMPRESSED = 2**30  # 1 GiB of XML in total
MAX_RATIO = 100  # uncompressed / compressed, per member ...
RATIO_MIN_BYTES = 2**20  # ... once the member inflates past 1 MiB (small parts may compress well)
MAX_MEMBERS = 10_000
MAX_PROLOG = 2**20  # bytes of an XML part scanned for a DTD before its root element


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
                from connectors.formats.xls import XlsReader  # each reader hands over to the other

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

                yield from read_sheets(raw.name, titles, sheet_rows, options, info)
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
        yield row_of(line, [xlsx_cell(cell) for cell in cells])


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
