"""Every source type through pull → raw zone → clean zone, against real sources and real S3."""

import io
import json
import textwrap
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from citydata.clients import ckan_client, s3_client
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from ingest.clean import clean_pull
from ingest.pull import pull

pytestmark = pytest.mark.integration

RECORDS = [
    {
        "ma": "HS001",
        "ten": "Nguyễn Văn An",
        "phuong": "Phường Bến Nghé",
        "so_tien": 1500000.5,
        "ngay": "2024-03-01",
    },
    {"ma": "HS002", "ten": "Trần Thị Bích", "phuong": "Phường Đa Kao", "so_tien": 0, "ngay": "2024-03-02"},
    {"ma": "HS003", "ten": "Lê Hoàng Cường", "phuong": None, "so_tien": 250000, "ngay": "2024-03-03"},
]


def make_spec(dataset_id: str, source: dict[str, Any], **extra: Any) -> DatasetSpec:
    return DatasetSpec.model_validate(
        {
            "id": dataset_id,
            "agency": {"id": "test-agency", "title": {"vi": "Cơ quan thử nghiệm"}},
            "title": {"vi": "Hồ sơ thử nghiệm"},
            "description": {"vi": "Dữ liệu thử nghiệm"},
            "dublin_core": {"creator": "citydata", "publisher": "citydata", "date": "2025-07-01"},
            "synthetic": True,
            "source": source,
            "cleaning": {"pii": "keep"},
            **extra,
        }
    )


def pull_and_clean(settings, spec: DatasetSpec):
    lake = Lake(settings)
    pulled = pull(spec, settings, lake)
    assert not pulled.unchanged
    result = clean_pull(spec, settings, lake, pulled.pull_id)
    body = s3_client(settings).get_object(settings.s3.lake_bucket, result.keys["data"]).read()
    again = pull(spec, settings, lake)
    assert again.unchanged, "a second pull of an unchanged source must not store anything"
    return result, pq.read_table(io.BytesIO(body))


class ApiHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        page = int(self.path.rsplit("page=", 1)[1].split("&")[0]) if "page=" in self.path else 1
        items = RECORDS[(page - 1) * 2 : page * 2]
        body = json.dumps({"data": {"items": items}, "page": page}, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_rest_api_source(stack_ready, unique):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = make_spec(
            f"test-api-{unique}",
            {
                "type": "rest_api",
                "url": f"http://127.0.0.1:{server.server_address[1]}/ho-so",
                "records_path": "data.items",
                "pagination": {"type": "page_number", "param": "page", "start": 1},
            },
        )
        result, table = pull_and_clean(stack_ready, spec)
    finally:
        server.shutdown()
    assert table.column("ma").to_pylist() == ["HS001", "HS002", "HS003"]
    assert table.column("so_tien").to_pylist() == [1500000.5, 0.0, 250000.0]
    assert [f.name for f in result.files] == ["records.jsonl"]  # the raw pages are kept, not re-read


@pytest.fixture
def agency_database(stack_ready):
    name = f"agency_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(stack_ready.postgres.dsn(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = stack_ready.postgres.dsn(name)
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE ho_so (ma text primary key, ten text, phuong text, so_tien numeric, ngay date)"
            )
        )
        for r in RECORDS:
            conn.execute(sa.text("INSERT INTO ho_so VALUES (:ma, :ten, :phuong, :so_tien, :ngay)"), r)
    yield url, engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_sql_source_incremental_on_watermark(stack_ready, unique, agency_database, monkeypatch):
    url, engine = agency_database
    monkeypatch.setenv("CITYDATA_TEST_AGENCY_DB", url)
    spec = make_spec(
        f"test-sql-{unique}",
        {"type": "sql", "url": "env:CITYDATA_TEST_AGENCY_DB", "table": "ho_so", "watermark_column": "ngay"},
        schema={"primary_key": ["ma"], "columns": {"ma": {}, "ngay": {"type": "date"}}},
    )
    _, table = pull_and_clean(stack_ready, spec)
    assert table.column("ma").to_pylist() == ["HS001", "HS002", "HS003"]
    assert str(table.schema.field("ngay").type) == "date32[day]"
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ho_so VALUES ('HS004', 'Phạm Minh Đức', NULL, 10, '2024-03-04')"))
    lake = Lake(stack_ready)
    newer = pull(spec, stack_ready, lake)
    assert not newer.unchanged
    increment = clean_pull(spec, stack_ready, lake, newer.pull_id)
    assert increment.rows == 1


def test_s3_drop_source(stack_ready, unique):
    prefix = f"test-agency-{unique}/"
    csv = "Mã;Tên;Số tiền\nHS001;Nguyễn Văn An;1.500.000,5\nHS002;Trần Thị Bích;0\n".encode()
    client = s3_client(stack_ready)
    client.put_object(stack_ready.s3.drop_bucket, prefix + "thang-3.csv", io.BytesIO(csv), len(csv))
    try:
        spec = make_spec(f"test-drop-{unique}", {"type": "s3_drop", "prefix": prefix, "pattern": "*.csv"})
        result, table = pull_and_clean(stack_ready, spec)
        assert table.column("so_tien").to_pylist() == [1500000.5, 0.0]
        assert result.files[0].name == "thang-3.csv"
    finally:
        client.remove_object(stack_ready.s3.drop_bucket, prefix + "thang-3.csv")


def test_ckan_portal_source(stack_ready, unique):
    ckan = ckan_client(stack_ready)
    org = ckan.action.organization_create(name=f"test-harvest-{unique}", title="Sở thử nghiệm")
    try:
        for i in range(2):
            ckan.action.package_create(
                name=f"test-harvest-{unique}-{i}",
                title=f"Bộ dữ liệu số {i}",
                notes="Mô tả thử nghiệm",
                owner_org=org["id"],
            )
        spec = make_spec(
            f"test-harvest-{unique}",
            {"type": "ckan_portal", "url": stack_ready.ckan.url, "organization": org["name"]},
        )
        _, table = pull_and_clean(stack_ready, spec)
        assert sorted(table.column("title").to_pylist()) == ["Bộ dữ liệu số 0", "Bộ dữ liệu số 1"]
    finally:
        for i in range(2):
            ckan.action.dataset_purge(id=f"test-harvest-{unique}-{i}")
        ckan.action.organization_purge(id=org["id"])


def test_spec_examples_in_readme_validate():
    text = open("README.md", encoding="utf-8").read().split("```yaml", 1)[1].split("```", 1)[0]
    import yaml

    spec = DatasetSpec.model_validate(yaml.safe_load(textwrap.dedent(text)))
    assert spec.source.type == "http_file"
