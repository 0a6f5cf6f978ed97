"""The project's CKAN plugin (`citydata`, stack/ckan/ckanext-citydata): XLoader's row-by-row
fallback, which failed on this stack with {'user_id': ['User not found']} from the activity plugin,
loads a file with short lines; the DataTables preview's search box finds Vietnamese words."""

import pyarrow as pa
import pytest
import requests

from benchmarks.xloader_peer import xloader_run
from catalog.client import CatalogClient
from catalog.datastore import load_datastore
from citydata.clients import ckan_client

pytestmark = pytest.mark.integration


def test_xloader_fallback_loads_a_file_with_missing_fields(stack_ready, unique, tmp_path):
    ckan = ckan_client(stack_ready)
    assert "citydata" in ckan.action.status_show()["extensions"]
    org = ckan.action.organization_create(name=f"test-xlfallback-{unique}")
    path = tmp_path / "ragged.csv"
    # A short line makes XLoader's COPY fail, so its job falls back to datastore_create from the worker.
    path.write_text("ma;ten;so\nA1;Phường Một;1\nA2;Phường Hai\nA3;Phường Ba;3\n", encoding="utf-8")
    try:
        run = xloader_run(stack_ready, org["name"], f"test-xlfallback-{unique}", path, timeout_s=180)
        assert run.completed, run.notes
        assert run.notes["rows"] == 3
    finally:
        ckan.action.dataset_purge(id=f"test-xlfallback-{unique}")
        ckan.action.organization_purge(id=org["id"])


def _preview_search(settings, view_id: str, text: str) -> dict:
    """What the DataTables preview's search box asks CKAN (its ajax form), as the browser does."""
    form = {"draw": "1", "start": "0", "length": "10", "search[value]": text,
            "order[0][column]": "0", "order[0][dir]": "asc"}  # fmt: skip
    token = settings.ckan.api_token.get_secret_value()
    response = requests.post(f"{settings.ckan.url}/datatables/ajax/{view_id}", data=form,
                             headers={"Authorization": token}, timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    return response.json()


def test_preview_search_box_finds_vietnamese_words_with_or_without_accents(stack_ready, unique):
    ckan = ckan_client(stack_ready)
    org = ckan.action.organization_create(name=f"test-dtsearch-{unique}")
    pkg = ckan.action.package_create(name=f"test-dtsearch-{unique}", owner_org=org["id"], notes="x")
    try:
        res = ckan.action.resource_create(
            package_id=pkg["id"], name="rows", url="http://example.invalid/x.csv"
        )
        wards = ["Phường Thủ Đức", "Phường Thủ Thiêm", "Phường Tân Định", "Phường Đức Nhuận"]
        table = pa.table({"ma": [f"P{i}" for i in range(4)], "phuong": wards})
        fields = [{"id": "ma", "type": "text", "info": {}}, {"id": "phuong", "type": "text", "info": {}}]
        load_datastore(CatalogClient(stack_ready), res["id"], fields, iter(table.to_batches()),
                       write_url=stack_ready.ckan.datastore_write_url.get_secret_value())  # fmt: skip
        view = ckan.action.resource_view_create(resource_id=res["id"], view_type="datatables_view", title="t")
        for text, expected in [("Thủ Đức", ["Phường Thủ Đức"]), ("thu duc", ["Phường Thủ Đức"]),
                               ("THU DUC", ["Phường Thủ Đức"]), ("tan dinh", ["Phường Tân Định"]),
                               ("Đức", ["Phường Thủ Đức", "Phường Đức Nhuận"])]:  # fmt: skip
            found = _preview_search(stack_ready, view["id"], text)
            assert sorted(r["phuong"] for r in found["data"]) == sorted(expected), text
            assert found["recordsFiltered"] == len(expected) and found["recordsTotal"] == 4
    finally:
        ckan.action.dataset_purge(id=pkg["id"])
        ckan.action.organization_purge(id=org["id"])


def test_dataset_search_finds_a_dataset_by_a_value_in_its_rows(stack_ready, unique):
    ckan = ckan_client(stack_ready)
    org = ckan.action.organization_create(name=f"test-rowsearch-{unique}")
    names = [f"test-rowsearch-{unique}-{i}" for i in range(2)]
    try:
        for name, ward in zip(names, ["Phường Thủ Đức", "Phường Bến Thành"], strict=True):
            pkg = ckan.action.package_create(name=name, owner_org=org["id"], notes="Bảng thử")
            res = ckan.action.resource_create(
                package_id=pkg["id"], name="rows", url="http://example.invalid/x.csv"
            )
            table = pa.table({"ma": ["001", "002"], "phuong": [ward, f"{ward} {unique}"]})
            fields = [{"id": "ma", "type": "text", "info": {}}, {"id": "phuong", "type": "text", "info": {}}]
            load_datastore(CatalogClient(stack_ready), res["id"], fields, iter(table.to_batches()),
                           write_url=stack_ready.ckan.datastore_write_url.get_secret_value())  # fmt: skip
            ckan.action.package_patch(id=pkg["id"], notes="Bảng thử (đã nạp)")  # indexed with its rows
        scope = f"organization:{org['name']}"
        for q in ("thu duc", "Thủ Đức", "THU DUC"):
            found = ckan.action.package_search(q=q, fq=scope)
            assert [p["name"] for p in found["results"]] == [names[0]], q
        assert ckan.action.package_search(q="ben thanh", fq=scope)["count"] == 1
        assert ckan.action.package_search(q="cau kieu", fq=scope)["count"] == 0
    finally:
        for name in names:
            ckan.action.dataset_purge(id=name)
        ckan.action.organization_purge(id=org["id"])
