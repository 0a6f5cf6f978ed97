"""Apache Parquet files: typed columns pass through as they are, nothing is re-read as text.

Numbers, booleans, dates and timestamps keep the file's own Arrow types (cleaning never parses
them); text columns are strings the source declared (``CellKind.STRING``: never taken for numbers,
dates may be recognised in them). Nested columns (lists, structs, maps) become compact JSON text,
binary columns base64 text, times and durations their text. Row ``i`` of the file is line
``i + 1``. The file is read in batches of ``batch_rows`` rows, so memory stays bounded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.base import RawObject
from connectors.formats.base import CellKind, FormatError, FormatOptions, FormatReader, ReadBatch, ReadInfo

__all__ = ["ParquetReader"]

PARQUET_MAGIC = b"PAR1"


def _plain(column: pa.Array) -> pa.Array:
    """A column in a type cleaning takes as is: primitive types kept, the others as text."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _plain(column.dictionary_decode())
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return column.cast(pa.string())
    if (
        pa.types.is_string(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_date(kind)
        or pa.types.is_timestamp(kind)
    ):
        return column
    values = column.to_pylist()
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        texts = [None if v is None else base64.b64encode(v).decode("ascii") for v in values]
    elif pa.types.is_time(kind) or pa.types.is_duration(kind):
        texts = [None if v is None else str(v) for v in values]
    else:
        texts = [
            None if v is None else json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)
            for v in values
        ]
    return pa.array(texts, pa.string())


class ParquetReader(FormatReader):
    name = "parquet"
    extensions = (".parquet", ".pq")
    media_types = ("application/vnd.apache.parquet", "application/x-parquet")

    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        with raw.open() as fh:
            if fh.read(4) != PARQUET_MAGIC:
                raise FormatError(f"{raw.name}: not a Parquet file (no PAR1 signature)")
            fh.seek(0)
            try:
                parquet = pq.ParquetFile(fh)
            except (pa.ArrowInvalid, OSError) as exc:
                raise FormatError(f"{raw.name}: unreadable Parquet file ({exc})") from None
            names = parquet.schema_arrow.names
            info.header_labels = list(names)
            line = 1
            emitted = False
            try:
                for record_batch in parquet.iter_batches(batch_size=options.batch_rows):
                    columns: list[Any] = [_plain(c) for c in record_batch.columns]
                    table = pa.Table.from_arrays(columns, names=names)
                    n = table.num_rows
                    # text columns are strings the file declares: never taken for numbers
                    declared = pa.array(np.full(n, CellKind.STRING, dtype=np.int8))
                    kinds = {
                        name: declared
                        for name, c in zip(names, columns, strict=True)
                        if pa.types.is_string(c.type)
                    }
                    yield ReadBatch(table=table, first_line=line, kinds=kinds)
                    line += record_batch.num_rows
                    emitted = True
            except (pa.ArrowInvalid, OSError) as exc:
                raise FormatError(f"{raw.name}: unreadable Parquet data near row {line} ({exc})") from None
            if not emitted:
                empty = [_plain(pa.array([], f.type)) for f in parquet.schema_arrow]
                yield ReadBatch(table=pa.Table.from_arrays(empty, names=names), first_line=1)
