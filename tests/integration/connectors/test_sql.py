"""The SQL connector against the local stack's real PostgreSQL, in a database of its own."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from connectors.base import ConnectorError, FetchContext, FetchResult
from connectors.formats.base import FormatOptions, ReadInfo
from connectors.formats.registry import reader_for
from connectors.registry import connector_for
from connectors.sources.sql import SqlConfig, SqlConnector, available_driver

pytestmark = pytest.mark.integration

ICT = timezone(timedelta(hours=7))
SCHEMA = "so_lieu_tphcm"

SEED: list[dict[str, Any]] = [
    {
        "id": 1,
        "ho_ten": "Nguyễn Văn An",
        "phuong": "Phường Bến Nghé",
        "ngay_sinh": date(1985, 2, 14),
        "so_tien": Decimal("1500000.50"),
        "diem": 8.5,
        "cap_nhat": datetime(2024, 3, 1, 8, 0, tzinfo=ICT),
        "anh": b"\x89PNG\r\n\x1a\n",
        "ghi_chu": "Đã xử lý",
        "thuoc_tinh": {"quận": "Quận 1", "ưu_tiên": True},
    },
    {
        "id": 2,
        "ho_ten": "Trần Thị Bích",
        "phuong": "Phường Đa Kao",
        "ngay_sinh": None,
        "so_tien": Decimal("0.00"),
        "diem": None,
        "cap_nhat": datetime(2024, 3, 2, 9, 15, tzinfo=ICT),
        "anh": None,
        "ghi_chu": None,
        "thuoc_tinh": None,
    },
    {
        "id": 3,
        "ho_ten": "Lê Hoàng Cường",
        "phuong": None,
        "ngay_sinh": date(1990, 12, 31),
        "so_tien": Decimal("123456789012.34"),
        "diem": -1.25,
        "cap_nhat": datetime(2024, 3, 3, 23, 59, 59, 123456, tzinfo=ICT),
        "anh": b"",
        "ghi_chu": 'Ghi chú có "ngoặc kép"\nvà xuống dòng',
        "thuoc_tinh": {"nhãn": ["hộ nghèo", "người cao tuổi"]},
    },
    {
        "id": 4,
        "ho_ten": "Phạm Thị Dung",
        "phuong": "Phường Tân Định",
        "ngay_sinh": date(2001, 7, 4),
        "so_tien": Decimal("-42.10"),
        "diem": 10.0,
        "cap_nhat": datetime(2024, 3, 4, 7, 30, tzinfo=ICT),
        "anh": b"\x00\xff",
        "ghi_chu": "",
        "thuoc_tinh": {},
    },
]


def expected_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "ho_ten": row["ho_ten"],
        "phuong": row["phuong"],
        "ngay_sinh": row["ngay_sinh"].isoformat() if row["ngay_sinh"] else None,
        "so_tien": str(row["so_tien"]),
        "diem": row["diem"],
        "cap_nhat": row["cap_nhat"],  # compared as an instant (the session time zone may differ)
        "anh": base64.b64encode(row["anh"]).decode() if row["anh"] is not None else None,
        "ghi_chu": row["ghi_chu"],
        "thuoc_tinh": row["thuoc_tinh"],
    }


def define_table(metadata: sa.MetaData, name: str, schema: str | None = SCHEMA) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ho_ten", sa.Text, nullable=False),
        sa.Column("phuong", sa.Text),
        sa.Column("ngay_sinh", sa.Date),
        sa.Column("so_tien", sa.Numeric(14, 2)),
        sa.Column("diem", sa.Float),
        sa.Column("cap_nhat", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anh", sa.LargeBinary),
        sa.Column("ghi_chu", sa.Text),
        sa.Column("thuoc_tinh", postgresql.JSONB),
        schema=schema,
    )


@pytest.fixture(scope="module")
def agency_db(stack_ready) -> Iterator[URL]:
    """A fresh database on the stack's PostgreSQL, dropped at the end."""
    admin_url = available_driver(make_url(stack_ready.postgres.dsn()))
    name = f"agency_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quoted} ENCODING 'UTF8' TEMPLATE template0"))
    url = admin_url.set(database=name)
    try:
        engine = sa.create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(sa.schema.CreateSchema(SCHEMA))
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def db(agency_db) -> Iterator[sa.Engine]:
    engine = sa.create_engine(agency_db, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def ho_so(db, unique) -> sa.Table:
    """A seeded table of its own for each test."""
    table = define_table(sa.MetaData(), f"ho_so_{unique}")
    table.create(db)
    with db.begin() as conn:
        conn.execute(table.insert(), SEED)
    return table


@pytest.fixture
def context(settings, tmp_path) -> FetchContext:
    return FetchContext(settings=settings, dataset_id="ho-so-dang-ky", workdir=tmp_path / "work")


@pytest.fixture
def statements() -> Iterator[list[tuple[str, str | None]]]:
    """Every SQL statement any engine sends, with the DBAPI cursor's name (server-side cursor)."""
    seen: list[tuple[str, str | None]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, getattr(cursor, "name", None)))

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.Engine, "before_cursor_execute", record)


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def pull(context: FetchContext, state: dict[str, Any] | None = None, /, **source: Any) -> FetchResult:
    config = SqlConfig.model_validate({"type": "sql", **source})
    assert connector_for(config) is SqlConnector
    return SqlConnector(config, context).fetch(state or {})


def rows_of(result: FetchResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for obj in result.objects:
        assert obj.media_type == "application/x-ndjson"
        rows.extend(json.loads(line) for line in obj.read_bytes().decode("utf-8").splitlines())
    for row in rows:
        if isinstance(row.get("cap_nhat"), str):
            row["cap_nhat"] = datetime.fromisoformat(row["cap_nhat"])
    return rows


def test_full_table_pull(agency_db, db, ho_so, context, statements):
    source = {"url": url_text(agency_db), "schema": SCHEMA, "table": ho_so.name, "batch_size": 2}
    first = pull(context, **source)
    assert [o.name for o in first.objects] == ["rows-0001.jsonl"]
    assert sorted(rows_of(first), key=lambda r: r["id"]) == [expected_json(r) for r in SEED]
    raw = first.objects[0].read_bytes().decode()
    assert "Nguyễn Văn An" in raw and '"so_tien":"123456789012.34"' in raw and '"ngay_sinh":null' in raw

    obj = first.objects[0]
    assert agency_db.password and agency_db.password not in json.dumps(obj.metadata())
    assert (
        obj.source_uri.endswith(f"/{agency_db.database}#{SCHEMA}.{ho_so.name}") and ":***@" in obj.source_uri
    )
    columns = json.loads(obj.headers["x-sql-columns"])
    assert [c["name"] for c in columns] == [c.name for c in ho_so.columns]
    assert {c["name"]: c["type"] for c in columns}["so_tien"] == "NUMERIC(14, 2)"
    assert first.stats["rows"] == 4 and first.state["rows"] == 4
    reader = reader_for(obj.name, None, obj.media_type)
    batches = list(reader.read(obj, FormatOptions(), ReadInfo()))
    assert reader.name == "jsonl" and sum(b.table.num_rows for b in batches) == 4

    # The SELECT ran on a server-side (named) cursor; identifiers quoted by SQLAlchemy.
    select = [
        (s, name) for s, name in statements if s.lstrip().upper().startswith("SELECT") and ho_so.name in s
    ]
    assert select and select[-1][1] is not None
    assert f"FROM {SCHEMA}.{ho_so.name}" in select[-1][0]

    second = pull(context, first.state, **source)
    assert second.unchanged and second.objects == [] and second.stats["same_hash"]

    with db.begin() as conn:
        conn.execute(ho_so.update().where(ho_so.c.id == 2).values(ghi_chu="Bổ sung giấy tờ"))
    third = pull(context, second.state, **source)
    assert not third.unchanged
    assert {r["id"]: r["ghi_chu"] for r in rows_of(third)}[2] == "Bổ sung giấy tờ"


def test_watermark_pulls_only_newer_rows(agency_db, db, ho_so, context, statements):
    source = {
        "url": url_text(agency_db),
        "schema": SCHEMA,
        "table": ho_so.name,
        "watermark_column": "cap_nhat",
        "order_by": ["cap_nhat"],
    }
    first = pull(context, **source)
    assert rows_of(first) == [expected_json(r) for r in SEED]
    watermark = first.state["watermark"]
    assert watermark["type"] == "datetime"
    assert datetime.fromisoformat(watermark["value"]) == max(r["cap_nhat"] for r in SEED)

    statements.clear()
    second = pull(context, first.state, **source)
    assert second.unchanged and second.objects == [] and second.state == first.state
    select = [s for s, _ in statements if ho_so.name in s and s.lstrip().upper().startswith("SELECT")]
    assert "WHERE" in select[-1] and "cap_nhat >" in select[-1]

    new_rows = [
        {
            **SEED[1],
            "id": 10,
            "ho_ten": "Huỳnh Minh Đức",
            "cap_nhat": datetime(2024, 4, 1, 10, 0, tzinfo=ICT),
        },
        {**SEED[0], "id": 11, "ho_ten": "Võ Thị Én", "cap_nhat": datetime(2024, 4, 2, 0, 0, tzinfo=UTC)},
        # Older than the watermark: a late write the `>` rule does not see (documented).
        {**SEED[3], "id": 12, "ho_ten": "Đặng Văn Giang", "cap_nhat": datetime(2024, 2, 1, tzinfo=ICT)},
    ]
    with db.begin() as conn:
        conn.execute(ho_so.insert(), new_rows)
    third = pull(context, second.state, **source)
    assert rows_of(third) == [expected_json(r) for r in new_rows[:2]]
    assert datetime.fromisoformat(third.state["watermark"]["value"]) == new_rows[1]["cap_nhat"]

    fourth = pull(context, third.state, **source)
    assert fourth.unchanged and fourth.state["watermark"] == third.state["watermark"]


def test_query_mode_with_env_url_watermark_and_chunks(agency_db, db, ho_so, context, monkeypatch, statements):
    monkeypatch.setenv("AGENCY_TEST_DB_URL", url_text(agency_db))
    dan_cu = sa.Table(
        f"dan_cu_{ho_so.name}",
        sa.MetaData(),
        sa.Column("ma_ho", sa.Integer, primary_key=True),
        sa.Column("khu_pho", sa.Text),
        schema=SCHEMA,
    )
    dan_cu.create(db)
    with db.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO {SCHEMA}.{dan_cu.name} (ma_ho, khu_pho) "
                "SELECT g, 'Khu phố ' || (g % 7) FROM generate_series(1, 25000) AS g"
            )
        )
    query = f"SELECT ma_ho, khu_pho FROM {SCHEMA}.{dan_cu.name} ORDER BY ma_ho;"
    source = {
        "url": "env:AGENCY_TEST_DB_URL",
        "query": query,
        "watermark_column": "ma_ho",
        "batch_size": 1000,
        "rows_per_object": 10_000,
    }
    first = pull(context, **source)
    assert [o.name for o in first.objects] == ["rows-0001.jsonl", "rows-0002.jsonl", "rows-0003.jsonl"]
    assert [o.headers["x-row-count"] for o in first.objects] == ["10000", "10000", "5000"]
    rows = rows_of(first)
    assert [r["ma_ho"] for r in rows] == list(range(1, 25001))
    assert rows[0] == {"ma_ho": 1, "khu_pho": "Khu phố 1"}
    assert first.state["watermark"] == {"type": "int", "value": 25000}
    assert all(o.source_uri.endswith("#query") and ":***@" in o.source_uri for o in first.objects)
    assert any(name is not None for s, name in statements if dan_cu.name in s)  # server-side cursor

    with db.begin() as conn:
        conn.execute(dan_cu.insert(), [{"ma_ho": 25001, "khu_pho": "Khu phố Mới"}])
    second = pull(context, first.state, **source)
    assert rows_of(second) == [{"ma_ho": 25001, "khu_pho": "Khu phố Mới"}]
    assert second.state["watermark"] == {"type": "int", "value": 25001}
    assert pull(context, second.state, **source).unchanged

    # A query over the seeded table, without a watermark: full load, typed values.
    plain = pull(
        context,
        url="env:AGENCY_TEST_DB_URL",
        query=f"SELECT id, ho_ten, so_tien, ngay_sinh FROM {SCHEMA}.{ho_so.name} "
        "WHERE so_tien > 0 ORDER BY id",
    )
    assert rows_of(plain) == [
        {"id": 1, "ho_ten": "Nguyễn Văn An", "so_tien": "1500000.50", "ngay_sinh": "1985-02-14"},
        {"id": 3, "ho_ten": "Lê Hoàng Cường", "so_tien": "123456789012.34", "ngay_sinh": "1990-12-31"},
    ]


def test_spec_queries_run_read_only(agency_db, ho_so, context):
    with pytest.raises(ConnectorError, match="read-only transaction"):
        pull(
            context,
            url=url_text(agency_db),
            query=f"SELECT id, nextval('{SCHEMA}.{ho_so.name}_id_seq') AS n FROM {SCHEMA}.{ho_so.name}",
        )


@pytest.mark.parametrize(
    "field, value",
    [
        ("table", "ho_so; DROP TABLE ho_so"),
        ("table", 'ho_so" --'),
        ("table", "ho_so'"),
        ("table", f"{SCHEMA}.ho_so"),
        ("table", "ho_so/**/"),
        ("table", ""),
        ("schema", "public; DROP SCHEMA public CASCADE"),
        ("watermark_column", "cap_nhat > 0 OR 1=1"),
        ("columns", ["id", 'ho_ten" FROM pg_shadow --']),
        ("order_by", ["id; DELETE"]),
    ],
)
def test_malicious_identifiers_are_rejected(field, value):
    source: dict[str, Any] = {
        "type": "sql",
        "url": "postgresql://u@127.0.0.1/db",
        "table": "ho_so",
        field: value,
    }
    with pytest.raises(ValidationError, match="not a plain identifier"):
        SqlConfig.model_validate(source)


def test_unknown_names_fail_and_odd_names_are_quoted(agency_db, db, ho_so, context):
    url = url_text(agency_db)
    with pytest.raises(ConnectorError, match="no such table or view"):
        pull(context, url=url, schema=SCHEMA, table="ho so")  # a legal name, but no such table
    with pytest.raises(ConnectorError, match="no such table or view"):
        pull(context, url=url, schema=SCHEMA, table="không tồn tại")
    with pytest.raises(ConnectorError, match="no column 'khong_co'"):
        pull(context, url=url, schema=SCHEMA, table=ho_so.name, columns=["id", "khong_co"])
    with db.connect() as conn:  # the seeded table is intact
        assert conn.execute(sa.select(sa.func.count()).select_from(ho_so)).scalar() == len(SEED)

    # A legal but awkward name (capitals, Vietnamese letters, a space, a hyphen) is quoted, not mangled.
    odd = sa.Table(
        "Hồ Sơ-2024",
        sa.MetaData(),
        sa.Column("Mã Hồ Sơ", sa.Integer),
        sa.Column("tên", sa.Text),
        schema=SCHEMA,
    )
    odd.create(db)
    with db.begin() as conn:
        conn.execute(odd.insert(), [{"Mã Hồ Sơ": 7, "tên": "Phường Thảo Điền"}])
    result = pull(context, url=url, schema=SCHEMA, table="Hồ Sơ-2024", columns=["tên", "Mã Hồ Sơ"])
    assert rows_of(result) == [{"tên": "Phường Thảo Điền", "Mã Hồ Sơ": 7}]


def test_connection_problems_never_show_the_password(agency_db, context):
    with pytest.raises(ConnectorError, match="AGENCY_MISSING_URL is not set"):
        pull(context, url="env:AGENCY_MISSING_URL", table="ho_so")
    wrong = agency_db.set(password="mat-khau-sai-123")
    with pytest.raises(ConnectorError) as failed:
        pull(context, url=url_text(wrong), table="ho_so")
    message = str(failed.value)
    assert "mat-khau-sai-123" not in message and "password authentication failed" in message
