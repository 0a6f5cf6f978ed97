"""The interface every file-format reader implements: raw bytes in, Arrow batches out.

Readers never drop or pad a bad row silently: a row that cannot be parsed (too many or too
few fields, undecodable bytes) goes to `ReadBatch.rejected` with its line number and reason.
Large inputs are read in batches, so memory stays bounded whatever the file size.

Adding a format means adding one module to `connectors/formats/` with a `FormatReader`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from citydata.spec.formats import FormatOptions
from connectors.base import RawObject

__all__ = ["FormatOptions"]  # defined with the spec, which names it; readers get it from here


class CellKind(IntEnum):
    """How a cell's value reached the reader; cleaning parses only what arrived as text.

    A reader renders every cell as a string (``ReadBatch.table``); for columns holding any cell
    that is not ``TEXT`` it also gives each cell's kind (``ReadBatch.kinds``), so that a value the
    source typed is never re-read through a locale: ``10.969`` from a numeric Excel cell is the
    number 10.969, whatever the spec's locale says about the text ``10.969``.
    """

    TEXT = 0  # characters of a format without types (CSV, a text cell of a sheet): locale rules apply
    STRING = 1  # a string the source declared as such (JSON string, SQL text): never read as a number
    NUMBER = 2  # a native number, rendered plain and exact: "-1234.5", no grouping, no exponent
    BOOLEAN = 3  # a native boolean: "TRUE" / "FALSE"
    DATE = 4  # a native date: ISO "2025-07-01"
    DATETIME = 5  # a native date and time: ISO "2025-07-01T08:30:00"
    OTHER = 6  # time, duration, error value, JSON list or object: kept as text, never parsed


# A source may declare the kind of its columns (JSON {column: kind}) in this header of a raw object,
# for what its file format cannot say: the SQL source's dates and decimals travel as JSON strings.
COLUMN_KINDS_HEADER = "x-column-kinds"
DECLARED_KINDS = {
    "number": CellKind.NUMBER,
    "boolean": CellKind.BOOLEAN,
    "date": CellKind.DATE,
    "datetime": CellKind.DATETIME,
    "string": CellKind.STRING,
    "other": CellKind.OTHER,
}


@dataclass(frozen=True)
class RejectedRow:
    """A row the reader could not parse; `line` is 1-based in the file as a person sees it."""

    line: int
    reason: str
    raw: str | None = None
    sheet: str | None = None


@dataclass
class ReadBatch:
    table: pa.Table  # strings as read; typing and cleaning come after
    first_line: int  # file line of the batch's first data row (for issue row numbers)
    rejected: list[RejectedRow] = field(default_factory=list)
    sheet: str | None = None
    lines: np.ndarray | None = None  # the line of every row, when they are not first_line + i
    # int8 CellKind per cell, for the columns holding a cell that is not TEXT (absent: all TEXT)
    kinds: dict[str, pa.Array] = field(default_factory=dict)

    def line_numbers(self) -> np.ndarray:
        """The file line of every row of ``table``."""
        if self.lines is not None:
            return self.lines
        return np.arange(self.first_line, self.first_line + self.table.num_rows, dtype=np.int64)


@dataclass
class ReadInfo:
    """What the reader learned about the file (reported in metadata and the data dictionary)."""

    encoding: str | None = None
    delimiter: str | None = None
    header_labels: list[str] = field(default_factory=list)  # original headers, in column order
    layout: dict[str, Any] = field(default_factory=dict)  # what was detected: skip_rows, header_rows...
    skipped: list[SkippedRow] = field(default_factory=list)  # titles, footers: not data, not rejected


@dataclass(frozen=True)
class SkippedRow:
    """A row that is part of the report around the table (title, column numbers, footer, total)."""

    line: int
    kind: str  # title | column_numbers | footer | total
    text: str
    sheet: str | None = None


class FormatReader(ABC):
    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    media_types: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        """Yield batches; fill `info` as soon as the header is known. Raise FormatError when the
        file as a whole is unreadable (empty, binary junk, no header)."""


class FormatError(ValueError):
    """The whole file is unreadable; the message names the file and what is wrong."""
