"""Agency files of known values and how they are written (test_fidelity_properties.py).

An ``AgencyFile`` is a table (columns of one kind each: every cell's value and how the agency wrote
it) plus the file around it: an XLSX workbook (openpyxl: native numbers and dates, some with a
display format, numbers typed as text in the sheet's locale) or a CSV (``;`` or ``,``; UTF-8,
UTF-8 with BOM, or Windows-1258 with decomposed tone marks), in the ``vi`` ("1.234,5", dd/mm/yyyy)
or ``en`` ("1,234.5") locale, optionally shaped as a report: title rows, a merged two-row header,
a row of column numbers, a footer (totals, notes, place and date, signatures).

Each file knows what the published table must hold (``Cell.expected``: a Decimal for numbers, the
exact string of a code, a ``date``, text, None) and its true layout (``format_options``). The
Hypothesis strategies that draw them are in ``table_strategies.py``. Nothing here imports the
code under test.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

NUMBER_KINDS = ("float", "amount", "int")
SEPARATORS = {"vi": (".", ","), "en": (",", ".")}  # (thousands, decimal)


@dataclass(frozen=True)
class Cell:
    expected: Any  # Decimal (numbers), str (codes, text), date, or None: what must be published
    written: Any  # str: text as written; float / int / date: a native XLSX cell; None: empty
    number_format: str | None = None  # native XLSX cells

    def shown(self) -> str:
        if isinstance(self.written, str) or self.written is None:
            return repr(self.written)
        fmt = f" (format {self.number_format!r})" if self.number_format else ""
        return f"native {type(self.written).__name__} {self.written!r}{fmt}"


@dataclass(frozen=True)
class Column:
    kind: str
    label: str
    cells: tuple[Cell, ...]
    group: str | None = None  # label of a merged parent above it (two-row header)

    @property
    def header(self) -> str:
        return f"{self.group} - {self.label}" if self.group else self.label

    @property
    def integral(self) -> bool:
        return all(c.expected == c.expected.to_integral_value() for c in self.cells if c.expected is not None)


@dataclass(frozen=True)
class AgencyFile:
    kind: str  # xlsx | csv
    locale: str  # vi | en: how text numbers and dates are written
    declare_locale: bool  # schema.locale in the spec (else detected)
    columns: tuple[Column, ...]
    encoding: str = "utf-8"  # CSV: utf-8 | utf-8-sig | cp1258
    delimiter: str = ";"
    titles: tuple[str, ...] = ()
    blank_after_titles: bool = False
    merged_singles: bool = True  # XLSX: titles merged across, single columns down a two-row header
    column_numbers: str | None = None  # None | "bare" | "parens": a row "1 2 3" / "(1) (2)" under the header
    footer: tuple[tuple[Any, ...], ...] = ()  # rows after the data (totals, notes, signatures)
    padded: bool = True  # CSV: report lines padded with empty fields to the table's width
    newline: str = "\r\n"  # CSV line ends
    hints: bool = True  # give format.skip_rows / header_rows (else detected)

    @property
    def rows(self) -> int:
        return len(self.columns[0].cells)

    @property
    def header_rows(self) -> int:
        return 2 if any(c.group for c in self.columns) else 1

    def format_options(self) -> dict[str, int]:
        if not self.hints:
            return {}
        return {"skip_rows": len(self.titles) + self.blank_after_titles, "header_rows": self.header_rows}

    def describe(self) -> str:
        where = "xlsx" if self.kind == "xlsx" else f"csv {self.delimiter!r} {self.encoding}"
        locale = f"locale {self.locale} ({'declared' if self.declare_locale else 'detected'})"
        shape = [f"{self.rows} rows", f"{self.header_rows}-row header"]
        shape += [f"{len(self.titles)} title rows"] if self.titles else []
        shape += [f"column numbers {self.column_numbers}"] if self.column_numbers else []
        shape += [f"{len(self.footer)} footer rows"] if self.footer else []
        layout = f"hints {self.format_options()}" if self.hints else "layout detected"
        return f"{where}, {locale}, {', '.join(shape)}, {layout}"

    def features(self) -> list[str]:
        """What the example exercises, for Hypothesis' statistics."""
        cells = [c for col in self.columns for c in col.cells]
        out = [self.kind if self.kind == "xlsx" else f"csv {self.encoding}", f"locale {self.locale}"]
        out += ["locale declared" if self.declare_locale else "locale detected"]
        out += ["layout hints" if self.hints else "layout detected", f"{self.header_rows}-row header"]
        out += ["titles"] * bool(self.titles) + ["footer"] * bool(self.footer)
        out += ["column numbers"] * bool(self.column_numbers)
        out += ["xlsx titles and single columns unmerged"] * (self.kind == "xlsx" and not self.merged_singles)
        out += [f"{c.kind} column" for c in self.columns]
        out += ["native number"] * any(isinstance(c.written, int | float) for c in cells)
        out += ["native date"] * any(isinstance(c.written, date) for c in cells)
        out += ["text number in xlsx"] * any(
            c.kind in NUMBER_KINDS
            and any(isinstance(x.written, str) and x.expected is not None for x in c.cells)
            for c in self.columns
            if self.kind == "xlsx"
        )
        return sorted(set(out))

    # --- writing --------------------------------------------------------------------------------
    def head_lines(self) -> list[list[Any]]:
        width = len(self.columns)
        lines: list[list[Any]] = [[t] + [None] * (width - 1) for t in self.titles]
        lines += [[None] * width] if self.blank_after_titles else []
        if self.header_rows == 1:
            lines.append([c.label for c in self.columns])
        else:
            top: list[Any] = []
            for i, c in enumerate(self.columns):
                first = c.group is None or i == 0 or self.columns[i - 1].group != c.group
                top.append(c.label if c.group is None else c.group if first else None)
            lines += [top, [c.label if c.group else None for c in self.columns]]
        if self.column_numbers:
            numbers = range(1, width + 1)
            lines.append([f"({n})" if self.column_numbers == "parens" else n for n in numbers])
        return lines

    def write(self, path: Path) -> Path:
        if self.kind == "xlsx":
            self._write_xlsx(path)
        else:
            path.write_bytes(self.csv_bytes())
        return path

    def _write_xlsx(self, path: Path) -> None:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Báo cáo"
        width = len(self.columns)
        head = self.head_lines()
        for line in head:
            ws.append(line)
        for r in range(1, len(self.titles) + 1):
            if width > 1 and self.merged_singles:
                ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        top = len(self.titles) + self.blank_after_titles + 1
        if self.header_rows == 2:
            for i, c in enumerate(self.columns, start=1):
                if c.group is None:
                    if self.merged_singles:
                        ws.merge_cells(start_row=top, start_column=i, end_row=top + 1, end_column=i)
                elif i == 1 or self.columns[i - 2].group != c.group:
                    end = i
                    while end < width and self.columns[end].group == c.group:
                        end += 1
                    ws.merge_cells(start_row=top, start_column=i, end_row=top, end_column=end)
        for r in range(self.rows):
            ws.append([c.cells[r].written for c in self.columns])
            for i, c in enumerate(self.columns, start=1):
                if c.cells[r].number_format:
                    ws.cell(ws.max_row, i).number_format = c.cells[r].number_format
        for extra in self.footer:
            ws.append(list(extra))
        wb.save(path)

    def title_like_header(self) -> bool:
        """Is the header's first line shaped like a title? One label: a merge over every column,
        which no reader can tell from a title."""
        top = self.head_lines()[len(self.titles) + self.blank_after_titles]
        return len([v for v in top if v not in (None, "")]) == 1

    def delimiter_in_doubt(self) -> bool:
        """Would the documented sniffing miss our delimiter? It takes, among , ; TAB |, the one whose
        most common field count above 1 holds the most records (then more fields, then ';'). A
        file whose few rows split as often on another character is in doubt for any reader."""
        text = self.csv_text()
        best, best_score = ",", (0.0, 0, 0, 0)
        for delimiter in ",;\t|":
            records = csv.reader(io.StringIO(text), delimiter=delimiter)
            counts = [len(fields) for fields in records if any(f.strip() for f in fields)][:50]
            split = [c for c in counts if c > 1]
            if not split:
                continue
            width, seen = Counter(split).most_common(1)[0]
            score = (seen / len(counts), seen, width, int(delimiter == ";"))
            if score > best_score:
                best, best_score = delimiter, score
        return best != self.delimiter

    def csv_bytes(self) -> bytes:
        text = self.csv_text()
        return encode_cp1258(text) if self.encoding == "cp1258" else text.encode(self.encoding)

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator=self.newline)
        width = len(self.columns)
        report = len(self.head_lines()) - self.header_rows - bool(self.column_numbers)

        def text(values: list[Any], pad: bool = True) -> list[str]:
            fields = ["" if v is None else str(v) for v in values]
            while not pad and fields and not fields[-1]:
                fields.pop()
            return fields  # [] is an empty line

        for i, line in enumerate(self.head_lines()):
            writer.writerow(text(line, self.padded or i >= report))
        for r in range(self.rows):
            writer.writerow(text([c.cells[r].written for c in self.columns]))
        for extra in self.footer:
            writer.writerow(text(list(extra) + [None] * (width - len(extra)), self.padded))
        return out.getvalue()


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as Windows writes it: a base letter (Â, Ơ, Ư... precomposed) + a tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(m for m in parts if m in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in tones))
        out += (base + tones).encode("cp1258")  # a character outside Vietnamese: an error here
    return bytes(out)


# --- numbers as agencies write them ---------------------------------------------------------------


def number_text(value: Decimal, locale: str, grouped: bool, parens: bool = False) -> str:
    """``value`` in ``locale`` with its exact digits: 1234567.5 -> "1.234.567,5" (vi, grouped)."""
    thousands, decimal = SEPARATORS[locale]
    whole, _, frac = format(abs(value), "f").partition(".")
    if grouped:
        whole = f"{int(whole):,}".replace(",", thousands)
    body = whole + (decimal + frac if frac else "")
    if value < 0:
        return f"({body})" if parens else f"-{body}"
    return body


def reads(text: str, locale: str) -> Decimal | None:
    """What ``text`` means as a number written in ``locale`` (strict form), or None."""
    thousands, decimal = (re.escape(s) for s in SEPARATORS[locale])
    inner = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    sign = "-" if inner != text else ""
    m = re.fullmatch(rf"([+-]?)(\d{{1,3}}(?:{thousands}\d{{3}})+|\d+)(?:{decimal}(\d+))?", inner)
    if m is None:
        return None
    whole = m.group(2).replace(SEPARATORS[locale][0], "")
    return Decimal(f"{sign}{m.group(1)}{whole}.{m.group(3) or '0'}")


def with_en_evidence(text: str) -> str:
    """The same number with a fraction that is not three digits: "10.969" -> "10.9690"."""
    if text.startswith("("):
        return f"({with_en_evidence(text[1:-1])})"
    return text + "0" if "." in text else text + ".0"
