"""Content hashes: of files (sha256 of the bytes), of tables (row content, whatever the file
layout), and of JSON-able values (canonical JSON). Hashes are written `sha256:<hex>`.

A table fingerprint hashes the schema (column names and Arrow types) and, row by row, the
values (a 64-bit hash per row combining each column's value hash and null-ness, fed in order to
sha256): the same rows in the same order give the same fingerprint however the Parquet file was
chunked, compressed or written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pandas.util import hash_array

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: equal values give equal bytes."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def value_hash(value: Any) -> str:
    return sha256_bytes(canonical_json(value))


def schema_signature(schema: pa.Schema) -> list[list[str]]:
    """Column names and Arrow types, without Parquet/pandas metadata."""
    return [[f.name, str(f.type)] for f in schema]


_NULL = np.uint64(0x9E3779B97F4A7C15)
_MULT = np.uint64(1_000_003)


def _values(col: pa.Array) -> np.ndarray:
    """A numpy array whose per-element hash does not depend on the batch (nulls filled)."""
    t = col.type
    if pa.types.is_boolean(t):
        return np.asarray(pc.fill_null(col, False).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_integer(t):
        return np.asarray(pc.fill_null(col, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_floating(t):
        values = np.asarray(pc.fill_null(col, 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        return np.where(np.isnan(values), np.nan, values)  # one NaN bit pattern
    if pa.types.is_date32(t) or pa.types.is_time32(t):
        return np.asarray(
            pc.fill_null(col.view(pa.int32()), 0).to_numpy(zero_copy_only=False), dtype=np.int64
        )
    if pa.types.is_timestamp(t) or pa.types.is_date64(t) or pa.types.is_time64(t) or pa.types.is_duration(t):
        return np.asarray(
            pc.fill_null(col.view(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64
        )
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        col = pc.cast(col, pa.string()) if not pa.types.is_nested(t) else _json_strings(col)
    return np.asarray(pc.fill_null(col, "").to_numpy(zero_copy_only=False), dtype=object)


def _json_strings(col: pa.Array) -> pa.Array:
    return pa.array(
        [None if v is None else json.dumps(v, sort_keys=True, default=str) for v in col.to_pylist()]
    )


def row_hashes(batch: pa.RecordBatch | pa.Table) -> np.ndarray:
    """One uint64 per row, from every column's value (and null-ness), independent of chunking."""
    acc = np.full(batch.num_rows, np.uint64(len(batch.schema)), dtype=np.uint64)
    for column in batch.columns:
        col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        hashed = hash_array(_values(col), categorize=False).astype(np.uint64, copy=False)
        if col.null_count:
            hashed = np.where(np.asarray(col.is_null().to_numpy(zero_copy_only=False)), _NULL, hashed)
        acc = (acc * _MULT) ^ hashed
    return acc


class TableFingerprint:
    """Incremental fingerprint of a table's rows: feed batches in order, then `hexdigest()`."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.rows = 0
        self._digest = hashlib.sha256(canonical_json(schema_signature(schema)))

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        if batch.schema.remove_metadata() != self.schema.remove_metadata():
            raise ValueError("batch schema differs from the fingerprint's schema")
        self._digest.update(row_hashes(batch).astype("<u8", copy=False).tobytes())
        self.rows += batch.num_rows

    def hexdigest(self) -> str:
        return "sha256:" + self._digest.copy().hexdigest()


def table_fingerprint(table: pa.Table, batch_rows: int = 65_536) -> str:
    fp = TableFingerprint(table.schema)
    for batch in table.to_batches(max_chunksize=batch_rows):
        fp.update(batch)
    return fp.hexdigest()
