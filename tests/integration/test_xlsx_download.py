"""The Excel download against the real stack: published for a throw-away agency, listed in CKAN,
downloaded anonymously from the catalog's URL and opened with openpyxl as an Excel user's tools
would, then compared with the agency's source file read with the csv module."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
import requests

from catalog.client import CatalogClient
from catalog.publish import publish
from tests.integration.test_publish import ROWS, World

pytestmark = pytest.mark.integration

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A code with leading zeros (stays text) beside the shared rows (one of them formula-like text).
XLSX_ROWS = [*ROWS, "0006,Trạm sạc Phú Mỹ Hưng,Phường Tân Mỹ,12,31/12/2024"]


@pytest.fixture
def world(stack_ready, unique, tmp_path):
    w = World(stack_ready, unique, tmp_path)
    yield w
    w.cleanup()


def test_xlsx_downloads_anonymously_and_holds_the_source_rows_typed(world):
    spec = world.spec("xlsx", rows=XLSX_ROWS)
    world.pull_clean(spec)
    result = publish(spec, world.settings, world.lake, world.client)
    assert result.version == 1 and "xlsx" in result.lake.manifest["files"]

    pkg = world.anon.action.package_show(id=spec.id)
    roles = {r["citydata_role"]: r for r in pkg["resources"]}
    res = roles["xlsx"]
    assert res["format"] == "XLSX" and res["name"] == "Dữ liệu (Excel XLSX)"
    assert "Từ điển dữ liệu" in res["description"] and "Không có bản Excel" not in pkg["notes"]
    facets = world.anon.action.package_search(
        fq=f"organization:{world.agency}", **{"facet.field": '["res_format"]'}
    )
    assert "XLSX" in facets["facets"]["res_format"]
    reply = requests.get(res["url"], timeout=30)  # the catalog's link, no credentials
    assert reply.status_code == 200 and reply.headers["Content-Type"] == XLSX_MIMETYPE
    assert int(res["size"]) == len(reply.content)
    book = openpyxl.load_workbook(io.BytesIO(reply.content))  # as Excel users' tools open it
    assert book.sheetnames == ["Dữ liệu", "Từ điển dữ liệu"]
    sheet = book["Dữ liệu"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:E{len(XLSX_ROWS) + 1}"

    # The agency's file, read with the csv module, cell by cell against the workbook.
    with world.path_of(spec).open(encoding="utf-8", newline="") as f:
        source = list(csv.reader(f))
    header, *cells = [list(r) for r in sheet.iter_rows(max_col=5)]
    dictionary_csv = requests.get(roles["dictionary"]["url"], timeout=30).content.decode("utf-8-sig")
    dictionary = list(csv.DictReader(io.StringIO(dictionary_csv)))
    assert [c.value for c in header] == [d["label"] for d in dictionary]
    assert header[0].value == "Mã trạm" and header[3].value == "Số cổng sạc"
    assert len(cells) == len(source) - 1
    for row, line in zip(cells, source[1:], strict=True):
        code, name, ward, ports, installed = line
        assert row[0].data_type == "s" and row[0].value == code  # "0006" keeps its zeros
        assert row[1].data_type == "s" and row[1].value == name  # =HYPERLINK(...) is text
        assert row[2].value == (ward or None)
        assert row[3].data_type == "n" and row[3].value == int(ports)
        assert row[4].is_date and row[4].number_format == "dd/mm/yyyy"
        assert row[4].value == dt.datetime.strptime(installed, "%d/%m/%Y")
    assert cells[1][1].value.startswith("=HYPERLINK") and cells[5][0].value == "0006"

    rows = list(book["Từ điển dữ liệu"].iter_rows(values_only=True))
    assert rows[0] == ("Tên cột", "Nhãn tiếng Việt", "Kiểu dữ liệu", "Mô tả", "Cho phép để trống")
    assert [r[:4] for r in rows[1:]] == [
        (d["column"], d["label"], d["type"], d["description"] or None) for d in dictionary
    ]

    # An unchanged re-run writes nothing, the workbook included.
    objects = world.public_keys()
    again = publish(spec, world.settings, world.lake, CatalogClient(world.settings))
    assert again.unchanged and again.lake.objects_written == 0 and again.catalog.writes == []
    assert world.public_keys() == objects


def test_above_the_row_limit_the_entry_says_why_there_is_no_xlsx(world):
    spec = world.spec("noxlsx", rows=XLSX_ROWS, publication={"xlsx_max_rows": 3})
    world.pull_clean(spec)
    result = publish(spec, world.settings, world.lake, world.client)
    assert "xlsx" not in result.lake.manifest["files"]
    assert result.lake.manifest["skipped"] == {"xlsx": {"reason": "rows", "value": 6, "limit": 3}}
    pkg = world.anon.action.package_show(id=spec.id)
    assert "xlsx" not in {r["citydata_role"] for r in pkg["resources"]}
    why = "Không có bản Excel (XLSX): phiên bản có 6 dòng, quá giới hạn 3 dòng đặt cho bản Excel."
    assert why in pkg["notes"]
    csv_res = next(r for r in pkg["resources"] if r["citydata_role"] == "csv")
    assert why in csv_res["description"]
    assert not [k for k in world.public_keys() if k.endswith(".xlsx")]
