"""Shared console output: rich for people, plain lines off a terminal, JSON for scripts.

Off a terminal (a pipe, a file, a CI log) nothing is wrapped: long lines stay whole and tables
become tab-separated lines, so URLs can be clicked, copied and grepped.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console(log_path=False, soft_wrap=not sys.stdout.isatty())
err_console = Console(stderr=True, soft_wrap=not sys.stderr.isatty())
_NARROWEST = 6  # a text column is never squeezed below this to make room for a URL


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _plain(cell: Any) -> str:
    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(cell).plain if isinstance(cell, str) else str(cell)


def table_lines(table: Table) -> list[str]:
    """The table as tab-separated lines: its title, a header line, then one line per row."""
    headers = [_plain(column.header) for column in table.columns]
    cells = [[_plain(cell).replace("\n", " ") for cell in column.cells] for column in table.columns]
    lines = [_plain(table.title)] if table.title else []
    lines += ["\t".join(headers)] if table.show_header else []
    lines += ["\t".join(row) for row in zip(*cells, strict=True)]
    return lines


def print_table(table: Table, out: Console = console) -> None:
    """A table for people on a terminal, its URLs kept on one line; tab-separated lines otherwise."""
    if not out.is_terminal:
        for line in table_lines(table):
            out.file.write(line + "\n")
        return
    needed = 1
    for column in table.columns:
        texts = [_plain(cell) for cell in column.cells]
        if any("://" in t for t in texts):  # a URL: never wrapped, the table grows instead
            column.no_wrap = True
            column.min_width = max(len(t) for t in texts)
        else:
            column.overflow = "fold"
            column.min_width = min(max([len(_plain(column.header)), *map(len, texts)]), _NARROWEST)
        needed += (column.min_width or 0) + 3
    out.print(table, width=max(out.width, needed), crop=False)
