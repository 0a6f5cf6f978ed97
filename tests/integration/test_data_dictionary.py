"""The published data dictionary says which columns may be empty as the spec and the data say: the
CSV downloaded from the catalog's link, read with Python's `csv` module, and the workbook's
dictionary sheet, read with openpyxl (neither is the code that wrote them)."""

from __future__ import annotations

import csv
import io
import uuid

import openpyxl
import pytest
import requests

from catalog.publish import publish
from tests.integration.test_publish import World

pytestmark = pytest.mark.integration

SCHEMA = {
    "primary_key": ["ma_tram"],  # required as the key, though no column hint says so
    "columns": {
        "ten_tram": {"label": "Tên trạm"},
        "so_cong": {"type": "integer", "label": "Số cổng sạc", "nullable": False},
        "phuong": {"label": "Phường"},  # one row has no ward: it may be empty
    },
}
QUALITY = {"expectations": [{"type": "expect_column_values_to_not_be_null", "args": {"column": "ten_tram"}}]}


@pytest.fixture(scope="module")
def published(stack_ready, tmp_path_factory):
    world = World(stack_ready, uuid.uuid4().hex[:10], tmp_path_factory.mktemp("dictionary"))
    spec = world.spec("dict", schema=SCHEMA, quality=QUALITY)
    try:
        pull_id = world.pull_clean(spec)
        world.fake_quality(spec, pull_id)
        publish(spec, world.settings, world.lake, world.client)
        yield world, spec
    finally:
        world.cleanup()


def _resource(world: World, name: str, role: str) -> bytes:
    pkg = world.anon.action.package_show(id=name)
    (res,) = [r for r in pkg["resources"] if r.get("citydata_role") == role]
    reply = requests.get(res["url"], timeout=60)
    assert reply.status_code == 200, res["url"]
    return reply.content


def test_dictionary_csv_says_key_and_required_columns_cannot_be_empty(published):
    world, spec = published
    text = _resource(world, spec.id, "dictionary").decode("utf-8-sig")
    rows = {r["column"]: r for r in csv.DictReader(io.StringIO(text))}
    nullable = {column: r["nullable"] for column, r in rows.items()}
    assert nullable["ma_tram"] == "False"  # the primary key
    assert nullable["so_cong"] == "False"  # nullable: false
    assert nullable["ten_tram"] == "False"  # an error-severity not-null expectation
    assert nullable["phuong"] == "True" and nullable["ngay_lap_dat"] == "True"  # nothing requires them
    assert rows["so_cong"]["label"] == "Số cổng sạc" and rows["so_cong"]["type"] == "integer"


def test_workbook_dictionary_sheet_agrees(published):
    world, spec = published
    book = openpyxl.load_workbook(io.BytesIO(_resource(world, spec.id, "xlsx")), read_only=True)
    sheet = book["Từ điển dữ liệu"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    empty = header.index("Cho phép để trống")
    may_be_empty = {r[0]: r[empty] for r in rows}
    assert may_be_empty["ma_tram"] == "Không" and may_be_empty["so_cong"] == "Không"
    assert may_be_empty["ten_tram"] == "Không" and may_be_empty["phuong"] == "Có"
