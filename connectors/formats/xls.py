"""Legacy Excel workbooks (.xls, OLE2) to Arrow batches with xlrd: the same cells, kinds and
layout as XLSX (``connectors.formats.xlsx``, whose docstring tells both; the sheet layout is
``sheet.py``). An XLSX file named .xls is read as XLSX."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator
from typing import Any

import xlrd

from connectors.base import RawObject
from connectors.formats._excel_cells import row_of, xls_cell
from connectors.formats.base import FormatError, FormatOptions, FormatReader, ReadBatch, ReadInfo
from connectors.formats.sheet import Merge, Row, read_sheets
from connectors.formats.xlsx import OLE2_MAGIC, XlsxReader, _guard


class XlsReader(FormatReader):
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

            yield from read_sheets(raw.name, titles, sheet_rows, options, info)
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
            yield row_of(r + 1, [xls_cell(book, cell) for cell in sheet.row(r)])
    finally:
        book.unload_sheet(sheet.number)
