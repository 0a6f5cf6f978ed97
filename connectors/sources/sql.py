"""A table, view or query in a relational database (anything SQLAlchemy speaks), as JSON Lines.

Rows are streamed with a server-side cursor (`stream_results` + `yield_per`: a named cursor on
PostgreSQL) and written to JSON Lines files in the scratch folder, `rows_per_object` rows per
object (`rows-0001.jsonl`, `rows-0002.jsonl`, ...), so memory stays bounded by `batch_size`
rows whatever the table size. Each line is one row, keys the column names in select order.

Values as JSON (`_sql_values.json_value`): NULL -> null, numbers as numbers (NaN/Infinity as
strings), Decimal as a string (exact: "1234.50"), date/time/datetime as ISO 8601, interval as
ISO 8601 duration, bytes as base64, UUID as text, JSON/array columns as JSON, anything else as its
text. JSON alone would lose some of the database's types (a Decimal and a date travel as strings),
so each object declares the kind of its columns in the `x-column-kinds` header (`number`, `date`,
`datetime`, `boolean`, `string`: what the driver returned, a column of one kind only); the JSON
Lines reader gives those cells that kind, so a numeric(10,3) is a number and a varchar code stays
text.

Safety: `url` may be `env:NAME` (read from the environment at fetch time) so passwords stay out
of specs; it never appears in errors or `source_uri` with its password. Table, schema and
column names are checked against a strict identifier pattern and quoted by SQLAlchemy (the
table is reflected, so it must exist); they are never formatted into SQL. `query` is SQL
written by the spec's author and runs as given (wrapped in a sub-select when a watermark or
order is set); on PostgreSQL the transaction is read-only.

Incremental pulls: with `watermark_column`, the state keeps the largest value seen (typed:
datetime, date, number, text) and the next run selects only rows `> watermark`; no such row
means `unchanged`. Full loads are `unchanged` when the rows are the same multiset as last time
(an order-independent content hash, so a different row order does not count as a change).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import IO, Any, Literal

import sqlalchemy as sa
from pydantic import Field, field_validator, model_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from connectors.base import (
    ENV_REF,
    Connector,
    ConnectorError,
    FetchResult,
    RawObject,
    SourceConfig,
    resolve_env,
)
from connectors.sources._sql_values import (
    KINDS_HEADER,
    ColumnKinds,
    decode_watermark,
    encode_watermark,
    json_value,
)

log = logging.getLogger(__name__)

# Letters (any script), digits, _, $, inner spaces and hyphens; no quotes, dots, semicolons.
IDENTIFIER = re.compile(r"^(?!\d)[\w$](?:[\w$ \-]{0,126}[\w$])?$")
JSONL_MEDIA_TYPE = "application/x-ndjson"
_HASH_MOD = 2**256


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(
            f"not a plain identifier: {value!r} (letters, digits, _, $, inner spaces or hyphens; "
            "give the schema under `schema:`, not as 'schema.table')"
        )
    return value


class SqlConfig(SourceConfig):
    type: Literal["sql"]
    url: str = Field(min_length=1, description="SQLAlchemy URL, or env:NAME holding it.")
    query: str | None = Field(None, description="A SELECT of the spec's author; or give `table`.")
    table: str | None = Field(None, description="Table (or view) to read; or give `query`.")
    schema_: str | None = Field(None, alias="schema", description="Database schema of `table`.")
    columns: list[str] | None = Field(None, description="With `table`: these columns only (default: all).")
    watermark_column: str | None = Field(
        None, description="Incremental: the next run selects rows above the max seen."
    )
    order_by: list[str] = Field(
        default_factory=list, description="With `table`: columns to sort the rows by."
    )
    batch_size: int = Field(10_000, ge=1, le=1_000_000, description="Rows fetched per round trip.")
    rows_per_object: int = Field(500_000, ge=1, description="Rows per JSON Lines object in the raw zone.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value.startswith("env:"):
            if not ENV_REF.match(value):
                raise ValueError("environment reference must be env:NAME (letters, digits, _)")
            return value
        try:
            make_url(value)
        except sa.exc.ArgumentError:
            raise ValueError("not a SQLAlchemy URL like postgresql://user@host/db (or env:NAME)") from None
        return value

    @field_validator("table", "schema_", "watermark_column")
    @classmethod
    def _one_identifier(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value)

    @field_validator("columns", "order_by")
    @classmethod
    def _identifiers(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_identifier(v) for v in value]

    @model_validator(mode="after")
    def _query_or_table(self) -> SqlConfig:
        if (self.query is None) == (self.table is None):
            raise ValueError("give exactly one of `query` or `table`")
        if self.query is not None:
            if not self.query.strip().rstrip(";").strip():
                raise ValueError("query is empty")
            if self.schema_ is not None or self.columns is not None:
                raise ValueError("`schema` and `columns` go with `table`, not `query`")
        return self


# --- pure helpers (unit-tested) -------------------------------------------------------------


def resolve_url(value: str) -> URL:
    """The SQLAlchemy URL, reading `env:NAME` from the environment; errors never show it."""
    match = ENV_REF.match(value)
    raw = resolve_env(value)
    where = f"environment variable {match.group(1)}" if match else "url"
    try:
        return available_driver(make_url(raw))
    except sa.exc.ArgumentError:
        raise ConnectorError(f"{where} is not a SQLAlchemy URL") from None


def available_driver(url: URL) -> URL:
    """`postgresql://` without a driver means psycopg (v3) since SQLAlchemy 2.1; when only
    psycopg2 is installed (this project's dependency), use it instead of failing."""
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        if importlib.util.find_spec("psycopg2") is not None:
            return url.set(drivername="postgresql+psycopg2")
    return url


# --- the connector ---------------------------------------------------------------------------


class _JsonlParts:
    """Rows written as JSON Lines files of at most `per_object` rows each, hashed on the way."""

    def __init__(self, workdir: Path, per_object: int, source_uri: str, headers: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir, self.per_object = workdir, per_object
        self.source_uri, self.headers = source_uri, headers
        self.objects: list[RawObject] = []
        self.count = 0
        self._multiset = 0
        self._fh: IO[bytes] | None = None
        self._digest = hashlib.sha256()
        self._size = 0
        self._rows_in_part = 0
        self._kinds = ColumnKinds()

    def write(self, row: dict[str, Any], values: tuple[Any, ...]) -> None:
        """One row: ``row`` its JSON-ready values, ``values`` what the driver returned."""
        self._kinds.add(row, values)
        if self._fh is None:
            self._fh = tempfile.NamedTemporaryFile(  # closed in _close_part()
                dir=self.workdir, prefix="pull-", suffix=".jsonl", delete=False
            )
            self._digest, self._size, self._rows_in_part = hashlib.sha256(), 0, 0
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        canonical = json.dumps(row, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        self._multiset = (self._multiset + int.from_bytes(hashlib.sha256(canonical).digest())) % _HASH_MOD
        self._fh.write(line)
        self._digest.update(line)
        self._size += len(line)
        self._rows_in_part += 1
        self.count += 1
        if self._rows_in_part >= self.per_object:
            self._close_part()

    def _close_part(self) -> None:
        if self._fh is None:
            return
        self._fh.close()
        obj = RawObject(
            name=f"rows-{len(self.objects) + 1:04d}.jsonl",
            path=Path(self._fh.name),
            source_uri=self.source_uri,
            media_type=JSONL_MEDIA_TYPE,
            headers={
                **self.headers,
                "x-row-count": str(self._rows_in_part),
                KINDS_HEADER: self._kinds.header(),
            },
        )
        self._kinds = ColumnKinds()
        obj.sha256, obj.size = self._digest.hexdigest(), self._size
        self.objects.append(obj)
        self._fh = None

    def finish(self) -> list[RawObject]:
        self._close_part()
        return self.objects

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            Path(self._fh.name).unlink(missing_ok=True)

    @property
    def content_hash(self) -> str:
        return f"{self._multiset:064x}"


class SqlConnector(Connector[SqlConfig]):
    type = "sql"
    config_model = SqlConfig

    def fetch(self, state: dict[str, Any]) -> FetchResult:
        cfg = self.config
        url = resolve_url(cfg.url)
        shown = url.render_as_string(hide_password=True)
        password = url.password if isinstance(url.password, str) else None
        what = f"{cfg.schema_ + '.' if cfg.schema_ else ''}{cfg.table}" if cfg.table else "query"
        where = f"{shown}#{what}"

        previous = None
        if cfg.watermark_column and state.get("watermark_column") == cfg.watermark_column:
            if state.get("watermark") is not None:
                previous = decode_watermark(state["watermark"])

        try:
            engine = sa.create_engine(url, poolclass=NullPool)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise ConnectorError(f"{where}: cannot use this database URL: {exc}") from None
        parts: _JsonlParts | None = None
        newest = previous
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execution_options(postgresql_readonly=True)  # before the transaction begins
                stmt, column_types = self._statement(conn, previous, where)
                stmt = stmt.execution_options(stream_results=True, yield_per=cfg.batch_size)
                result = conn.execute(stmt)
                keys = list(result.keys())
                duplicates = sorted({k for k in keys if keys.count(k) > 1})
                if duplicates:
                    raise ConnectorError(f"{where}: duplicate column names {duplicates}; alias them")
                wm_index = None
                if cfg.watermark_column:
                    if cfg.watermark_column not in keys:
                        raise ConnectorError(
                            f"{where}: watermark column {cfg.watermark_column!r} is not in the result"
                        )
                    wm_index = keys.index(cfg.watermark_column)
                headers = {"x-sql-columns": json.dumps(column_types or keys, ensure_ascii=False)}
                parts = _JsonlParts(self.context.workdir, cfg.rows_per_object, where, headers)
                for row in result:
                    parts.write({k: json_value(v) for k, v in zip(keys, row, strict=True)}, tuple(row))
                    if wm_index is not None:
                        value = row[wm_index]
                        if value is not None and (newest is None or _later(value, newest)):
                            newest = value
                objects = parts.finish()
        except ConnectorError:
            if parts:
                parts.discard()
            raise
        except (sa.exc.SQLAlchemyError, TypeError, ValueError) as exc:
            if parts:
                parts.discard()
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            if password:
                detail = detail.replace(password, "***")
            raise ConnectorError(f"{where}: {type(exc).__name__}: {detail}") from None
        finally:
            engine.dispose()

        stats = {"rows": parts.count, "objects": len(objects), "bytes": sum(o.size for o in objects)}
        new_state: dict[str, Any] = {"content_hash": parts.content_hash, "rows": parts.count}
        if cfg.watermark_column:
            new_state["watermark_column"] = cfg.watermark_column
            new_state["watermark"] = encode_watermark(newest) if newest is not None else None
            if parts.count == 0:  # nothing beyond the watermark
                kept = {**state, **{k: new_state[k] for k in ("watermark_column", "watermark")}}
                return FetchResult([], kept, unchanged=True, stats=stats)
        if parts.content_hash == state.get("content_hash") and parts.count == state.get("rows"):
            return FetchResult([], new_state, unchanged=True, stats={**stats, "same_hash": True})
        log.info("%s: %d rows in %d objects", where, parts.count, len(objects))
        return FetchResult(objects, new_state, stats=stats)

    def _statement(
        self, conn: sa.Connection, watermark: Any, where: str
    ) -> tuple[sa.Executable, list[dict[str, str]] | None]:
        """The SELECT to run, and (table mode) the column names and SQL types."""
        cfg = self.config
        if cfg.table is not None:
            try:
                table = sa.Table(cfg.table, sa.MetaData(), schema=cfg.schema_, autoload_with=conn)
            except sa.exc.NoSuchTableError:
                raise ConnectorError(f"{where}: no such table or view") from None

            def col(name: str) -> sa.ColumnElement[Any]:
                if name not in table.c:
                    raise ConnectorError(f"{where}: no column {name!r}")
                return table.c[name]

            selected = [col(c) for c in cfg.columns] if cfg.columns else list(table.c)
            stmt = sa.select(*selected)
            if cfg.watermark_column:
                wm = col(cfg.watermark_column)
                if watermark is not None:
                    stmt = stmt.where(wm > sa.bindparam("watermark", watermark, type_=wm.type))
            if cfg.order_by:
                stmt = stmt.order_by(*[col(c) for c in cfg.order_by])
            types = [{"name": c.name, "type": _type_name(c.type)} for c in selected]
            return stmt, types

        assert cfg.query is not None
        text = sa.text(cfg.query.strip().rstrip(";").strip())
        if (not cfg.watermark_column or watermark is None) and not cfg.order_by:
            return text, None
        wrapped: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(
            text.columns().subquery("src")
        )
        if cfg.watermark_column and watermark is not None:
            wrapped = wrapped.where(sa.column(cfg.watermark_column) > sa.bindparam("watermark", watermark))
        if cfg.order_by:
            wrapped = wrapped.order_by(*[sa.column(c) for c in cfg.order_by])
        return wrapped, None


def _later(a: Any, b: Any) -> bool:
    try:
        return bool(a > b)
    except TypeError:  # e.g. a text watermark from the state against a UUID column
        return str(a) > str(b)


def _type_name(type_: Any) -> str:
    try:
        return str(type_)
    except Exception:  # noqa: BLE001 - some reflected types cannot render without a dialect
        return type(type_).__name__
