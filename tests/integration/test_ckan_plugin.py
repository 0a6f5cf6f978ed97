"""The project's CKAN plugin (`citydata`, stack/ckan/ckanext-citydata): XLoader's row-by-row
fallback, which failed on this stack with {'user_id': ['User not found']} from the activity plugin,
loads a file with short lines; the DataTables preview's search box finds Vietnamese words; and, in
the browser, what a visitor types without accents finds datasets by their rows and rows in the preview."""

import contextlib
import uuid
from urllib.parse import parse_qs, urlsplit

import ckanapi
import pyarrow as pa
import pytest
import requests

from benchmarks.xloader_peer import xloader_run
from catalog.client import CatalogClient
from catalog.datastore import load_datastore
from citydata.clients import ckan_client
from tests.integration.browser import chromium, full_page_screenshot, wait_for_text

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


# --- in the browser: what a visitor types -----------------------------------------------------------
@pytest.fixture(scope="module")
def searchable(stack_ready):
    """Two public datasets whose ward and street names are only in their rows, each previewed by
    CKAN's DataTables view; their names, resources and views."""
    ckan = ckan_client(stack_ready)
    unique = uuid.uuid4().hex[:8]
    org = ckan.action.organization_create(name=f"test-uisearch-{unique}")
    rows = {
        f"test-uisearch-{unique}-0": [
            "Phường Thủ Đức",
            "Đường Võ Văn Ngân, Phường Thủ Đức",
            "Phường Tân Định",
        ],
        f"test-uisearch-{unique}-1": ["Phường Bến Thành", "Chợ Bến Thành", "Phường Sài Gòn"],
    }
    made = {}
    try:
        for name, wards in rows.items():
            pkg = ckan.action.package_create(
                name=name, owner_org=org["id"], notes="Bảng thử", title=f"Bảng {name}"
            )
            res = ckan.action.resource_create(
                package_id=pkg["id"], name="rows", url="http://example.invalid/x.csv"
            )
            table = pa.table({"ma": [f"P{i}" for i in range(len(wards))], "dia_chi": wards})
            fields = [{"id": "ma", "type": "text", "info": {}}, {"id": "dia_chi", "type": "text", "info": {}}]
            load_datastore(CatalogClient(stack_ready), res["id"], fields, iter(table.to_batches()),
                           write_url=stack_ready.ckan.datastore_write_url.get_secret_value())  # fmt: skip
            view = ckan.action.resource_view_create(
                resource_id=res["id"], view_type="datatables_view", title="t"
            )
            ckan.action.package_patch(id=pkg["id"], notes="Bảng thử (đã nạp)")  # indexed with its rows
            made[name] = (res["id"], view["id"])
        yield org["name"], made
    finally:
        for name in rows:
            with contextlib.suppress(ckanapi.NotFound):
                ckan.action.dataset_purge(id=name)
        ckan.action.organization_purge(id=org["id"])


@pytest.fixture
def browser(tmp_path):
    yield from chromium(tmp_path / "chromium")


def _search(browser, box_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    box = browser.find_element(By.ID, box_id)
    box.clear()
    box.send_keys(text, Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda b: parse_qs(urlsplit(b.current_url).query).get("q") == [text])
    wait_for_text(browser, f'"{text}"')  # the results page has loaded ('N datasets found for "..."')


def _listed(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    links = browser.find_elements(By.CSS_SELECTOR, ".dataset-list .dataset-heading a")
    return [a.get_attribute("href").rstrip("/").rsplit("/", 1)[-1] for a in links]


def test_typing_an_unaccented_street_in_the_dataset_search_finds_the_dataset_with_it_in_its_rows(
    stack_ready, searchable, browser
):
    org, made = searchable
    with_thu_duc, with_ben_thanh = list(made)
    shots = stack_ready.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    browser.get(f"{stack_ready.ckan.url}/dataset/")
    wait_for_text(browser, "Tổ chức")
    _search(browser, "field-giant-search", "vo van ngan")  # in no title or description: only a row
    wait_for_text(browser, f"Bảng {with_thu_duc}")
    assert parse_qs(urlsplit(browser.current_url).query)["q"] == ["vo van ngan"]
    assert with_thu_duc in _listed(browser)
    assert with_ben_thanh not in _listed(browser)
    full_page_screenshot(browser, shots / "ckan-search-row-value.png")
    for text, found in [("thu duc", with_thu_duc), ("ben thanh", with_ben_thanh)]:
        browser.get(f"{stack_ready.ckan.url}/organization/{org}")  # the agency's page, its search box
        _search(browser, "field-giant-search", text)
        assert _listed(browser) == [found], text


def test_typing_unaccented_words_in_the_preview_search_box_shows_the_matching_rows(
    stack_ready, searchable, browser
):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    _, made = searchable
    name = next(iter(made))
    resource_id, view_id = made[name]
    shots = stack_ready.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    browser.get(f"{stack_ready.ckan.url}/dataset/{name}/resource/{resource_id}/view/{view_id}")
    wait_for_text(browser, "Phường Tân Định")  # DataTables drew the rows

    def rows() -> list[str]:
        cells = browser.find_elements(By.CSS_SELECTOR, "table.dataTable tbody tr td")
        return sorted(c.text for c in cells if c.text.startswith(("Phường", "Đường")))

    box = browser.find_element(By.CSS_SELECTOR, "#dtprv_filter input")  # the table's search box
    street = "Đường Võ Văn Ngân, Phường Thủ Đức"
    searches = [
        ("thu duc", ["Phường Thủ Đức", street]),
        ("tan dinh", ["Phường Tân Định"]),
        ("VO VAN NGAN", [street]),
    ]
    for text, expected in searches:
        box.clear()
        box.send_keys(text, Keys.ENTER)  # CKAN's preview searches on Enter
        want = sorted(expected)
        wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))
        wait.until(lambda _, want=want: rows() == want)
        if text == "thu duc":
            full_page_screenshot(browser, shots / "ckan-preview-search.png")
