"""DataStore dumps (`/datastore/dump/<id>`, CSV and TSV, and the preview's filtered download, which
uses them) with spreadsheet formulas neutralised, like the platform's own CSV exports.

CKAN writes the rows PostgreSQL formats as CSV text straight into the download: a text cell such
as `=HYPERLINK(...)` or `-1+1` is evaluated when the file is opened in Excel. Here the dump's
CSV/TSV writers are wrapped: each chunk of rows is re-read with the csv module and every text-typed
cell a spreadsheet would evaluate gets a leading apostrophe. Numbers and other types are left as
they are. The rule is the platform's (cleaning/text.py `needs_formula_escape`), repeated here
because CKAN runs in its own environment.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

TRIGGER = re.compile(r"^(?:[\t\r]|[\n ]*[=+\-@])")
PLAIN_NUMBER = re.compile(r"^ *[+\-]?[0-9][0-9 .,]*(?:[eE][+\-]?[0-9]+)? *$")


def escape_cell(value: str) -> str:
    """`value` with a leading apostrophe when a spreadsheet would evaluate it."""
    return "'" + value if TRIGGER.match(value) and not PLAIN_NUMBER.match(value) else value


class EscapingWriter:
    """Wraps CKAN's TextWriter: escapes the text columns of each chunk of rows, then writes it."""

    def __init__(self, inner: Any, text_columns: list[int], dialect: str) -> None:
        self.inner = inner
        self.text_columns = text_columns
        self.dialect = dialect

    def write_records(self, records: Any) -> bytes:
        if not self.text_columns or not isinstance(records, str) or not records:
            return bytes(self.inner.write_records(records))
        out = io.StringIO()
        writer = csv.writer(out, dialect=self.dialect)
        for row in csv.reader(io.StringIO(records, newline=""), dialect=self.dialect):
            for i in self.text_columns:
                if i < len(row):
                    row[i] = escape_cell(row[i])
            writer.writerow(row)
        return bytes(self.inner.write_records(out.getvalue()))

    def end_file(self) -> bytes:
        return bytes(self.inner.end_file()) if hasattr(self.inner, "end_file") else b""


def escaping(factory: Callable[..., Any], dialect: str) -> Callable[..., Any]:
    """A writer factory like CKAN's `csv_writer` / `tsv_writer` whose rows are escaped."""

    @contextmanager
    def wrapped(fields: list[dict[str, Any]], bom: bool = False) -> Iterator[EscapingWriter]:
        text_columns = [i for i, f in enumerate(fields) if f.get("type") == "text"]
        with factory(fields, bom=bom) as inner:
            yield EscapingWriter(inner, text_columns, dialect)

    return wrapped


def install() -> None:
    """Make the DataStore's dump view use the escaping writers (it imported the factories by name)."""
    from ckanext.datastore import blueprint, writer

    if getattr(blueprint.csv_writer, "__wrapped_by_citydata__", False):
        return
    for name, dialect in (("csv_writer", "excel"), ("tsv_writer", "excel-tab")):
        wrapped = escaping(getattr(writer, name), dialect)
        wrapped.__wrapped_by_citydata__ = True  # type: ignore[attr-defined]
        setattr(blueprint, name, wrapped)
