"""Published values equal the source's, for the three shapes of issue 14, on the real stack.

The same 168 wards arrive as an agency workbook (native numeric cells under a report-shaped header),
as an agency JSON API (codes as JSON strings, coordinates as JSON numbers) and as a PostgreSQL
table (double precision, numeric(10,3), varchar(5)). Each goes through pull, clean, the quality
gate and the lake with a minimal spec, and the published Parquet is compared with the source read
by an independent reader: openpyxl, the json module, the database driver (psycopg).
"""

from __future__ import annotations

import io
import json
import textwrap
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openpyxl
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from catalog.publish import PublishBlocked, publish_to_lake
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import read_manifest, read_version_table
from ingest.clean import clean_pull
from ingest.pull import pull
from quality.validate import validate_clean
from tests.integration.cleanup import purge_agency
from tests.integration.wards_sources import FIRST_DATA_ROW, TABLE_DDL, api_document, report_workbook, wards

pytestmark = pytest.mark.integration


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def world(stack_ready, unique) -> Iterator[dict[str, Any]]:
    lake = Lake(stack_ready)
    state: dict[str, Any] = {
        "settings": stack_ready,
        "lake": lake,
        "agency": f"test-fid-{unique}",
        "datasets": [],
    }
    yield state
    purge_agency(stack_ready, lake, state["agency"], state["datasets"])


def minimal_spec(
    world: dict[str, Any], name: str, source: dict[str, Any], fmt: dict[str, Any] | None = None
) -> DatasetSpec:
    dataset = f"{name}-{world['agency'].removeprefix('test-fid-')}"
    world["datasets"].append(dataset)
    text = textwrap.dedent(
        f"""
        id: {dataset}
        agency: {{id: {world["agency"]}, title: {{vi: "Sở Nội vụ (thử nghiệm)"}}}}
        title: {{vi: "Danh sách phường, xã"}}
        description: {{vi: "168 đơn vị hành chính cấp xã (dữ liệu thử nghiệm)."}}
        dublin_core: {{creator: Sở Nội vụ, publisher: UBND TP.HCM, date: 2025-07-01}}
        """
    )
    data = yaml.safe_load(text) | {"source": source}
    if fmt:
        data["format"] = fmt
    return DatasetSpec.model_validate(data)


def run_to_lake(world: dict[str, Any], spec: DatasetSpec) -> tuple[pa.Table, dict[str, Any], Any]:
    settings, lake = world["settings"], world["lake"]
    pulled = pull(spec, settings, lake)
    cleaned = clean_pull(spec, settings, lake, pulled.pull_id)
    quality = validate_clean(spec, settings, lake, pulled.pull_id, data_docs=False)
    publish_to_lake(spec, settings, lake, pull_id=pulled.pull_id)
    manifest = read_manifest(lake, spec.agency.id, spec.id)
    assert manifest is not None
    return read_version_table(lake, manifest), cleaned.as_dict(), quality


def by_label(cleaned: dict[str, Any]) -> dict[str, str]:
    return {c["source_label"]: c["name"] for c in cleaned["columns"]}


def fidelity(quality: Any) -> dict[str, Any]:
    outcome = next(o for o in quality.expectations if o.type == "citydata_fidelity")
    assert outcome.success, outcome.partial_unexpected_list
    return dict(outcome.observed_value)


@pytest.mark.parametrize("hints", [{"skip_rows": 2, "header_rows": 2}, None], ids=["with-hints", "detected"])
def test_report_workbook_numbers_are_the_cells_numbers(world, tmp_path, hints):
    path = report_workbook(tmp_path / "phuong-xa.xlsx")
    spec = minimal_spec(world, "fid-xlsx", {"type": "local_file", "path": str(path)}, hints)
    table, cleaned, quality = run_to_lake(world, spec)

    assert cleaned["rejected"] == 0  # the footer is skipped, not rejected
    [report] = cleaned["files"]
    assert [(r["line"], r["kind"]) for r in report["skipped"]] == [(1, "title"), (2, "title")] + [
        (line, "footer") for line in (174, 175, 176, 177, 178, 179)
    ]
    assert report["layout"]["Phường xã"]["header_lines"] == [3, 4]

    names = by_label(cleaned)
    sheet = openpyxl.load_workbook(path, data_only=True)["Phường xã"]  # the independent reader
    source = [
        [c.value for c in row]
        for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=FIRST_DATA_ROW + 167)
    ]
    published = table.to_pylist()
    assert len(published) == 168 == len(source)
    labels = ("Mã số", "Tọa độ trung tâm - Vĩ độ", "Tọa độ trung tâm - Kinh độ", "Diện tích (km²)")
    code, lat, lon, area = (names[k] for k in labels)
    assert table.schema.field(code).type == pa.string()
    for row, cells in zip(published, source, strict=True):
        assert row[code] == str(cells[0])  # a code: text, never an int
        assert (
            row[lat] == cells[3] and row[lon] == cells[4] and row[area] == cells[5]
        )  # the very same doubles
    assert (published[0][code], published[0][lat], published[0][lon], published[0][area]) == (
        "25747",
        10.969,
        106.661,
        15.682,
    )  # Phường Thủ Dầu Một, not 10969 / 106661 / 15682
    assert fidelity(quality)["rows_checked"] == 168
    assert quality.promotable


@pytest.fixture
def api_url(tmp_path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "phuong-xa.json").write_text(json.dumps(api_document(), ensure_ascii=False), encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/phuong-xa.json"
    server.shutdown()


def test_json_api_numbers_and_string_codes_stay_what_the_json_says(world, api_url):
    spec = minimal_spec(
        world, "fid-api", {"type": "http_file", "url": api_url}, {"records_path": "du_lieu.danh_sach"}
    )
    table, _, quality = run_to_lake(world, spec)

    with open_url(api_url) as body:  # the independent reader: the json module on the served bytes
        records = json.loads(body.read())["du_lieu"]["danh_sach"]
    assert table.schema.field("ma_so").type == pa.string()
    assert table.to_pylist() == records  # every key, every value, in order
    assert fidelity(quality)["cells_checked"] == 168 * 6


def open_url(url: str) -> Any:
    import urllib.request

    return urllib.request.urlopen(url, timeout=10)


@pytest.fixture
def wards_table(stack_ready) -> Iterator[tuple[str, str]]:
    """A database of its own with the wards table (double precision, numeric(10,3), varchar(5))."""
    dsn = stack_ready.postgres.dsn()
    name = f"fid_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    database_dsn = stack_ready.postgres.dsn(name)
    try:
        with psycopg.connect(database_dsn) as conn:
            conn.execute(TABLE_DDL.format(name="phuong_xa"))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO phuong_xa VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (
                            r["ma"],
                            r["ten"],
                            r["loai"],
                            r["vi_do"],
                            r["kinh_do"],
                            Decimal(str(r["dien_tich_km2"])),
                        )
                        for r in wards()
                    ],
                )
        yield database_dsn, name
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_sql_table_types_reach_the_lake(world, wards_table):
    dsn, _ = wards_table
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    spec = minimal_spec(
        world, "fid-sql", {"type": "sql", "url": url, "table": "phuong_xa", "order_by": ["ma_so"]}
    )
    table, _, quality = run_to_lake(world, spec)

    with psycopg.connect(dsn) as conn:  # the independent reader: the database driver
        rows = conn.execute(
            "SELECT ma_so, ten, loai, vi_do, kinh_do, dien_tich_km2 FROM phuong_xa ORDER BY ma_so"
        ).fetchall()
    assert table.schema.field("ma_so").type == pa.string()
    assert table.schema.field("dien_tich_km2").type == pa.float64()
    published = table.to_pylist()
    assert len(published) == len(rows) == 168
    for row, (code, name, kind, lat, lon, area) in zip(published, rows, strict=True):
        assert (row["ma_so"], row["ten"], row["loai"]) == (code, name, kind)
        assert row["vi_do"] == lat and row["kinh_do"] == lon
        assert row["dien_tich_km2"] == float(area) and isinstance(area, Decimal)
    assert fidelity(quality)["rows_checked"] == 168


def test_a_value_changed_after_reading_is_blocked_naming_row_column_and_both_values(world, tmp_path):
    # What the old reader did to the workbook, done to one cell of the clean table: the gate,
    # comparing with the source read by openpyxl, must refuse to publish it.
    settings, lake = world["settings"], world["lake"]
    path = report_workbook(tmp_path / "phuong-xa.xlsx")
    spec = minimal_spec(world, "fid-bad", {"type": "local_file", "path": str(path)})
    pulled = pull(spec, settings, lake)
    cleaned = clean_pull(spec, settings, lake, pulled.pull_id)
    area = by_label(cleaned.as_dict())["Diện tích (km²)"]
    table = pq.read_table(io.BytesIO(lake.get_bytes(cleaned.keys["data"])))
    values = table.column(area).to_pylist()
    values[0] = values[0] * 1000  # 15.682 km² -> 15682
    corrupted = table.set_column(table.column_names.index(area), area, pa.array(values))
    sink = io.BytesIO()
    pq.write_table(corrupted, sink)
    lake.put_bytes(cleaned.keys["data"], sink.getvalue(), "application/vnd.apache.parquet")

    quality = validate_clean(spec, settings, lake, pulled.pull_id, data_docs=False)
    outcome = next(o for o in quality.expectations if o.type == "citydata_fidelity")
    assert not outcome.success and outcome.severity == "error" and outcome.unexpected_count == 1
    assert outcome.partial_unexpected_list == [
        {"file": "phuong-xa.xlsx", "sheet": "Phường xã", "line": FIRST_DATA_ROW, "column": area,
         "source": 15.682, "published": 15682.0}
    ]  # fmt: skip
    assert quality.blocking and not quality.promotable
    with pytest.raises(PublishBlocked):
        publish_to_lake(spec, settings, lake, pull_id=pulled.pull_id)
    assert read_manifest(lake, spec.agency.id, spec.id) is None  # nothing was published
