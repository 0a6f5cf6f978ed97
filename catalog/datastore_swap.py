"""Bulk-load a DataStore table: Arrow batches streamed into a new table, swapped in atomically.

Readers of the DataStore (datastore_search, the preview, the SQL endpoint) never see a half-loaded
table: every row goes by binary COPY (the ADBC PostgreSQL driver) into an unlogged raw table, from
which one CREATE TABLE AS writes the staging table in a single pass, exact numerics cast and the
full-text column computed by PostgreSQL's parallel workers (no rewrite of the table for the cast,
no UPDATE of every row for the full text: each was a second full copy of the table); the
primary-key and full-text indexes are built on the staging table after that; then one short
transaction drops the live table and renames the staging table and its indexes to the names CKAN
gives them. Until that commit, readers see the previous version whole.

CKAN owns the table's shape: it is created by `datastore_create` the first time (which also sets
the resource's `datastore_active` flag); the staging table repeats that shape (`_id` serial key,
`_full_text` tsvector with CKAN's `zfulltext` trigger, the data dictionary as column comments in
CKAN's format, its cached row count in `_table_stats`), so CKAN's own actions keep working on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# PostgreSQL type of each DataStore field type, and the Arrow type a binary COPY needs for it.
_ARROW_FOR: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int8": pa.int64(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "time": pa.time64("us"),
}


def ident(name: str) -> str:
    """A quoted PostgreSQL identifier."""
    return '"' + name.replace('"', '""').replace("\0", "") + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''").replace("\0", "") + "'"


def ckan_index_name(resource_id: str, fields_sql: str) -> str:
    """The name CKAN gives an index (ckanext.datastore.backend.postgres._generate_index_name)."""
    return hashlib.sha1((resource_id + fields_sql).encode("utf-8")).hexdigest()  # noqa: S324 - a name


def column_comment(info: dict[str, Any]) -> str:
    """The data dictionary entry as CKAN stores it: a column comment ' {"_info": {...}}'."""
    return " " + json.dumps({"_info": info}, ensure_ascii=False, separators=(",", ":"))


def copy_batch(batch: pa.RecordBatch, fields: list[dict[str, Any]]) -> pa.RecordBatch:
    """The batch with each column in the Arrow type its DataStore column takes by binary COPY.

    NaN becomes null (the DataStore API answers in JSON, which has no NaN); nested values become
    JSON text; numeric columns travel as text, which PostgreSQL casts exactly (no float rounding).
    """
    arrays = []
    for spec, col in zip(fields, batch.columns, strict=True):
        kind, t = spec["type"], col.type
        if pa.types.is_dictionary(t):
            col, t = col.dictionary_decode(), t.value_type
        if pa.types.is_floating(t):
            col = pc.if_else(pc.is_nan(col), pa.scalar(None, t), col)
        if kind == "text" and pa.types.is_nested(t):
            col = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                            for v in col.to_pylist()], pa.string())  # fmt: skip
        elif kind in ("text", "numeric"):
            col = pc.cast(col, pa.large_string() if pa.types.is_large_string(t) else pa.string())
        elif kind in _ARROW_FOR and col.type != _ARROW_FOR[kind]:
            col = pc.cast(col, _ARROW_FOR[kind])
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=[f["id"] for f in fields])


def _reader(
    fields: list[dict[str, Any]], batches: Iterator[pa.RecordBatch], counter: list[int]
) -> pa.RecordBatchReader:
    first: pa.RecordBatch | None = None
    rest = iter(batches)
    for batch in rest:
        first = copy_batch(batch, fields)
        break
    if first is None:
        return pa.RecordBatchReader.from_batches(pa.schema([]), iter(()))

    def stream() -> Iterator[pa.RecordBatch]:
        assert first is not None
        counter[0] += first.num_rows
        yield first
        for batch in rest:
            out = copy_batch(batch, fields).cast(first.schema)
            counter[0] += out.num_rows
            yield out

    return pa.RecordBatchReader.from_batches(first.schema, stream())


# The full-text index: GiST, as CKAN's default (`ckan.datastore.default_fts_index_method`). Measured
# on 1,000,000 rows of benchmarks.datastore_load (2 cores): GiST 16.1 s, GIN 16.8 s, GIN with
# maintenance_work_mem 512MB 21.9 s; so CKAN's choice stays.
FTS_INDEX_METHOD = "gist"


def _column_sql(field: dict[str, Any]) -> str:
    # numeric columns are COPYed as text into a text column of the staging table and cast once.
    return f"{ident(field['id'])} {'text' if field['type'] == 'numeric' else field['type']}"


def swap_load(
    write_url: str,
    resource_id: str,
    fields: list[dict[str, Any]],
    batches: Iterator[pa.RecordBatch],
    *,
    primary_key: list[str] | None = None,
    fts_method: str = FTS_INDEX_METHOD,
) -> int:
    """Load the batches into a staging table and swap it in for the resource's table; returns rows.

    The resource's table must exist (created by `datastore_create`). Any failure before the swap
    rolls back: the live table stays as it was and the staging table is gone.
    """
    import adbc_driver_postgresql.dbapi as adbc

    counter = [0]
    with adbc.connect(_libpq_url(write_url)) as conn:
        cur = conn.cursor()
        staging = _Staging(resource_id, fields, primary_key or [], fts_method)
        for sql in staging.create():
            cur.execute(sql)
        cur.adbc_ingest(staging.raw_name, _reader(fields, batches, counter), mode="append")
        for sql in [*staging.finish(), *staging.swap()]:
            cur.execute(sql)
        conn.commit()
        cur.execute(f"ANALYZE {ident(resource_id)}")  # the planner's statistics
        cur.execute(f"SELECT update_cached_table_row_count({_literal(resource_id)})")  # CKAN's total
        cur.fetchall()
        conn.commit()
    return counter[0]


class _Staging:
    """The SQL that builds a resource's staging table and swaps it in."""

    def __init__(self, resource_id: str, fields: list[dict[str, Any]], key: list[str], fts: str) -> None:
        self.resource_id, self.fields, self.key, self.fts = resource_id, fields, key, fts
        self.name = f"_citydata_load_{resource_id}"[:63]  # '_' first: CKAN's trigger migration skips it
        self.table = ident(self.name)
        self.raw_name = f"_citydata_raw_{resource_id}"[:63]  # what the COPY fills
        self.sequence = ident(self.name + "__id_seq")  # `_id`'s, renamed with the table

    def create(self) -> list[str]:
        columns = ", ".join(
            [
                f"_id integer NOT NULL DEFAULT nextval('{self.sequence}')",
                *(_column_sql(f) for f in self.fields),
            ]
        )
        raw = ident(self.raw_name)
        return [
            f"DROP TABLE IF EXISTS {self.table}",
            f"DROP TABLE IF EXISTS {raw}",
            f"DROP SEQUENCE IF EXISTS {self.sequence}",
            f"CREATE SEQUENCE {self.sequence} AS integer",
            # unlogged: it is dropped in this transaction, so its rows need no WAL
            f"CREATE UNLOGGED TABLE {raw} ({columns})",
        ]

    def _indexes(self) -> list[tuple[str, str, str]]:
        """(staging name, definition, CKAN's name) of the full-text and primary-key indexes."""
        fts = ident("_full_text")
        out = [(f"{self.name}_fts", f"USING {self.fts}({fts})", ckan_index_name(self.resource_id, fts))]
        if self.key:
            key = ", ".join(ident(c) for c in self.key)
            out.append((f"{self.name}_pk", f"({key})", ckan_index_name(self.resource_id, key)))
        return out

    def finish(self) -> list[str]:
        """After the COPY: the staging table in one pass (exact numerics, the full-text column, as
        CKAN's columns are ordered), the dictionary, the `_id` sequence, the indexes."""

        def value(f: dict[str, Any]) -> str:  # numerics arrive as text (_column_sql)
            return f"{ident(f['id'])}::numeric" if f["type"] == "numeric" else ident(f["id"])

        text = " || ' ' || ".join(f"coalesce({value(f)}::text, '')" for f in self.fields) or "''"
        select = [
            "_id",
            f"to_tsvector({text}) AS _full_text",
            *(f"{value(f)} AS {ident(f['id'])}" for f in self.fields),
        ]
        raw = ident(self.raw_name)
        sql = [
            f"CREATE TABLE {self.table} AS SELECT {', '.join(select)} FROM {raw}",
            f"DROP TABLE {raw}",
            f"ALTER TABLE {self.table} ALTER COLUMN _id SET DEFAULT nextval('{self.sequence}')",
            f"ALTER SEQUENCE {self.sequence} OWNED BY {self.table}._id",
        ]
        for f in self.fields:
            if isinstance(f.get("info"), dict):  # as CKAN: an empty dictionary entry is still written
                comment = _literal(column_comment(f["info"]))
                sql.append(f"COMMENT ON COLUMN {self.table}.{ident(f['id'])} IS {comment}")
        sql.append(f"ALTER TABLE {self.table} ADD CONSTRAINT {ident(self.name + '_pkey')} PRIMARY KEY (_id)")
        for temp, how, _ in self._indexes():
            unique = "UNIQUE " if temp.endswith("_pk") else ""
            sql.append(f"CREATE {unique}INDEX {ident(temp)} ON {self.table} {how}")
        return sql

    def swap(self) -> list[str]:
        """Drop the live table, give the staging table its names; readers wait only for this."""
        live, rid = ident(self.resource_id), self.resource_id
        return [
            f"DROP TABLE {live}",
            f"ALTER TABLE {self.table} RENAME TO {live}",
            f"ALTER SEQUENCE {ident(self.name + '__id_seq')} RENAME TO {ident(rid + '__id_seq')}",
            f"ALTER TABLE {live} RENAME CONSTRAINT {ident(self.name + '_pkey')} TO {ident(rid + '_pkey')}",
            *(f"ALTER INDEX {ident(temp)} RENAME TO {ident(final)}" for temp, _, final in self._indexes()),
            f"CREATE TRIGGER zfulltext BEFORE INSERT OR UPDATE ON {live} "
            "FOR EACH ROW EXECUTE PROCEDURE populate_full_text_trigger()",
            f"DELETE FROM _table_stats WHERE resource_id = {_literal(rid)}",
        ]


def _libpq_url(url: str) -> str:
    """A libpq URL from a SQLAlchemy-style one (postgresql+psycopg://...)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"
