"""DataStore loading: PostgreSQL COPY (with the stack's write URL) and the action API give the
same table, data dictionary, record count and full-text search."""

import datetime as dt
import math

import pyarrow as pa
import pytest

from catalog.client import CatalogClient
from catalog.datastore import load_datastore
from citydata.clients import ckan_client

pytestmark = pytest.mark.integration

TABLE = pa.table(
    {
        "ma": ["PA001", "PA002", 'PA"003', None],
        "ten": ["Phường Bến Nghé", '=HYPERLINK("x"), có dấu phẩy', "dòng\nhai", "Tân Định"],
        "so_luot": pa.array([1, None, 3, 4], pa.int64()),
        "ty_le": [0.5, math.nan, None, 12.25],
        "ngay": pa.array([dt.date(2024, 1, 31), None, dt.date(2025, 2, 1), dt.date(2023, 12, 1)]),
        "da_xu_ly": [True, False, None, True],
    }
)
FIELDS = [
    {"id": "ma", "type": "text", "info": {"label": "Mã phản ánh", "notes": "Mã duy nhất"}},
    {"id": "ten", "type": "text", "info": {"label": "Tên"}},
    {"id": "so_luot", "type": "int8", "info": {"label": "Số lượt"}},
    {"id": "ty_le", "type": "float8", "info": {}},
    {"id": "ngay", "type": "date", "info": {"label": "Ngày"}},
    {"id": "da_xu_ly", "type": "bool", "info": {}},
]


@pytest.fixture
def resources(stack_ready, unique):
    ckan = ckan_client(stack_ready)
    org = ckan.action.organization_create(name=f"test-dsload-{unique}", title="Thử nạp DataStore")
    pkg = ckan.action.package_create(name=f"test-dsload-{unique}", title="Thử nạp DataStore",
                                     notes="Bảng thử", owner_org=org["id"])  # fmt: skip
    ids = [ckan.action.resource_create(package_id=pkg["id"], name=name, url="http://example.com/x.csv")["id"]
           for name in ("api", "copy")]  # fmt: skip
    yield ids
    ckan.action.dataset_purge(id=pkg["id"])
    ckan.action.organization_purge(id=org["id"])


def _table(ckan, resource_id):
    result = ckan.action.datastore_search(resource_id=resource_id, sort="_id", limit=100)
    rows = [{k: v for k, v in r.items() if k != "_id"} for r in result["records"]]
    fields = [(f["id"], f["type"], f.get("info")) for f in result["fields"] if f["id"] != "_id"]
    return result["total"], fields, rows


def test_copy_and_api_loads_give_the_same_table(stack_ready, resources):
    write_url = stack_ready.ckan.datastore_write_url
    assert write_url is not None, "the stack sets CITYDATA_CKAN__DATASTORE_WRITE_URL"
    client, ckan = CatalogClient(stack_ready), ckan_client(stack_ready)
    api_id, copy_id = resources
    batches = TABLE.to_batches(max_chunksize=3)
    assert load_datastore(client, api_id, FIELDS, iter(batches)) == 4
    assert load_datastore(client, copy_id, FIELDS, iter(batches), write_url=write_url.get_secret_value()) == 4

    api, copied = _table(ckan, api_id), _table(ckan, copy_id)
    assert copied == api
    total, fields, rows = copied
    assert total == 4 and [f[0] for f in fields] == TABLE.column_names
    assert fields[0][2]["label"] == "Mã phản ánh"  # the data dictionary survives the COPY path
    assert rows[1]["ten"] == '=HYPERLINK("x"), có dấu phẩy' and rows[2]["ten"] == "dòng\nhai"
    assert rows[1]["ty_le"] is None and rows[3]["ma"] is None  # NaN and null both become null
    for resource_id in (api_id, copy_id):  # the full-text index is filled either way
        found = ckan.action.datastore_search(resource_id=resource_id, q="Nghé")
        assert [r["ma"] for r in found["records"]] == ["PA001"]
    info = ckan.action.resource_show(id=copy_id)
    assert info["datastore_active"] is True
