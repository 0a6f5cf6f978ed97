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
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from connectors.base import RawObject


class FormatOptions(BaseModel):
    """How to read a file; every field optional (sniffed when absent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["csv", "tsv", "xlsx", "xls", "json", "jsonl", "geojson"] | None = None
    encoding: str | None = None  # e.g. "windows-1258", "tcvn3", "vni"; detected when absent
    delimiter: str | None = None
    quotechar: str | None = None
    header_rows: int = Field(1, ge=0, le=10)  # several header lines (merged cells) are joined
    skip_rows: int = Field(0, ge=0)  # lines before the header (titles, logos)
    sheet: str | int | None = None  # XLSX: sheet name or index; None = every sheet with data
    records_path: str | None = None  # JSON: dotted path to the list of records, e.g. "data.items"
    batch_rows: int = Field(200_000, ge=1_000)


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


class FormatReader(ABC):
    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    media_types: ClassVar[tuple[str, ...]] = ()
    # Readers that render numbers themselves (Excel cells, JSON numbers) write them as "1234.5":
    # cleaning tries that locale first, then the spec's locale (numbers typed as text in a sheet).
    number_locale: ClassVar[Literal["vi", "en"] | None] = None

    @abstractmethod
    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        """Yield batches; fill `info` as soon as the header is known. Raise FormatError when the
        file as a whole is unreadable (empty, binary junk, no header)."""


class FormatError(ValueError):
    """The whole file is unreadable; the message names the file and what is wrong."""
