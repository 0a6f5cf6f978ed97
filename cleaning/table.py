"""One call for the usual sequence on a table: text clean-up, then numbers and dates, columns in parallel."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from cleaning.dates import parse_dates
from cleaning.issues import Issue
from cleaning.numbers import Locale, parse_numbers
from cleaning.text import DEFAULT_NULL_TOKENS, normalize_strings

__all__ = ["clean_table"]


def clean_table(
    table: pa.Table,
    numbers: Iterable[str] = (),
    dates: Iterable[str] = (),
    locale: Locale = "vi",
    day_first: bool = True,
    null_tokens: tuple[str, ...] = DEFAULT_NULL_TOKENS,
    max_workers: int | None = None,
) -> tuple[pa.Table, list[Issue]]:
    """Normalise every string column (NFC, whitespace, null tokens), then parse ``numbers`` and ``dates``.

    Columns are processed in a thread pool (Arrow kernels release the GIL). Issues are sorted by
    row, then column.
    """
    number_cols, date_cols = set(numbers), set(dates)
    unknown = (number_cols | date_cols) - set(table.column_names)
    if unknown:
        raise KeyError(f"no such columns: {sorted(unknown)}")

    def run(name: str) -> tuple[str, pa.ChunkedArray, list[Issue]]:
        column = table.column(name)
        # number and date parsers trim, normalise and null-token their own slow-path cells
        if name in number_cols:
            parsed = parse_numbers(column, locale, name, null_tokens=null_tokens)
        elif name in date_cols:
            parsed = parse_dates(column, name, day_first, null_tokens)
        else:
            parsed = normalize_strings(column, name, null_tokens)
        return name, parsed.values, list(parsed.issues)

    names = table.column_names
    with ThreadPoolExecutor(max_workers=max_workers or os.cpu_count() or 1) as pool:
        # the heaviest columns first, so the pool stays busy to the end
        order = sorted(names, key=lambda n: -table.column(n).nbytes)
        results = {name: (values, issues) for name, values, issues in pool.map(run, order)}
    all_issues: list[Issue] = []
    for name in names:
        values, issues = results[name]
        table = table.set_column(table.schema.get_field_index(name), name, values)
        all_issues.extend(issues)
    all_issues.sort(key=lambda i: (i.row, names.index(i.column)))
    return table, all_issues
