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
    for resource_id in (api_id, copy_id):  # the full-text index is filled either way, accent-blind
        for q in ("Nghé", "ben nghe", "BẾN NGHÉ"):
            found = ckan.action.datastore_search(resource_id=resource_id, q=q)
            assert [r["ma"] for r in found["records"]] == ["PA001"], q
        found = ckan.action.datastore_search(resource_id=resource_id, q="tan dinh")  # Đ folds to D
        assert [r["ten"] for r in found["records"]] == ["Tân Định"]
    info = ckan.action.resource_show(id=copy_id)
    assert info["datastore_active"] is True

    # the same full text, row by row, and the same index on it as CKAN makes (GiST)
    import psycopg

    from catalog.datastore_swap import _libpq_url

    with psycopg.connect(_libpq_url(write_url.get_secret_value())) as conn:

        def column(resource_id: str, sql: str) -> list:
            return [r[0] for r in conn.execute(sql.format(table=f'"{resource_id}"'))]

        text = "SELECT _full_text::text FROM {table} ORDER BY _id"
        assert column(copy_id, text) == column(api_id, text) and all(column(copy_id, text))
        methods = "SELECT indexdef FROM pg_indexes WHERE tablename = '%s' AND indexdef LIKE '%%_full_text%%'"
        for resource_id in (api_id, copy_id):
            assert ["USING gist" in d for d in column(resource_id, methods % resource_id)] == [True]
    # CKAN's own writes still work on the loaded table: a new row gets the next `_id` and is found
    new_row = {"ma": "PA005", "ten": "Phường Thủ Đức", "ty_le": 1.5}
    ckan.action.datastore_upsert(resource_id=copy_id, method="insert", force=True, records=[new_row])
    found = ckan.action.datastore_search(resource_id=copy_id, q="thu duc")
    assert [(r["_id"], r["ma"]) for r in found["records"]] == [(5, "PA005")]


def _versions(n: int, tag: str) -> pa.Table:
    return pa.table(
        {
            "ma": [f"{tag}{i:05d}" for i in range(n)],
            "ten": [f"Phường Thủ Đức {tag} {i}" for i in range(n)],
            "kinh_phi": pa.array([f"{i}.{i % 100:02d}" for i in range(n)]).cast(pa.decimal128(12, 2)),
            "luc": pa.array([dt.datetime(2025, 7, 1, 8, 30) + dt.timedelta(minutes=i) for i in range(n)]),
        }
    )


SWAP_FIELDS = [
    {"id": "ma", "type": "text", "info": {"label": "Mã"}},
    {"id": "ten", "type": "text", "info": {"label": "Tên"}},
    {"id": "kinh_phi", "type": "numeric", "info": {"label": "Kinh phí (đồng)"}},
    {"id": "luc", "type": "timestamp", "info": {"label": "Lúc"}},
]


def test_a_reload_is_swapped_in_whole_readers_see_the_old_rows_until_it_lands(stack_ready, resources):
    """Every row goes in; while a new version loads, readers see the previous one whole; a load
    that fails (duplicate key) leaves the previous version in place and no staging table behind."""
    write_url = stack_ready.ckan.datastore_write_url.get_secret_value()
    client, ckan = CatalogClient(stack_ready), ckan_client(stack_ready)
    rid = resources[1]
    first = _versions(25_000, "A")
    assert load_datastore(client, rid, SWAP_FIELDS, iter(first.to_batches(5_000)), primary_key=["ma"],
                          write_url=write_url) == 25_000  # fmt: skip
    seen: list[tuple[int, str]] = []

    def watched(table: pa.Table):
        for batch in table.to_batches(4_000):
            found = ckan.action.datastore_search(resource_id=rid, limit=1, sort="_id")
            seen.append((found["total"], found["records"][0]["ma"]))
            yield batch

    second = _versions(30_000, "B")
    assert load_datastore(client, rid, SWAP_FIELDS, watched(second), primary_key=["ma"],
                          write_url=write_url) == 30_000  # fmt: skip
    assert len(seen) == 8 and set(seen) == {(25_000, "A00000")}, seen
    result = ckan.action.datastore_search(resource_id=rid, filters={"ma": "B12345"})
    assert result["total"] == 1 and result["records"][0]["kinh_phi"] == 12345.45
    sql = f"SELECT kinh_phi::text AS t FROM \"{rid}\" WHERE ma = 'B00999'"
    exact = ckan.action.datastore_search_sql(sql=sql)
    assert exact["records"] == [{"t": "999.99"}]  # numeric, not a float's rendering
    assert result["records"][0]["luc"].startswith("2025-07-09T22:15:00")  # 12,345 min after 1 July 08:30
    assert ckan.action.datastore_search(resource_id=rid, limit=0)["total"] == 30_000
    hits = ckan.action.datastore_search(resource_id=rid, q="B29999")
    assert [r["ma"] for r in hits["records"]] == ["B29999"]
    types = {f["id"]: f["type"] for f in ckan.action.datastore_info(id=rid)["fields"]}
    assert types == {"ma": "text", "ten": "text", "kinh_phi": "numeric", "luc": "timestamp"}

    broken = pa.concat_tables([_versions(10, "C"), _versions(1, "C")])  # C00000 twice
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        load_datastore(client, rid, SWAP_FIELDS, iter(broken.to_batches()), primary_key=["ma"],
                       write_url=write_url)  # fmt: skip
    assert ckan.action.datastore_search(resource_id=rid, limit=0)["total"] == 30_000
    leftovers = ckan.action.datastore_search_sql(
        sql="SELECT name FROM \"_table_metadata\" WHERE name LIKE '_citydata_load%'"
    )["records"]
    assert leftovers == []
