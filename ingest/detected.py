"""What a clean run detected, in lines an agency can check: encoding, delimiter, header, skipped
rows, the locale of numbers written as text, the columns kept as codes.

    phuong-xa.xlsx: xlsx; sheet 'Phường xã': header rows 3-4 (detected), data from row 5,
      2 title rows and 6 footer rows skipped (detected)
    du-lieu.csv: csv, windows-1258, delimiter ';'; header line 1
    numbers written as text read as vi: dien_tich (column's own cells), so_luong (Vietnamese default)
    codes kept as text: ma_so, ma_vung
"""

from __future__ import annotations

from collections import Counter
from typing import Any

_LOCALE_SOURCES = {
    "spec": "the spec's schema.locale",
    "column": "the column's own cells",
    "dataset": "the dataset's other columns",
    "default": "Vietnamese default: no cell tells",
}


def _span(lines: list[int], word: str) -> str:
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{word} {lines[0]}"
    return f"{word}s {lines[0]}-{lines[-1]}"


def _sheet_line(sheet: str, layout: dict[str, Any], skipped: Counter[str], row_word: str) -> str:
    detected = set(layout.get("detected") or [])
    parts = []
    header = _span(list(layout.get("header_lines") or []), f"header {row_word}")
    if header:
        parts.append(header + (" (detected)" if {"header_rows", "skip_rows"} & detected else ""))
    elif layout.get("header_rows") == 0:
        parts.append("no header row")
    kinds = [
        f"{n} {kind.replace('_', ' ')} row{'s' if n != 1 else ''}" for kind, n in sorted(skipped.items())
    ]
    if kinds:
        parts.append(", ".join(kinds) + " skipped")
    where = f"sheet {sheet!r}: " if sheet else ""
    return f"{where}{'; '.join(parts)}" if parts else ""


def describe(result: dict[str, Any]) -> list[str]:
    """Human lines for a clean result (``CleanResult.as_dict()``)."""
    lines: list[str] = []
    for report in result.get("files", []):
        if report.get("error"):
            lines.append(f"{report['name']}: {report['error']}")
            continue
        head = [report.get("format") or "?"]
        if report.get("encoding"):
            head.append(str(report["encoding"]))
        if report.get("delimiter"):
            head.append(f"delimiter {report['delimiter']!r}")
        row_word = "row" if report.get("format") in ("xlsx", "xls") else "line"
        by_sheet: dict[str, Counter[str]] = {}
        for row in report.get("skipped", []):
            by_sheet.setdefault(row.get("sheet") or "", Counter())[row.get("kind", "other")] += 1
        sheets = []
        for sheet, layout in (report.get("layout") or {}).items():
            text = _sheet_line(sheet, layout, by_sheet.get(sheet, Counter()), row_word)
            if text:
                sheets.append(text)
        line = f"{report['name']}: {', '.join(head)}"
        if sheets:
            line += "; " + "; ".join(sheets)
        if report.get("rows_skipped", 0) > len(report.get("skipped", [])):
            line += f" ({report['rows_skipped']} rows skipped in all)"
        lines.append(line)
    by_locale: dict[tuple[str, str], list[str]] = {}
    for column in result.get("columns", []):
        if column.get("locale"):
            by_locale.setdefault((column["locale"], column.get("locale_source") or ""), []).append(
                column["name"]
            )
    for (locale, source), names in sorted(by_locale.items()):
        why = _LOCALE_SOURCES.get(source, source)
        lines.append(f"numbers written as text read as {locale} ({why}): {', '.join(names)}")
    codes = [c["name"] for c in result.get("columns", []) if c.get("identifier")]
    if codes:
        lines.append(f"codes kept as text: {', '.join(codes)}")
    return lines
