"""How to read a dataset's files: the spec's `format:` section (connectors/formats/ reads it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FormatOptions(BaseModel):
    """How to read a file; every field optional (sniffed when absent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["csv", "tsv", "xlsx", "xls", "json", "jsonl", "geojson", "parquet"] | None = Field(
        None, description="File format; detected from the name, media type and content when absent."
    )
    encoding: str | None = Field(
        None, description="Text encoding, e.g. windows-1258, tcvn3, vni; detected when absent."
    )
    delimiter: str | None = Field(None, description="CSV field separator; detected when absent.")
    quotechar: str | None = Field(None, description='CSV quote character (default: ").')
    # None: detected from the first rows (see connectors/formats/layout.py); a value is used as given
    header_rows: int | None = Field(
        None, ge=0, le=10, description="Header lines (several: merged cells, joined); detected when absent."
    )
    skip_rows: int | None = Field(
        None, ge=0, description="Lines before the header (titles, logos); detected when absent."
    )
    footer_rows: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="Last non-empty rows that are not data (0: none); detected when absent.",
    )
    sheet: str | int | None = Field(
        None, description="XLSX/XLS: sheet name or index; default: every sheet with data."
    )
    records_path: str | None = Field(
        None, description="JSON: dotted path of the record list, e.g. data.items."
    )
    batch_rows: int = Field(200_000, ge=1_000, description="Rows per batch read (memory bound).")
