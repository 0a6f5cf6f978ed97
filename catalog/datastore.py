"""Load a published version's rows into the CKAN DataStore (typed columns, data dictionary `info`).

Every row goes in (`publication.datastore_rows` may cap it; the Parquet and CSV files always hold
every row), one of two ways:

- with a DataStore write URL (`ckan.datastore_write_url`, the PostgreSQL role CKAN's
  `ckan.datastore.write_url` uses; the local stack sets it): Arrow batches streamed by binary COPY
  into a staging table that replaces the live one in one short transaction (catalog.datastore_swap).
  Readers never see a half-loaded table. About a million rows in seconds.
- otherwise (a production CKAN without database access): `datastore_upsert` (method insert)
  batch by batch without record counting, and the count on the last batch. About 6,000 rows/s
  on the local stack (parallel requests do not help, and CKAN 2.12's record-count job makes
  concurrent upserts fail); readers see the table fill up.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog.client import CatalogClient, NotFoundError
from catalog.datastore_swap import swap_load
from citydata.storage.lake import Lake
from citydata.storage.published import part_keys
from cleaning.admin_units import admin_dictionary

BATCH_ROWS = 50_000


def _jsonable(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """Dates and timestamps as ISO text, decimals as text, NaN as null: JSON the DataStore accepts."""
    return _portable(batch).to_pylist()


def _portable(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Columns the DataStore takes as they are: NaN as null, dates/decimals/others as ISO text,
    nested values as JSON text."""
    arrays = []
    for col in batch.columns:
        t = col.type
        if pa.types.is_floating(t):
            col = pc.if_else(pc.is_nan(col), pa.scalar(None, t), col)
        elif pa.types.is_temporal(t) or pa.types.is_decimal(t):
            col = pc.cast(col, pa.string())
        elif pa.types.is_nested(t):
            col = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                            for v in col.to_pylist()], pa.string())  # fmt: skip
        elif not (pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_string(t)):
            col = pc.cast(col, pa.string()) if not pa.types.is_large_string(t) else col
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def iter_rows(
    lake: Lake, manifest: dict[str, Any], limit: int, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """The first `limit` rows of a version, in batches, part by part."""
    remaining = limit
    for key in part_keys(manifest):
        if remaining <= 0:
            return
        reader = pq.ParquetFile(io.BytesIO(lake.get_bytes(key)))
        for batch in reader.iter_batches(batch_size=batch_rows):
            if remaining <= 0:
                return
            if batch.num_rows > remaining:
                batch = batch.slice(0, remaining)
            remaining -= batch.num_rows
            yield batch


def load_datastore(
    client: CatalogClient,
    resource_id: str,
    fields: list[dict[str, Any]],
    batches: Iterator[pa.RecordBatch],
    *,
    primary_key: list[str] | None = None,
    write_url: str | None = None,
) -> int:
    """Replace the resource's DataStore table with these rows; returns the rows loaded.

    `write_url`: a PostgreSQL URL of the DataStore database's write role; the rows are COPYed
    into a staging table swapped in atomically (catalog.datastore_swap). Without it, the
    action API (readers see the table fill up).
    """
    fields = described_fields(fields)
    if write_url:
        if datastore_state(client, resource_id) is None:
            _create(client, resource_id, fields, primary_key)
        return swap_load(write_url, resource_id, fields, batches, primary_key=primary_key)
    try:
        client.call("datastore_delete", resource_id=resource_id, force=True)
    except NotFoundError:
        pass
    _create(client, resource_id, fields, primary_key)
    loaded = 0
    pending: list[dict[str, Any]] | None = None
    for batch in batches:
        records = _jsonable(batch)
        if pending:
            client.call("datastore_upsert", resource_id=resource_id, force=True, method="insert",
                        records=pending, calculate_record_count=False)  # fmt: skip
        pending = records
        loaded += len(records)
    if pending:  # the last batch also computes the record count shown by CKAN
        client.call("datastore_upsert", resource_id=resource_id, force=True, method="insert",
                    records=pending, calculate_record_count=True)  # fmt: skip
    return loaded


def described_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fields whose data dictionary `info` names the columns cleaning added (admin units) in
    Vietnamese when the version's dictionary does not (versions built before it did)."""
    out = []
    for f in fields:
        info = dict(f.get("info") or {})
        found = admin_dictionary(str(f.get("id")))
        if found and info.get("label") in (None, "", f.get("id")):
            info["label"] = found[0]
            info["notes"] = info.get("notes") or found[1]
            f = {**f, "info": info}
        out.append(f)
    return out


def _create(
    client: CatalogClient, resource_id: str, fields: list[dict[str, Any]], primary_key: list[str] | None
) -> None:
    """An empty table made by CKAN (its shape, its `datastore_active` flag)."""
    create: dict[str, Any] = {"resource_id": resource_id, "force": True, "fields": fields}
    if primary_key:
        create["primary_key"] = primary_key
    client.call("datastore_create", **create)


def datastore_state(client: CatalogClient, resource_id: str) -> dict[str, Any] | None:
    """Rows and field ids of a DataStore table, or None when there is none."""
    try:
        result = client.call("datastore_search", resource_id=resource_id, limit=0)
    except NotFoundError:
        return None
    return {"total": result.get("total"), "fields": [f["id"] for f in result.get("fields", [])]}
