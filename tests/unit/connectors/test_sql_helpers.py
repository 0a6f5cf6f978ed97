"""Pure logic of the SQL connector: config validation, env URLs, value and watermark encoding."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import make_url

from citydata.spec.sources import source_union
from connectors.base import ConnectorError
from connectors.sources._sql_values import decode_watermark, encode_watermark, iso_duration, json_value
from connectors.sources.sql import SqlConfig, available_driver, resolve_url

URL = "postgresql+psycopg2://so_tn_mt@db.hcmc.gov.vn:5432/du_lieu"


def test_spec_source_section_selects_the_sql_config():
    source = TypeAdapter(source_union()).validate_python(
        {
            "type": "sql",
            "url": "env:AGENCY_DB_URL",
            "schema": "cong_khai",
            "table": "ho_so",
            "watermark_column": "cap_nhat",
        }
    )
    assert isinstance(source, SqlConfig)
    assert source.schema_ == "cong_khai" and source.url == "env:AGENCY_DB_URL"


def test_config_validation():
    with pytest.raises(ValidationError, match="exactly one of"):
        SqlConfig.model_validate({"type": "sql", "url": URL})
    with pytest.raises(ValidationError, match="exactly one of"):
        SqlConfig.model_validate({"type": "sql", "url": URL, "table": "a", "query": "SELECT 1"})
    with pytest.raises(ValidationError, match="go with `table`"):
        SqlConfig.model_validate({"type": "sql", "url": URL, "query": "SELECT 1", "schema": "x"})
    with pytest.raises(ValidationError, match="query is empty"):
        SqlConfig.model_validate({"type": "sql", "url": URL, "query": " ; "})
    with pytest.raises(ValidationError, match="SQLAlchemy URL"):
        SqlConfig.model_validate({"type": "sql", "url": "not a url", "table": "a"})
    with pytest.raises(ValidationError, match="env:NAME"):
        SqlConfig.model_validate({"type": "sql", "url": "env:1BAD", "table": "a"})
    ok = SqlConfig.model_validate(
        {"type": "sql", "url": URL, "table": "Hồ Sơ-2024", "columns": ["Mã số", "tên"]}
    )
    assert ok.table == "Hồ Sơ-2024"


def test_resolve_url_from_environment(monkeypatch):
    monkeypatch.setenv("AGENCY_DB_URL", "postgresql+psycopg2://u:m%40t-kh%E1%BA%A9u@h/db")
    url = resolve_url("env:AGENCY_DB_URL")
    assert url.password == "m@t-khẩu" and url.database == "db"
    monkeypatch.setenv("AGENCY_DB_URL", "garbage m@t-khau")
    with pytest.raises(ConnectorError) as failed:
        resolve_url("env:AGENCY_DB_URL")
    assert "m@t-khau" not in str(failed.value)
    monkeypatch.delenv("AGENCY_DB_URL")
    with pytest.raises(ConnectorError, match="AGENCY_DB_URL is not set"):
        resolve_url("env:AGENCY_DB_URL")


def test_available_driver_keeps_explicit_drivers():
    explicit = make_url("postgresql+psycopg2://u@h/db")
    assert available_driver(explicit) is explicit
    assert available_driver(make_url("sqlite:///x.db")).drivername == "sqlite"
    assert available_driver(make_url("postgresql://u@h/db")).drivername in {
        "postgresql",
        "postgresql+psycopg2",
    }


def test_json_values():
    ict = timezone(timedelta(hours=7))
    assert json_value(None) is None and json_value(True) is True and json_value(42) == 42
    assert json_value("Phường Bến Nghé") == "Phường Bến Nghé"
    assert json_value(Decimal("1500000.50")) == "1500000.50"
    assert json_value(Decimal("1E-7")) == "0.0000001"
    assert json_value(Decimal("NaN")) == "NaN"
    assert json_value(float("inf")) == "inf" and json_value(1.25) == 1.25
    assert json_value(date(2024, 3, 1)) == "2024-03-01"
    assert json_value(datetime(2024, 3, 1, 8, 30, tzinfo=ict)) == "2024-03-01T08:30:00+07:00"
    assert json_value(time(7, 5)) == "07:05:00"
    assert json_value(timedelta(days=1, hours=2, microseconds=500)) == "P1DT7200.0005S"
    assert json_value(b"\x00\xff") == "AP8=" and json_value(memoryview(b"ab")) == "YWI="
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert json_value(key) == str(key)
    assert json_value({"tiền": Decimal("1.0"), "ds": [date(2024, 1, 1)]}) == {
        "tiền": "1.0",
        "ds": ["2024-01-01"],
    }


def test_iso_duration_sign():
    assert iso_duration(timedelta(0)) == "P0DT0S"
    assert iso_duration(-timedelta(hours=1)) == "-P0DT3600S"


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 3, 1, 8, 30, 0, 123456, tzinfo=timezone(timedelta(hours=7))),
        datetime(2024, 3, 1, 8, 30),
        date(2024, 3, 1),
        time(23, 59),
        Decimal("12.50"),
        25000,
        2.5,
        "HS-0009",
    ],
)
def test_watermark_round_trip(value):
    encoded = encode_watermark(value)
    assert decode_watermark(encoded) == value
    assert type(decode_watermark(encoded)) is type(value)
