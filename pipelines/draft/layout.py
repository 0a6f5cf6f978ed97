"""The report layout the readers detected (titles, header, footer), said and, when sure, pinned.

A layout is pinned in the draft (``format.skip_rows / header_rows / footer_rows``) only when the
whole file was read (a footer is found at the end), every sheet agrees, and it is not a plain table
(one header row, no titles, no footer: detection finds that every time). Pinned values make the
next month's file read the same way; the comment says how to go back to detection.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import PurePosixPath
from typing import Any

from pipelines.draft.sample import Sample

_LAYOUT_FIELDS = ("skip_rows", "header_rows", "footer_rows")
# Title rows that are not the table's title: the issuing body, the national motto, numbers, units.
_BOILERPLATE = re.compile(
    r"^(?:uy ban nhan dan|ubnd|cong hoa xa hoi|doc lap|so\s*:|don vi|dvt|ky bao cao|bieu|\(?kem theo"
    r"|so [a-z ]*(?:gtvt|noi vu|tai chinh)|tp\.? ho chi minh, ngay)"
)
_TITLE_WORDS = re.compile(
    r"^(?:danh sach|danh muc|bao cao|thong ke|tong hop|bang|so lieu|ket qua|du lieu|ke hoach)\b"
)
_PROPER = {"hồ chí minh": "Hồ Chí Minh", "tp.": "TP.", "tp.hcm": "TP.HCM", "việt nam": "Việt Nam"}


def fold(text: str) -> str:
    """Lower case without accents: "DANH SÁCH" -> "danh sach"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def sentence_case(text: str) -> str:
    """An all-capitals title in sentence case, names of the city and country kept capitalised."""
    letters = [c for c in text if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return text
    out = text.lower()
    for low, proper in _PROPER.items():
        out = out.replace(low, proper)
    return out[:1].upper() + out[1:]


def title_from_rows(sample: Sample) -> tuple[str, str] | None:
    """(title, where it came from) from the sheet's title rows: the one that names the table."""
    cells: list[tuple[int, str]] = []
    for row in sample.info.skipped:
        if row.kind == "title":
            cells += [(row.line, c.strip()) for c in row.text.split("\t") if c.strip()]
    useful = [(line, c) for line, c in cells if not _BOILERPLATE.match(fold(c)) and len(c) >= 4]
    if not useful:
        return None
    named = [lc for lc in useful if _TITLE_WORDS.match(fold(lc[1]))]
    line, text = named[0] if named else max(useful, key=lambda lc: len(lc[1]))
    row_word = "row" if sample.format in ("xlsx", "xls") else "line"
    return sentence_case(text.rstrip(" :.")), f"title {row_word} {line}: {text!r}"


def title_from_name(name: str) -> str:
    """A readable title from a file name: "bai-giu-xe_2025.csv" -> "Bai giu xe 2025"."""
    words = re.sub(r"[-_.\s]+", " ", PurePosixPath(name).stem).strip()
    return (words[:1].upper() + words[1:]) or "Dữ liệu"


def _span(lines: list[int], word: str) -> str:
    if not lines:
        return ""
    return f"{word} {lines[0]}" if len(lines) == 1 else f"{word}s {lines[0]}-{lines[-1]}"


def describe_layout(sample: Sample) -> list[str]:
    """One line per sheet (or file): title rows, header rows, data start, footer rows."""
    row_word = "row" if sample.format in ("xlsx", "xls") else "line"
    by_sheet: dict[str, Counter[str]] = {}
    for row in sample.info.skipped:
        by_sheet.setdefault(row.sheet or "", Counter())[row.kind] += 1
    out = []
    for sheet, report in sample.info.layout.items():
        kinds = by_sheet.get(sheet, Counter())
        parts = []
        if kinds.get("title"):
            parts.append(f"{kinds['title']} title {row_word}{'s' if kinds['title'] > 1 else ''}")
        header = _span(list(report.get("header_lines") or []), f"header {row_word}")
        parts.append(header or f"no header {row_word}")
        if report.get("column_numbers_line"):
            parts.append(f"column numbers on {row_word} {report['column_numbers_line']} (skipped)")
        if not sample.complete:
            parts.append("footer not examined (only the first rows were read)")
        elif report.get("footer_rows"):
            what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()) if k in ("total", "footer"))
            parts.append(f"{report['footer_rows']} footer {row_word}s ({what})")
        else:
            parts.append("no footer")
        out.append((f"sheet {sheet!r}: " if sheet else "") + ", ".join(parts))
    return out


def layout_to_pin(sample: Sample) -> dict[str, int] | None:
    """skip_rows / header_rows / footer_rows to write in the draft, or None (left to detection)."""
    if sample.format not in ("csv", "xlsx", "xls") or not sample.complete or not sample.info.layout:
        return None
    values = {tuple(int(r.get(f) or 0) for f in _LAYOUT_FIELDS) for r in sample.info.layout.values()}
    if len(values) != 1:
        return None  # sheets laid out differently: detection per sheet does better than one value
    skip, header, footer = next(iter(values))
    numbers = any(r.get("column_numbers_line") for r in sample.info.layout.values())
    if skip == 0 and header == 1 and footer == 0 and not numbers:
        return None  # a plain table: nothing to pin
    return dict(zip(_LAYOUT_FIELDS, (skip, header, footer), strict=True))


def same_reading(first: Sample, second: Sample) -> bool:
    """Do two readings of one file give the same columns, rows and skipped rows?"""

    def skipped(s: Sample) -> list[Any]:
        return sorted((r.sheet or "", r.line) for r in s.info.skipped)

    return (
        first.info.header_labels == second.info.header_labels
        and first.rows_read == second.rows_read
        and first.table.num_rows == second.table.num_rows
        and skipped(first) == skipped(second)
    )
